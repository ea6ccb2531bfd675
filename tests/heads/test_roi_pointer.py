"""ROIPointer: level mapping, per-box level selection, shapes, gradients and size."""

from __future__ import annotations

import pytest
import torch

from cgalib.heads.prediction_head import HEATMAP_PRIOR_BIAS
from cgalib.heads.roi_guider import ROIGuider
from cgalib.heads.roi_pointer import ROIPointer
from cgalib.ops import roi_align

IN_CHANNELS = (8, 16, 24, 12)
STRIDES = (4, 8, 16, 32)


def _small(**kw) -> ROIPointer:
    return ROIPointer(IN_CHANNELS, STRIDES, **{"channels": 8, "num_convs": 2, **kw})


def _features(size: int, batch: int = 2) -> list[torch.Tensor]:
    return [torch.rand(batch, c, size // s, size // s) for c, s in zip(IN_CHANNELS, STRIDES)]


def _square(x: float, y: float, side: float) -> list[float]:
    return [x, y, x + side, y + side]


def test_level_mapping_at_512_and_384():
    pointer = _small(input_size=512)
    assert pointer.canonical_size == 512.0
    boxes = torch.tensor(
        [_square(0, 0, s) for s in (20, 255, 256, 511, 512, 900)] + [[10, 10, 10, 400]]
    )
    assert pointer.roi_levels(boxes).tolist() == [0, 0, 1, 1, 2, 2, 0]
    pointer = _small(input_size=384)
    boxes = torch.tensor([_square(5, 5, s) for s in (191, 192, 383, 384)])
    assert pointer.roi_levels(boxes).tolist() == [0, 1, 1, 2]


@pytest.mark.parametrize(("size", "out"), [(512, 64), (384, 48)])
def test_output_shape_matches_roi_guider(size, out):
    pointer = _small(input_size=size)
    guider = ROIGuider(IN_CHANNELS, STRIDES, input_size=size, channels=(8, 16, 32))
    assert pointer.output_size == guider.output_size == (out, out)
    boxes = [torch.tensor([_square(4, 8, 100), _square(0, 0, size)]), torch.zeros(0, 4)]
    assert pointer(_features(size), boxes).shape == (2, 17, out, out)


def test_each_box_is_aligned_from_its_level():
    pointer = _small(input_size=128).eval()  # s = 8; levels split at 64 and 128 pixels
    feats = _features(128)
    rois = torch.tensor(
        [[1] + _square(30, 2, 70), [0] + _square(3, 4, 20), [0] + _square(-4, -4, 140)]
    )
    assert pointer.roi_levels(rois).tolist() == [1, 0, 2]
    seen = {}
    pointer.convs.register_forward_hook(lambda m, args, out: seen.setdefault("x", args[0]))
    pointer(feats, rois)
    for k, level in enumerate([1, 0, 2]):
        aligned = roi_align(feats[level], rois[k : k + 1], 8, 1 / STRIDES[level])
        torch.testing.assert_close(seen["x"][k : k + 1], pointer.project[level](aligned))


def test_zero_boxes():
    pointer = _small(input_size=128)
    out = pointer(_features(128), [torch.zeros(0, 4), torch.zeros(0, 4)], return_all=True)
    assert len(out) == 1 and out[0].shape == (0, 17, 16, 16)
    out[0].sum().backward()


def test_every_parameter_receives_a_gradient():
    pointer = _small(input_size=128)
    boxes = [
        torch.tensor([_square(3, 4, 20), _square(30, 2, 70)]),
        torch.tensor([_square(0, 0, 128)]),
    ]
    assert pointer.roi_levels(torch.cat(boxes)).tolist() == [0, 1, 2]
    (pointer(_features(128), boxes) - 1).square().mean().backward()
    missing = [n for n, p in pointer.named_parameters() if p.grad is None or not p.grad.any()]
    assert not missing
    assert torch.all(pointer.deconv.bias == HEATMAP_PRIOR_BIAS)


def test_invalid_inputs():
    pointer = _small(input_size=128)
    with pytest.raises(ValueError, match="one box tensor per image"):
        pointer(_features(128), [torch.zeros(1, 4)])
    with pytest.raises(ValueError, match="roi_size"):
        _small(roi_size=(8, 0))


def test_parameter_budget():
    pointer = ROIPointer((96, 192, 320, 256), STRIDES, input_size=512)
    assert 12.6e6 * 0.95 <= sum(p.numel() for p in pointer.parameters()) <= 12.6e6 * 1.05
