"""Letterboxing on tensors: resize keeping the aspect ratio, pad to a multiple of 32."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["letterbox_batch"]


def letterbox_batch(
    images: list[torch.Tensor], input_size: int, multiple: int = 32
) -> tuple[torch.Tensor, torch.Tensor]:
    """Resize each image so its longer side is ``input_size`` and pad into one batch.

    Padding goes right and bottom (zeros), to the largest resized size in the batch
    rounded up to ``multiple``, so that input pixel ``p`` maps back to ``p / scale``.

    Args:
        images: RGB ``uint8`` or float (0..1) tensors `(3, H_i, W_i)` on one device.
        input_size: target length of the longer side.
        multiple: the padded height and width are multiples of this.

    Returns:
        A float batch `(B, 3, H, W)` in 0..1 and the per-image ``scale`` `(B,)`.

    Examples:
        >>> batch, scale = letterbox_batch([torch.zeros(3, 480, 640, dtype=torch.uint8)], 512)
        >>> tuple(batch.shape), [round(s, 3) for s in scale.tolist()]
        ((1, 3, 384, 512), [0.8])
    """
    if not images:
        raise ValueError("letterbox_batch needs at least one image")
    resized, scales = [], []
    for img in images:
        h, w = img.shape[-2:]
        scale = input_size / max(h, w)
        nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
        x = img.float()[None] / (255.0 if img.dtype == torch.uint8 else 1.0)
        if (nh, nw) != (h, w):
            x = F.interpolate(
                x, size=(nh, nw), mode="bilinear", align_corners=False, antialias=scale < 1
            )
        resized.append(x.clamp_(0, 1))
        scales.append(scale)
    height = math.ceil(max(r.shape[-2] for r in resized) / multiple) * multiple
    width = math.ceil(max(r.shape[-1] for r in resized) / multiple) * multiple
    batch = resized[0].new_zeros(len(images), 3, height, width)
    for i, r in enumerate(resized):
        batch[i, :, : r.shape[-2], : r.shape[-1]] = r[0]
    return batch, torch.tensor(scales, dtype=torch.float32)
