"""CGANet's dense heads on L0: the CenterNet detection heads and the Center Line Branch."""

from __future__ import annotations

import torch
from torch import nn

from cgalib.heads.center import CenterHeads
from cgalib.heads.center_line import CenterLineBranch

__all__ = ["DenseHeads"]


class DenseHeads(nn.Module):
    """The five branches on the stride-4 level ``L0`` (paper Fig. 2): center heatmap, size
    and offset ([`CenterHeads`][cgalib.heads.CenterHeads]) and the two center lines
    ([`CenterLineBranch`][cgalib.heads.CenterLineBranch]).

    Args:
        in_channels: channels of ``L0`` (from the backbone's ``feature_info``).
        hidden_channels: channels of each branch's 3x3 convolution.

    Shape:
        - input: `(B, C, H, W)`, the level-0 features
        - output: dict with ``heatmap``, ``line_x``, ``line_y`` `(B, 1, H, W)` logits and
          ``wh``, ``offset`` `(B, 2, H, W)` in heatmap cells

    Examples:
        >>> out = DenseHeads(24, 16)(torch.rand(1, 24, 8, 8))
        >>> sorted(out), tuple(out["wh"].shape)
        (['heatmap', 'line_x', 'line_y', 'offset', 'wh'], (1, 2, 8, 8))
    """

    def __init__(self, in_channels: int, hidden_channels: int = 64) -> None:
        super().__init__()
        self.center = CenterHeads(in_channels, hidden_channels)
        self.center_line = CenterLineBranch(in_channels, hidden_channels)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {**self.center(x), **self.center_line(x)}
