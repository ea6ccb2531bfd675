"""Pixel-shuffle fusion: upsample the coarser map by sub-pixel rearrangement and concatenate."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ShuffleFusion", "pixel_shuffle"]


def pixel_shuffle(x: torch.Tensor, scale: int) -> torch.Tensor:
    """Sub-pixel rearrangement ``(B, C r^2, H, W) -> (B, C, rH, rW)``, as ``F.pixel_shuffle``.

    Written as a reshape/permute so that it also works backward on an empty batch (where
    ``F.pixel_shuffle``'s backward fails in PyTorch 2.x) and exports to any runtime.

    Examples:
        >>> x = torch.arange(8.0).view(1, 8, 1, 1)
        >>> torch.equal(pixel_shuffle(x, 2), torch.nn.functional.pixel_shuffle(x, 2))
        True
    """
    b, c, h, w = x.shape
    out = c // (scale * scale)
    x = x.reshape(b, out, scale, scale, h, w).permute(0, 1, 4, 2, 5, 3)
    return x.reshape(b, out, h * scale, w * scale)


class ShuffleFusion(nn.Module):
    """``C(S(coarse), fine)``: pixel shuffle of the coarser map, concatenated with the finer one.

    The shuffle (Shi et al. 2016) turns `(C, H, W)` into `(C / r^2, rH, rW)` with no
    parameters and no deconvolution aliasing (paper, "ROIguider"). The shuffled part
    comes first in the concatenation.

    Args:
        coarse_channels: channels of the coarser map (divisible by ``scale**2``).
        fine_channels: channels of the finer map.
        scale: upsampling factor ``r``.

    Attributes:
        out_channels: ``coarse_channels // scale**2 + fine_channels``.

    Shape:
        - coarse: `(B, C_c, H, W)`
        - fine: `(B, C_f, rH, rW)`
        - output: `(B, C_c / r^2 + C_f, rH, rW)`

    Examples:
        >>> import torch
        >>> fuse = ShuffleFusion(128, 64)
        >>> fuse(torch.rand(1, 128, 8, 8), torch.rand(1, 64, 16, 16)).shape
        torch.Size([1, 96, 16, 16])
    """

    def __init__(self, coarse_channels: int, fine_channels: int, scale: int = 2) -> None:
        super().__init__()
        if coarse_channels % (scale * scale):
            raise ValueError(
                f"ShuffleFusion needs coarse_channels divisible by scale**2={scale * scale}, "
                f"got {coarse_channels}"
            )
        self.coarse_channels = coarse_channels
        self.fine_channels = fine_channels
        self.scale = scale
        self.out_channels = coarse_channels // (scale * scale) + fine_channels

    def forward(self, coarse: torch.Tensor, fine: torch.Tensor) -> torch.Tensor:
        up = pixel_shuffle(coarse, self.scale)
        if up.shape[0] != fine.shape[0] or up.shape[-2:] != fine.shape[-2:]:
            raise ValueError(
                f"ShuffleFusion: shuffled coarse map {tuple(up.shape)} does not match the "
                f"fine map {tuple(fine.shape)} in batch or size (coarse must be 1/{self.scale})"
            )
        return torch.cat([up, fine], dim=1)

    def extra_repr(self) -> str:
        return (
            f"coarse_channels={self.coarse_channels}, fine_channels={self.fine_channels}, "
            f"scale={self.scale}"
        )
