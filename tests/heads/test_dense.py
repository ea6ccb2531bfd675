"""DenseHeads: the five branches on L0, CenterHeads and CenterLineBranch side by side."""

from __future__ import annotations

import torch

from cgalib.heads import CenterHeads, CenterLineBranch, DenseHeads


def test_the_outputs_of_both_parts_in_one_dict():
    torch.manual_seed(0)
    heads = DenseHeads(12, hidden_channels=8)
    assert isinstance(heads.center, CenterHeads) and isinstance(heads.center_line, CenterLineBranch)
    x = torch.randn(2, 12, 6, 4)
    out = heads(x)
    assert sorted(out) == ["heatmap", "line_x", "line_y", "offset", "wh"]
    for key, value in {**heads.center(x), **heads.center_line(x)}.items():
        torch.testing.assert_close(out[key], value)
    assert [out[k].shape[1] for k in ("heatmap", "wh", "offset", "line_x", "line_y")] == [
        1, 2, 2, 1, 1,
    ]  # fmt: skip


def test_hidden_channels_reach_every_branch():
    heads = DenseHeads(7, hidden_channels=3)
    convs = [m for m in heads.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 10  # five branches of conv3x3 + conv1x1
    assert {c.in_channels for c in convs[::2]} == {7} and {c.out_channels for c in convs[::2]} == {3}


def test_every_parameter_receives_a_gradient():
    heads = DenseHeads(5, hidden_channels=4)
    out = heads(torch.randn(1, 5, 4, 4))
    sum(v.square().sum() for v in out.values()).backward()
    assert all(p.grad is not None and p.grad.any() for p in heads.parameters())
