"""ROIGuider: shapes at 512/384, zero boxes, gradients, cascade, GFM reverse path, size."""

from __future__ import annotations

import pytest
import torch

from cgalib.heads.prediction_head import HEATMAP_PRIOR_BIAS
from cgalib.heads.roi_guider import ROIGuider, ROIGuiderStage
from cgalib.layers import GuidedFusionModule
from cgalib.ops import boxes_to_rois

IN_CHANNELS = (8, 16, 24, 12)  # a four-level backbone; L3 is ignored
STRIDES = (4, 8, 16, 32)


def _small(**kw) -> ROIGuider:
    kw = {"channels": (8, 16, 32), "head_channels": 8, **kw}
    return ROIGuider(IN_CHANNELS, STRIDES, **kw)


def _features(size: int, batch: int = 2) -> list[torch.Tensor]:
    return [torch.rand(batch, c, size // s, size // s) for c, s in zip(IN_CHANNELS, STRIDES)]


def _boxes(size: int) -> list[torch.Tensor]:
    return [
        torch.tensor([[10.0, 20.0, 0.4 * size, 0.9 * size], [-20.0, 0.5 * size, 30.0, size + 9]]),
        torch.tensor([[0.0, 0.0, size, size]]),
    ]


@pytest.mark.parametrize(("size", "roi", "out"), [(512, 32, 64), (384, 24, 48)])
def test_output_shapes(size, roi, out):
    guider = _small(input_size=size)
    assert guider.roi_sizes == ((roi, roi), (roi // 2, roi // 2), (roi // 4, roi // 4))
    assert guider.output_size == (out, out)
    aligned = guider.align(_features(size), _boxes(size))
    assert [tuple(a.shape) for a in aligned] == [
        (3, c, roi >> i, roi >> i) for i, c in enumerate(IN_CHANNELS[:3])
    ]
    assert guider(_features(size), _boxes(size)).shape == (3, 17, out, out)


def test_roi_size_overrides_input_size():
    guider = _small(input_size=512, roi_size=(16, 12), num_outputs=1)
    assert guider.roi_sizes == ((16, 12), (8, 6), (4, 3))
    assert guider(_features(128), _boxes(128)).shape == (3, 1, 32, 24)


def test_rois_tensor_equals_box_list():
    guider = _small(input_size=128).eval()
    feats, boxes = _features(128), _boxes(128)
    torch.testing.assert_close(guider(feats, boxes_to_rois(boxes)), guider(feats, boxes))


@pytest.mark.parametrize("cascade", [1, 2])
def test_zero_boxes(cascade):
    guider = _small(input_size=128, cascade=cascade)
    feats = _features(128)
    out = guider(feats, [torch.zeros(0, 4), torch.zeros(0, 4)], return_all=True)
    assert [tuple(o.shape) for o in out] == [(0, 17, 16, 16)] * cascade
    sum(o.sum() for o in out).backward()  # the loss of an image without people
    assert all(p.grad is not None and not p.grad.any() for p in guider.parameters())


def test_every_parameter_receives_a_gradient():
    guider = _small(input_size=128, cascade=2)
    outs = guider(_features(128), _boxes(128), return_all=True)
    sum((o - 1).square().mean() for o in outs).backward()
    missing = [n for n, p in guider.named_parameters() if p.grad is None or not p.grad.any()]
    assert not missing


def test_cascade_returns_every_stage():
    guider = _small(input_size=128, cascade=2).eval()
    feats, boxes = _features(128), _boxes(128)
    outs = guider(feats, boxes, return_all=True)
    assert len(outs) == 2 and all(o.shape == (3, 17, 16, 16) for o in outs)
    torch.testing.assert_close(guider(feats, boxes), outs[-1])
    assert not torch.allclose(outs[0], outs[1])
    # The second stage refines the first stage's fused pyramid.
    assert guider.stages[1].in_channels == guider.stages[0].out_channels


def test_reverse_path_guides_each_level_with_the_coarser_result():
    guider = _small(input_size=128)
    stage = guider.stages[0]
    seen: dict[str, tuple] = {}
    for i, gfm in enumerate(stage.gfm):
        gfm.register_forward_hook(lambda m, args, out, i=i: seen.__setitem__(f"gfm{i}", args))
    for i, fuse in enumerate(stage.fuse):
        fuse.register_forward_hook(lambda m, args, out, i=i: seen.__setitem__(f"fuse{i}", out))
    stage.blocks[2].register_forward_hook(lambda m, args, out: seen.__setitem__("m2", out))
    guider(_features(128), _boxes(128))
    guide1, concat1 = seen["gfm1"]
    guide0, concat0 = seen["gfm0"]
    # Level 1: guided by M_2 (8 -> 2x2 ROI), concat = shuffle(M_2) (32 / 4) + M_1 (16).
    assert guide1 is seen["m2"] and guide1.shape == (3, 32, 2, 2)
    assert concat1.shape == (3, 32 // 4 + 16, 4, 4)
    # Level 0: guided by the reverse-path result R_1, not by the forward path's M_1.
    assert guide0 is seen["fuse1"] and guide0.shape == (3, 16, 4, 4)
    assert concat0.shape == (3, 16 // 4 + 8, 8, 8)


def test_gfm_reweights_with_the_guide():
    stage = ROIGuiderStage((8, 16, 24), (8, 16, 32), (0, 0, 0))
    assert isinstance(stage.gfm[0], GuidedFusionModule)
    aligned = [torch.rand(2, c, 8 >> i, 8 >> i) for i, c in enumerate((8, 16, 24))]
    base = stage(aligned)[0]
    stage.gfm[0].f.bias.data += 1.0  # F_g changes -> R_0 changes
    assert not torch.allclose(stage(aligned)[0], base)


def test_aligned_cells_follow_the_pixel_center_convention():
    # Features equal to the image x coordinate of each cell center: the aligned value of
    # column q is the center of the q-th of s equal slices of the box, x1 + (q + .5) bw / s.
    guider = _small(input_size=128)
    feats = [
        ((torch.arange(128 // s) + 0.5) * s).expand(1, c, 128 // s, 128 // s)
        for c, s in zip(IN_CHANNELS, STRIDES)
    ]
    box = torch.tensor([[30.0, 40.0, 90.0, 100.0]])
    for a in guider.align(feats, [box]):
        s = a.shape[-1]
        expected = 30.0 + (torch.arange(s) + 0.5) * 60.0 / s
        torch.testing.assert_close(a[0, 0, 0], expected)


def test_heads_start_at_the_focal_prior():
    guider = _small(input_size=128, cascade=2)
    for head in guider.heads:
        assert torch.all(head.predict[-1].bias == HEATMAP_PRIOR_BIAS)
    out = guider.eval()(_features(128), _boxes(128))
    assert out.sigmoid().mean() < 0.3


def test_invalid_inputs():
    guider = _small(input_size=128)
    feats, boxes = _features(128), _boxes(128)
    with pytest.raises(ValueError, match="one box tensor per image"):
        guider(feats, boxes[:1])
    with pytest.raises(ValueError, match="level 1"):
        guider([feats[0], feats[0], feats[2]], boxes)
    with pytest.raises(ValueError, match="at least 3"):
        guider(feats[:2], boxes)
    with pytest.raises(ValueError, match="multiples of 4"):
        _small(roi_size=10)
    with pytest.raises(ValueError, match="cascade"):
        _small(cascade=0)


def test_parameter_budget():
    def count(cascade: int) -> int:
        guider = ROIGuider((96, 192, 320, 256), STRIDES, input_size=512, cascade=cascade)
        return sum(p.numel() for p in guider.parameters())

    single, double = count(1), count(2)
    assert 12.7e6 * 0.95 <= single <= 12.7e6 * 1.05
    assert 6.7e6 * 0.95 <= double - single <= 6.7e6 * 1.05
