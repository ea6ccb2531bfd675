import math

import pytest
import torch

from cgalib.losses import FocalLoss, focal_loss


def _centernet_neg_loss(pred, gt):
    """CenterNet's ``_neg_loss`` (src/lib/models/losses.py), verbatim in spirit."""
    pos_inds = gt.eq(1).float()
    neg_inds = gt.lt(1).float()
    neg_weights = torch.pow(1 - gt, 4)
    pos_loss = (torch.log(pred) * torch.pow(1 - pred, 2) * pos_inds).sum()
    neg_loss = (torch.log(1 - pred) * torch.pow(pred, 2) * neg_weights * neg_inds).sum()
    num_pos = pos_inds.sum()
    if num_pos == 0:
        return -neg_loss
    return -(pos_loss + neg_loss) / num_pos


def test_two_pixels_by_hand():
    pred = torch.tensor([0.9, 0.2], dtype=torch.float64)
    gt = torch.tensor([1.0, 0.3], dtype=torch.float64)
    pos = (1 - 0.9) ** 2 * math.log(0.9)
    neg = (1 - 0.3) ** 4 * 0.2**2 * math.log(1 - 0.2)
    assert focal_loss(pred, gt).item() == pytest.approx(-(pos + neg))
    assert focal_loss(pred, gt, alpha=1, beta=2).item() == pytest.approx(
        -(0.1 * math.log(0.9) + 0.49 * 0.2 * math.log(0.8))
    )


def test_normalised_by_the_number_of_peaks_at_least_one():
    pred = torch.tensor([0.7, 0.6, 0.1], dtype=torch.float64)
    two = focal_loss(pred, torch.tensor([1.0, 1.0, 0.0], dtype=torch.float64)).item()
    terms = [0.3**2 * math.log(0.7), 0.4**2 * math.log(0.6), 0.1**2 * math.log(0.9)]
    assert two == pytest.approx(-sum(terms) / 2)
    none = focal_loss(pred, torch.zeros(3, dtype=torch.float64)).item()
    neg = [0.7**2 * math.log(0.3), 0.6**2 * math.log(0.4), 0.1**2 * math.log(0.9)]
    assert none == pytest.approx(-sum(neg))


def test_matches_centernet_on_random_maps():
    pred = torch.rand(2, 3, 16, 16, dtype=torch.float64) * 0.98 + 0.01
    gt = torch.rand(2, 3, 16, 16, dtype=torch.float64) ** 3
    gt[0, 1, 4, 5] = gt[1, 2, 9, 9] = gt[1, 0, 0, 0] = 1.0
    torch.testing.assert_close(focal_loss(pred, gt), _centernet_neg_loss(pred, gt))


def test_logits_flag_matches_probabilities():
    logits = torch.randn(2, 1, 8, 8, dtype=torch.float64) * 3
    gt = torch.rand(2, 1, 8, 8, dtype=torch.float64)
    gt[0, 0, 3, 3] = 1
    torch.testing.assert_close(
        focal_loss(logits, gt, logits=True), focal_loss(logits.sigmoid(), gt, eps=1e-12)
    )


def test_function_and_module_agree():
    pred, gt = torch.rand(3, 17, 8, 8), torch.rand(3, 17, 8, 8)
    gt[gt > 0.95] = 1
    for kw in ({}, {"alpha": 3.0, "beta": 2.0}, {"logits": True}):
        torch.testing.assert_close(FocalLoss(**kw)(pred, gt), focal_loss(pred, gt, **kw))
    assert "alpha=2.0" in repr(FocalLoss())


@pytest.mark.parametrize("logits", [False, True])
def test_finite_loss_and_gradient_at_saturated_predictions(logits):
    if logits:
        pred = torch.tensor([-1e4, 1e4, -1e4, 1e4], requires_grad=True)
    else:
        pred = torch.tensor([0.0, 1.0, 0.0, 1.0], requires_grad=True)
    gt = torch.tensor([1.0, 1.0, 0.5, 0.0])  # peaks predicted 0 and 1, negatives 0 and 1
    loss = focal_loss(pred, gt, logits=logits)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(pred.grad).all()
    assert loss > 1.0  # the badly wrong pixels are heavily penalised, not NaN-masked


def test_gradient_pushes_peaks_up_and_background_down():
    pred = torch.tensor([0.5, 0.5], requires_grad=True)
    focal_loss(pred, torch.tensor([1.0, 0.0])).backward()
    assert pred.grad[0] < 0 < pred.grad[1]


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="same shape"):
        focal_loss(torch.rand(2, 1, 4, 4), torch.rand(2, 4, 4))


def test_weight_equals_boolean_masking_of_maps():
    pred = torch.rand(3, 5, 8, 6, dtype=torch.float64) * 0.98 + 0.01
    gt = torch.rand(3, 5, 8, 6, dtype=torch.float64) * 0.9
    gt[:, :, 4, 3] = 1.0
    weight = (torch.rand(3, 5, dtype=torch.float64) > 0.4).to(torch.float64)
    weight[0, 0], weight[0, 1] = 1.0, 0.0
    labelled = weight > 0
    masked = focal_loss(pred[labelled], gt[labelled])
    weighted = focal_loss(pred, gt, weight=weight[..., None, None])
    assert weighted.item() == pytest.approx(masked.item())
    # all weights zero: a zero loss that still reaches the prediction
    pred.requires_grad_(True)
    zero = focal_loss(pred, gt, weight=torch.zeros(3, 5, 1, 1, dtype=torch.float64))
    zero.backward()
    assert zero.item() == 0 and pred.grad is not None
