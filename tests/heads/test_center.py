"""CenterHeads: the heatmap, size and offset heads of the detection branch on L0."""

from __future__ import annotations

import torch

from cgalib.heads.center import CenterHeads
from cgalib.heads.prediction_head import HEATMAP_PRIOR_BIAS, PredictionHead


def test_three_separate_heads_with_their_channels():
    heads = CenterHeads(12, hidden_channels=6)
    for name, out in (("heatmap", 1), ("wh", 2), ("offset", 2)):
        head = getattr(heads, name)
        assert isinstance(head, PredictionHead)
        assert (head[0].in_channels, head[0].out_channels, head[-1].out_channels) == (12, 6, out)
    assert len(list(heads.parameters())) == 3 * 4  # weight and bias of two convs each, unshared


def test_outputs_are_each_heads_output():
    torch.manual_seed(0)
    heads = CenterHeads(8, hidden_channels=4)
    x = torch.randn(2, 8, 5, 6)
    out = heads(x)
    assert list(out) == ["heatmap", "wh", "offset"]
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        "heatmap": (2, 1, 5, 6), "wh": (2, 2, 5, 6), "offset": (2, 2, 5, 6),
    }  # fmt: skip
    for name, value in out.items():
        torch.testing.assert_close(value, getattr(heads, name)(x))


def test_heatmap_starts_at_the_prior_and_regressions_at_zero():
    out = CenterHeads(8)(torch.zeros(1, 8, 3, 3))
    torch.testing.assert_close(out["heatmap"], torch.full((1, 1, 3, 3), HEATMAP_PRIOR_BIAS))
    assert not out["wh"].any() and not out["offset"].any()
