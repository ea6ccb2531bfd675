"""The basic residual block (two 3x3 convolutions) used throughout TNet and the ROIGuider."""

from __future__ import annotations

import torch
from torch import nn

from cgalib.layers.conv_norm_act import ActLayer, ConvNormAct, NormLayer

__all__ = ["ResidualBlock"]


class ResidualBlock(nn.Module):
    """Basic residual block: ``act(conv3x3(conv3x3(x)) + shortcut(x))``.

    When ``stride == 2`` or the channel count changes, the shortcut is a projection
    (1x1 convolution with the same stride, then normalisation); otherwise it is the identity.

    Args:
        in_channels: channels of the input map.
        out_channels: channels of the output map.
        stride: 1, or 2 to halve the resolution (both the residual and the shortcut).
        norm_layer: normalisation constructor called with a channel count.
        act_layer: activation constructor called with no argument.

    Shape:
        - input: `(B, C_in, H, W)`
        - output: `(B, C_out, ceil(H / stride), ceil(W / stride))`

    Examples:
        >>> import torch
        >>> ResidualBlock(16, 32, stride=2)(torch.rand(2, 16, 24, 16)).shape
        torch.Size([2, 32, 12, 8])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int | None = None,
        stride: int = 1,
        norm_layer: NormLayer = nn.BatchNorm2d,
        act_layer: ActLayer = nn.ReLU,
    ) -> None:
        super().__init__()
        out_channels = in_channels if out_channels is None else out_channels
        if stride not in (1, 2):
            raise ValueError(f"ResidualBlock stride must be 1 or 2, got {stride}")
        self.conv1 = ConvNormAct(in_channels, out_channels, 3, stride, norm_layer, act_layer)
        self.conv2 = ConvNormAct(out_channels, out_channels, 3, 1, norm_layer, act_layer=None)
        if stride != 1 or in_channels != out_channels:
            self.shortcut: nn.Module = ConvNormAct(
                in_channels, out_channels, 1, stride, norm_layer, act_layer=None
            )
        else:
            self.shortcut = nn.Identity()
        self.act = act_layer()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv2(self.conv1(x)) + self.shortcut(x))
