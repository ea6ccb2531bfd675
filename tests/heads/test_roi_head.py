"""roi_sizes_for_input and RoiHead, the base every per-box head shares: ROI sizes from the
input size, input checks, the zero-box case, the output size."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cgalib.heads.roi_head import RoiHead, roi_sizes_for_input
from cgalib.ops import boxes_to_rois

IN_CHANNELS = (4, 6, 8, 5)  # a fourth level, which a head ignores
STRIDES = (4, 8, 16, 32)


def _features(batch: int = 2, size: int = 32) -> list[torch.Tensor]:
    return [torch.rand(batch, c, size // s, size // s) for c, s in zip(IN_CHANNELS, STRIDES)]


class _MeanHead(RoiHead):
    """The smallest head: each box's logits are a learnt scale times the mean of level 0."""

    def __init__(self, **kw) -> None:
        kw = {"roi_size": (3, 2), "num_outputs": 4, "sampling_ratio": 2, **kw}
        super().__init__(IN_CHANNELS, STRIDES, **kw)
        self.scale = nn.Parameter(torch.ones(()))

    def stage_logits(self, features, boxes, all_stages):
        rois = boxes_to_rois(boxes)
        means = features[0].mean((1, 2, 3))[rois[:, 0].long()]
        logits = self.scale * means[:, None, None, None].expand(
            -1, self.num_outputs, *self.output_size
        )
        return [logits]


def test_roi_sizes_for_input():
    assert roi_sizes_for_input((640, 384)) == ((40, 24), (20, 12), (10, 6))
    with pytest.raises(ValueError, match="multiples of 64"):
        roi_sizes_for_input(500)


def test_roi_sizes_per_level_halve_and_need_a_multiple_for_the_coarsest():
    assert roi_sizes_for_input(512) == ((32, 32), (16, 16), (8, 8))
    assert roi_sizes_for_input(256, num_levels=2) == ((16, 16), (8, 8))
    assert roi_sizes_for_input((96, 32), num_levels=2) == ((6, 2), (3, 1))  # multiples of 32
    assert roi_sizes_for_input(16, num_levels=1) == ((1, 1),)
    for bad in (0, -64, (64,), (64, 64, 64), (128, 96)):
        with pytest.raises(ValueError, match="input_size must be positive multiples of 64"):
            roi_sizes_for_input(bad)


def test_the_first_three_levels_are_kept_and_the_output_is_twice_the_roi():
    head = _MeanHead()
    assert head.in_channels == (4, 6, 8) and head.strides == (4, 8, 16)
    assert head.roi_size == (3, 2) and head.output_size == (6, 4)
    assert (
        repr(head)
        == "_MeanHead(roi_size=(3, 2), strides=(4, 8, 16), num_outputs=4, sampling_ratio=2)"
    )


def test_boxes_as_a_list_or_as_rois_give_the_subclass_logits():
    feats = _features()
    boxes = [torch.tensor([[0.0, 0.0, 8.0, 8.0]]), torch.tensor([[1.0, 1.0, 4.0, 4.0]] * 2)]
    out = _MeanHead()(feats, boxes)
    assert out.shape == (3, 4, 6, 4)
    means = feats[0].mean((1, 2, 3))
    torch.testing.assert_close(out[:, 0, 0, 0], means[[0, 1, 1]])
    torch.testing.assert_close(_MeanHead()(feats, boxes_to_rois(boxes)), out)
    (stage,) = _MeanHead()(feats, boxes, return_all=True)
    torch.testing.assert_close(stage, out)


def test_zero_boxes_give_empty_logits_with_zero_gradients():
    head = _MeanHead()
    feats = [f.requires_grad_() for f in _features()]
    out = head(feats, [torch.zeros(0, 4), torch.zeros(0, 4)])
    assert out.shape == (0, 4, 6, 4) and out.dtype == feats[0].dtype
    (out.sum() + 0.0).backward()
    assert head.scale.grad is not None and head.scale.grad == 0
    assert all(f.grad is not None and not f.grad.any() for f in feats[:3])
    assert feats[3].grad is None  # the ignored level is not read
    assert head(feats, torch.zeros(0, 5), return_all=True)[0].shape == (0, 4, 6, 4)


def test_bad_construction_and_inputs_name_the_head_and_the_problem():
    with pytest.raises(ValueError, match="RoiHead needs the channels and strides of at least 3"):
        RoiHead((4, 6), (4, 8), (3, 3), 1, 0)
    with pytest.raises(ValueError, match="_MeanHead needs num_outputs >= 1, got 0"):
        _MeanHead(num_outputs=0)
    head, feats = _MeanHead(), _features()
    boxes = [torch.zeros(1, 4), torch.zeros(1, 4)]
    with pytest.raises(ValueError, match="expects a sequence of at least 3 feature maps"):
        head(feats[0], boxes)
    with pytest.raises(ValueError, match="expects a sequence of at least 3 feature maps"):
        head(feats[:2], boxes)
    with pytest.raises(
        ValueError,
        match=r"level 1 must be \(B, 6, H, W\) with the batch of level 0, got \(2, 8, 2, 2\)",
    ):
        head([feats[0], feats[2], feats[2]], boxes)
    with pytest.raises(ValueError, match=r"level 2 must be \(B, 8, H, W\) .* got \(1, 8, 2, 2\)"):
        head([feats[0], feats[1], feats[2][:1]], boxes)
    with pytest.raises(ValueError, match=r"expects one box tensor per image \(2\), got 1"):
        head(feats, boxes[:1])
    with pytest.raises(NotImplementedError):
        RoiHead(IN_CHANNELS, STRIDES, (2, 2), 1, 0)(feats, boxes)
