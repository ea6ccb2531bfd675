"""Guided Fusion Module (paper eqs. 1-2): re-weight features with a coarser map's global context."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["GuidedFusionModule", "GFM"]


class GuidedFusionModule(nn.Module):
    """Re-weight fused features with the global context of coarser guide features.

    Following the paper (eqs. 1-2): the guide ``L_{i+1}`` is squeezed by global average
    pooling into a descriptor ``d`` (eq. 1), mixed across channels by a learned ``W``,
    passed through a sigmoid ``g`` and a convolution ``f`` that maps it to the guided
    features' channel count: ``F_g = f(g(W d))``. The output is
    ``F_g * x + x`` (eq. 2), the identity mapping keeping gradients healthy.

    ``F_g`` is a per-channel weight of shape `(B, C, 1, 1)`; it is exposed to forward
    hooks through the submodule ``f`` (its output is ``F_g``).

    Args:
        guide_channels: channels of the guide map (the coarser level).
        channels: channels of the features being guided.

    Shape:
        - guide: `(B, C_g, H_g, W_g)`, any resolution
        - x: `(B, C, H, W)`
        - output: `(B, C, H, W)`, equal to `F_g * x + x`

    Examples:
        >>> import torch
        >>> gfm = GuidedFusionModule(128, 96)
        >>> gfm(torch.rand(2, 128, 8, 8), torch.rand(2, 96, 16, 16)).shape
        torch.Size([2, 96, 16, 16])
    """

    def __init__(self, guide_channels: int, channels: int) -> None:
        super().__init__()
        self.guide_channels = guide_channels
        self.channels = channels
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.mix = nn.Conv2d(guide_channels, guide_channels, 1)  # W
        self.gate = nn.Sigmoid()  # g
        self.f = nn.Conv2d(guide_channels, channels, 1)  # f -> F_g

    def guide_weights(self, guide: torch.Tensor) -> torch.Tensor:
        """Return ``F_g = f(g(W d))`` for a guide map.

        Args:
            guide: guide features `(B, C_g, H_g, W_g)`.

        Returns:
            Channel weights `(B, C, 1, 1)`.
        """
        return self.f(self.gate(self.mix(self.pool(guide))))

    def forward(self, guide: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        if guide.dim() != 4 or x.dim() != 4 or guide.shape[0] != x.shape[0]:
            raise ValueError(
                "GuidedFusionModule expects guide (B, C_g, H_g, W_g) and x (B, C, H, W) "
                f"with the same B, got {tuple(guide.shape)} and {tuple(x.shape)}"
            )
        if guide.shape[1] != self.guide_channels or x.shape[1] != self.channels:
            raise ValueError(
                f"GuidedFusionModule({self.guide_channels}, {self.channels}) got guide with "
                f"{guide.shape[1]} and x with {x.shape[1]} channels"
            )
        return self.guide_weights(guide) * x + x

    def extra_repr(self) -> str:
        return f"guide_channels={self.guide_channels}, channels={self.channels}"


GFM = GuidedFusionModule
