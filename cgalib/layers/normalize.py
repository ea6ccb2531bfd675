"""The models' input preprocessing: check the image batch, normalise with ImageNet statistics."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "ImageNormalize"]

IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
"""Per-channel RGB mean of ImageNet, the statistics TNet is normalised with."""

IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
"""Per-channel RGB standard deviation of ImageNet."""


class ImageNormalize(nn.Module):
    """``(images - mean) / std`` on a float RGB batch in 0..1, after checking it.

    Models take float images in 0..1 (the convention of the whole library);
    [`to_float_image()`][cgalib.utils.to_float_image] converts ``uint8`` data, and the
    [`Predictor`][cgalib.Predictor] does so before calling a model. A ``uint8`` batch is
    refused here with a message saying so, rather than normalised as 0..255 values.

    Args:
        mean: per-channel mean.
        std: per-channel standard deviation.

    Shape:
        - images: `(B, 3, H, W)` float in 0..1
        - output: `(B, 3, H, W)`

    Examples:
        >>> ImageNormalize()(torch.full((1, 3, 8, 8), 0.485))[0, 0, 0, 0].item()
        0.0
    """

    def __init__(
        self,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
    ) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[1] != 3:
            shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images)
            raise ValueError(f"expected RGB images (B, 3, H, W), got {shape}")
        if not images.is_floating_point():
            raise ValueError(
                f"expected float images in 0..1, got {images.dtype} "
                "(convert with cgalib.utils.to_float_image)"
            )
        return (images - self.mean) / self.std
