"""The Center Line Branch: two separate heads for the x and y center-line heatmaps."""

from __future__ import annotations

import torch
from torch import nn

from cgalib.heads.prediction_head import HEATMAP_PRIOR_BIAS, PredictionHead

__all__ = ["CenterLineBranch"]


class CenterLineBranch(nn.Module):
    """Predicts the Gaussian center lines ``M_x`` (horizontal) and ``M_y`` (vertical).

    The paper predicts the two directions with separate heads rather than one 2-channel
    map, which it found hard to regress ("Center Line Branch"). Outputs are logits; the
    sigmoid gives the line heatmaps used by Ambiguity Alleviation and the Dichotomy
    Extended Area.

    Args:
        in_channels: channels of the stride-4 feature map ``L0``.
        hidden_channels: channels of each head's 3x3 convolution.

    Shape:
        - input: `(B, C, H, W)`
        - output: dict with ``line_x`` and ``line_y``, each `(B, 1, H, W)` logits

    Examples:
        >>> out = CenterLineBranch(96)(torch.rand(1, 96, 8, 8))
        >>> tuple(out["line_x"].shape), tuple(out["line_y"].shape)
        ((1, 1, 8, 8), (1, 1, 8, 8))
    """

    def __init__(self, in_channels: int, hidden_channels: int = 64) -> None:
        super().__init__()
        self.line_x = PredictionHead(in_channels, 1, hidden_channels, HEATMAP_PRIOR_BIAS)
        self.line_y = PredictionHead(in_channels, 1, hidden_channels, HEATMAP_PRIOR_BIAS)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"line_x": self.line_x(x), "line_y": self.line_y(x)}
