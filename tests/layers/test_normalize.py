"""ImageNormalize: ``(images - mean) / std`` per channel, after checking the batch."""

from __future__ import annotations

import pytest
import torch

from cgalib.layers.normalize import IMAGENET_MEAN, IMAGENET_STD, ImageNormalize


def test_each_channel_by_hand():
    images = torch.ones(1, 3, 2, 2)
    out = ImageNormalize()(images)
    for c in range(3):
        expected = (1.0 - IMAGENET_MEAN[c]) / IMAGENET_STD[c]
        torch.testing.assert_close(out[0, c], torch.full((2, 2), expected))


def test_other_statistics_and_the_dtype_is_kept():
    norm = ImageNormalize(mean=(0.5, 0.5, 0.5), std=(0.25, 0.5, 1.0))
    out = norm(torch.full((2, 3, 1, 1), 0.75, dtype=torch.float64))
    assert out.dtype == torch.float64 and out[0, :, 0, 0].tolist() == [1.0, 0.5, 0.25]


def test_the_statistics_are_not_saved_in_the_state_dict():
    assert ImageNormalize().state_dict() == {}


def test_uint8_and_wrong_shapes_are_refused():
    norm = ImageNormalize()
    with pytest.raises(ValueError, match="expected float images in 0..1, got torch.uint8"):
        norm(torch.zeros(1, 3, 4, 4, dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"expected RGB images \(B, 3, H, W\), got \(3, 4, 4\)"):
        norm(torch.zeros(3, 4, 4))
    with pytest.raises(ValueError, match=r"got \(1, 1, 4, 4\)"):
        norm(torch.zeros(1, 1, 4, 4))
    with pytest.raises(ValueError, match="expected RGB images"):
        norm([[0.0]])
