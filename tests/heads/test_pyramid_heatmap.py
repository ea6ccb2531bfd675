"""PyramidHeatmapHead: per-level 1x1 convolutions summed at level 0's size, equal to HRNetV2's
head (a 1x1 convolution over the concatenated upsampled levels)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from cgalib.heads.prediction_head import HEATMAP_PRIOR_BIAS
from cgalib.heads.pyramid_heatmap import PyramidHeatmapHead

CHANNELS = (6, 8, 10, 4)


def _features(batch=2, h=16, w=12):
    return [torch.randn(batch, c, h >> i, w >> i) for i, c in enumerate(CHANNELS)]


def _randomised(head: PyramidHeatmapHead) -> PyramidHeatmapHead:
    with torch.no_grad():  # the initial weights are tiny; make every level count
        for conv in head.convs:
            conv.weight.normal_()
        head.convs[0].bias.normal_()
    return head


def test_equals_a_1x1_convolution_over_the_concatenated_upsampled_levels():
    torch.manual_seed(0)
    head = _randomised(PyramidHeatmapHead(CHANNELS, 5))
    feats = _features()
    size = feats[0].shape[-2:]
    stacked = torch.cat(
        [feats[0]] + [F.interpolate(f, size=size, mode="bilinear", align_corners=False)
                      for f in feats[1:]], 1
    )  # fmt: skip
    weight = torch.cat([conv.weight for conv in head.convs], 1)
    expected = F.conv2d(stacked, weight, head.convs[0].bias)
    out = head(feats)
    assert out.shape == (2, 5, 16, 12)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)


def test_one_bias_at_the_prior_and_tiny_initial_weights():
    head = PyramidHeatmapHead(CHANNELS, 3)
    assert head.convs[0].bias.tolist() == pytest.approx([HEATMAP_PRIOR_BIAS] * 3)
    assert all(conv.bias is None for conv in head.convs[1:])
    assert all(conv.weight.abs().max() < 0.01 for conv in head.convs)
    torch.testing.assert_close(
        head([torch.zeros_like(f) for f in _features()]),
        torch.full((2, 3, 16, 12), HEATMAP_PRIOR_BIAS),
    )


def test_every_level_reaches_the_output_and_gets_a_gradient():
    torch.manual_seed(0)
    head = _randomised(PyramidHeatmapHead(CHANNELS, 2))
    feats = _features()
    base = head(feats)
    for i in range(1, len(feats)):
        changed = list(feats)
        changed[i] = changed[i] + 1.0
        assert not torch.allclose(head(changed), base), f"level {i} does not reach the output"
    head(feats).square().sum().backward()
    assert all(p.grad is not None and p.grad.any() for p in head.parameters())


def test_settings_and_errors():
    head = PyramidHeatmapHead([6, 8], 17)
    assert head.in_channels == (6, 8) and head.num_outputs == 17
    assert "in_channels=(6, 8), num_outputs=17" in repr(head)
    with pytest.raises(ValueError, match="positive channels per level, got \\[\\]"):
        PyramidHeatmapHead([], 17)
    with pytest.raises(ValueError, match="positive channels per level, got \\[6, 0\\]"):
        PyramidHeatmapHead([6, 0], 17)
    with pytest.raises(ValueError, match="num_outputs must be >= 1, got 0"):
        PyramidHeatmapHead([6], 0)
    with pytest.raises(ValueError, match="expects 2 levels, got 3"):
        head([torch.rand(1, 6, 4, 4), torch.rand(1, 8, 2, 2), torch.rand(1, 8, 1, 1)])
