"""CenterLineBranch: two separate heads for the x and y center lines (paper, "Center Line
Branch")."""

from __future__ import annotations

import torch

from cgalib.heads.center_line import CenterLineBranch
from cgalib.heads.prediction_head import HEATMAP_PRIOR_BIAS


def test_two_single_channel_heads_that_share_nothing():
    branch = CenterLineBranch(10, hidden_channels=4)
    assert branch.line_x is not branch.line_y
    assert branch.line_x[-1].out_channels == branch.line_y[-1].out_channels == 1
    assert branch.line_x[0].out_channels == 4 and branch.line_x[0].in_channels == 10
    assert not torch.equal(branch.line_x[0].weight, branch.line_y[0].weight)


def test_outputs_are_the_logits_of_each_head():
    torch.manual_seed(0)
    branch = CenterLineBranch(6, hidden_channels=4)
    x = torch.randn(2, 6, 7, 5)
    out = branch(x)
    assert sorted(out) == ["line_x", "line_y"]
    torch.testing.assert_close(out["line_x"], branch.line_x(x))
    torch.testing.assert_close(out["line_y"], branch.line_y(x))
    assert out["line_x"].shape == out["line_y"].shape == (2, 1, 7, 5)
    assert not torch.allclose(out["line_x"], out["line_y"])


def test_both_lines_start_at_the_heatmap_prior():
    out = CenterLineBranch(6)(torch.zeros(1, 6, 2, 2))
    for line in out.values():
        torch.testing.assert_close(line, torch.full((1, 1, 2, 2), HEATMAP_PRIOR_BIAS))
