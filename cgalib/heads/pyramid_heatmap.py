"""A keypoint heatmap head that reads every level of a feature pyramid (the top-down head)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from cgalib.heads.prediction_head import HEATMAP_PRIOR_BIAS

__all__ = ["PyramidHeatmapHead"]


class PyramidHeatmapHead(nn.Module):
    """Heatmap logits at the finest level, fused linearly from every pyramid level.

    Each level ``L_i`` gets its own 1x1 convolution to ``K`` channels; the coarser results
    are upsampled bilinearly (pixel centres aligned, ``align_corners=False``) to level 0's
    size and summed, with one bias:

        logits = W_0 L_0 + sum_{i > 0} up(W_i L_i) + b

    Bilinear upsampling commutes with 1x1 convolutions, so this equals HRNetV2's head (a
    1x1 convolution over the concatenation of the upsampled levels) while upsampling only
    ``K`` channels per level. It lets the coarse levels of a backbone's last stage reach
    the output (they carry the widest context), so every backbone parameter trains.

    Args:
        in_channels: channels of each level, finest first (e.g.
            ``backbone.feature_info.channels()``).
        num_outputs: ``K``, the heatmaps.
        bias: initial bias (CenterNet's prior, ``sigmoid(-2.19) ~= 0.1``).

    Shape:
        - input: a sequence of `(B, C_i, H_i, W_i)`, level 0 the finest
        - output: `(B, K, H_0, W_0)` logits

    Examples:
        >>> head = PyramidHeatmapHead((24, 48, 80, 64), 17)
        >>> feats = [torch.rand(2, c, 64 // 2**i, 48 // 2**i) for i, c in enumerate((24, 48, 80, 64))]
        >>> head(feats).shape
        torch.Size([2, 17, 64, 48])
    """

    def __init__(
        self, in_channels: Sequence[int], num_outputs: int, bias: float = HEATMAP_PRIOR_BIAS
    ) -> None:
        super().__init__()
        in_channels = [int(c) for c in in_channels]
        if not in_channels or any(c <= 0 for c in in_channels):
            raise ValueError(
                f"in_channels must list positive channels per level, got {in_channels}"
            )
        if num_outputs < 1:
            raise ValueError(f"num_outputs must be >= 1, got {num_outputs}")
        self.num_outputs = int(num_outputs)
        self.in_channels = tuple(in_channels)
        self.convs = nn.ModuleList(
            nn.Conv2d(c, num_outputs, 1, bias=i == 0) for i, c in enumerate(in_channels)
        )
        for conv in self.convs:
            nn.init.normal_(conv.weight, std=0.001)
        nn.init.constant_(self.convs[0].bias, bias)

    def forward(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        if len(features) != len(self.convs):
            raise ValueError(
                f"PyramidHeatmapHead expects {len(self.convs)} levels, got {len(features)}"
            )
        out = self.convs[0](features[0])
        size = out.shape[-2:]
        for conv, level in zip(self.convs[1:], features[1:]):
            coarse = conv(level)
            out = out + F.interpolate(coarse, size=size, mode="bilinear", align_corners=False)
        return out

    def extra_repr(self) -> str:
        return f"in_channels={self.in_channels}, num_outputs={self.num_outputs}"
