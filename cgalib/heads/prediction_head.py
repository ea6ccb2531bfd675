"""A CenterNet-style dense prediction head: 3x3 conv, ReLU, 1x1 conv."""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["PredictionHead", "HEATMAP_PRIOR_BIAS"]

HEATMAP_PRIOR_BIAS = -2.19
"""Initial bias of heatmap heads: ``sigmoid(-2.19) ~= 0.1``, as in CenterNet, so the focal loss
starts from a small foreground probability everywhere.
"""


class PredictionHead(nn.Sequential):
    """``conv3x3(in -> hidden) -> ReLU -> conv1x1(hidden -> out)`` with a configurable bias.

    Args:
        in_channels: channels of the input map.
        out_channels: predicted channels.
        hidden_channels: channels of the 3x3 convolution.
        bias: initial value of the last convolution's bias (``HEATMAP_PRIOR_BIAS`` for
            heatmaps, 0 for regressions).

    Shape:
        - input: `(B, C_in, H, W)`
        - output: `(B, C_out, H, W)`, raw values (logits for heatmaps)

    Examples:
        >>> head = PredictionHead(96, 1, bias=HEATMAP_PRIOR_BIAS)
        >>> head(torch.rand(2, 96, 16, 16)).shape
        torch.Size([2, 1, 16, 16])
    """

    def __init__(
        self, in_channels: int, out_channels: int, hidden_channels: int = 64, bias: float = 0.0
    ) -> None:
        super().__init__(
            nn.Conv2d(in_channels, hidden_channels, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden_channels, out_channels, 1),
        )
        for m in self:
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5))
                nn.init.zeros_(m.bias)
        nn.init.constant_(self[-1].bias, bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102 - documented on the class
        return super().forward(x)
