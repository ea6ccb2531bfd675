"""Anchor-free person detection heads on L0: center heatmap, width/height and offset."""

from __future__ import annotations

import torch
from torch import nn

from cgalib.heads.prediction_head import HEATMAP_PRIOR_BIAS, PredictionHead

__all__ = ["CenterHeads"]


class CenterHeads(nn.Module):
    """The three CenterNet heads of CGANet's detection branch.

    All outputs are in heatmap (output-stride) coordinates.

    Args:
        in_channels: channels of the stride-4 feature map ``L0``.
        hidden_channels: channels of each head's 3x3 convolution.

    Shape:
        - input: `(B, C, H, W)`
        - output: dict with ``heatmap`` `(B, 1, H, W)` (center logits), ``wh``
          `(B, 2, H, W)` (box width and height in heatmap pixels) and ``offset``
          `(B, 2, H, W)` (sub-pixel center offset)

    Examples:
        >>> out = CenterHeads(96)(torch.rand(1, 96, 8, 8))
        >>> {k: tuple(v.shape) for k, v in out.items()}
        {'heatmap': (1, 1, 8, 8), 'wh': (1, 2, 8, 8), 'offset': (1, 2, 8, 8)}
    """

    def __init__(self, in_channels: int, hidden_channels: int = 64) -> None:
        super().__init__()
        self.heatmap = PredictionHead(in_channels, 1, hidden_channels, HEATMAP_PRIOR_BIAS)
        self.wh = PredictionHead(in_channels, 2, hidden_channels)
        self.offset = PredictionHead(in_channels, 2, hidden_channels)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"heatmap": self.heatmap(x), "wh": self.wh(x), "offset": self.offset(x)}
