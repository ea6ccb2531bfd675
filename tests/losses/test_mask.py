"""The per-box mask loss: BCE against a slow reference, weights, Dice."""

from __future__ import annotations

import math

import pytest
import torch

from cgalib.losses import MaskLoss, mask_loss


def test_bce_matches_the_formula():
    logits = torch.tensor([[[2.0, -1.0]]])
    target = torch.tensor([[[1.0, 1.0]]])
    expected = (math.log1p(math.exp(-2.0)) + math.log1p(math.exp(1.0))) / 2
    assert mask_loss(logits, target).item() == pytest.approx(expected, rel=1e-6)


def test_weight_zero_boxes_do_not_count():
    logits = torch.zeros(2, 3, 3)
    logits[1] = 50.0
    target = torch.zeros(2, 3, 3)
    assert mask_loss(logits, target, torch.tensor([1.0, 0.0])).item() == pytest.approx(math.log(2))
    assert mask_loss(logits, target, torch.zeros(2)).item() == 0.0


def test_dice_adds_the_overlap_term():
    target = torch.zeros(1, 4, 4)
    target[0, :2] = 1
    logits = torch.zeros(1, 4, 4)
    plain = mask_loss(logits, target)
    with_dice = MaskLoss(dice=1.0)(logits, target)
    dice = 1 - (2 * 4.0 + 1) / (8.0 + 8.0 + 1)  # p = 0.5 everywhere
    assert (with_dice - plain).item() == pytest.approx(dice, rel=1e-5)
    with pytest.raises(ValueError, match="one shape"):
        mask_loss(torch.zeros(1, 2, 2), torch.zeros(1, 3, 3))
