"""Convolution followed by normalisation and activation, the unit every block is built from."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

__all__ = ["ActLayer", "ConvNormAct", "NormLayer"]

NormLayer = Callable[[int], nn.Module]
"""A normalisation constructor called with the channel count, e.g. ``nn.BatchNorm2d``."""

ActLayer = Callable[[], nn.Module]
"""An activation constructor called with no argument, e.g. ``nn.ReLU``."""


class ConvNormAct(nn.Sequential):
    """``Conv2d -> norm -> act`` with "same" padding for odd kernels.

    Args:
        in_channels: channels of the input map.
        out_channels: channels of the output map.
        kernel_size: square kernel size (odd).
        stride: convolution stride.
        norm_layer: normalisation constructor called with ``out_channels``; ``None`` for none.
        act_layer: activation constructor called with no argument; ``None`` for none.

    Shape:
        - input: `(B, C_in, H, W)`
        - output: `(B, C_out, H / stride, W / stride)`

    Examples:
        >>> import torch
        >>> ConvNormAct(3, 8, 3, stride=2)(torch.rand(1, 3, 32, 32)).shape
        torch.Size([1, 8, 16, 16])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        norm_layer: NormLayer | None = nn.BatchNorm2d,
        act_layer: ActLayer | None = nn.ReLU,
    ) -> None:
        layers: list[nn.Module] = [
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel_size,
                stride=stride,
                padding=kernel_size // 2,
                bias=norm_layer is None,
            )
        ]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if act_layer is not None:
            layers.append(act_layer())
        super().__init__(*layers)
