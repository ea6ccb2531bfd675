"""Letterboxing of one image and its targets on the CPU (what data-loader workers do).

Coordinate conventions, shared by all of :mod:`cgalib.data`: keypoints are COCO *pixel
indices* (a keypoint at ``x`` lies on pixel column ``round(x)``, pixel centres at
integers), while boxes are continuous xyxy with pixel ``i`` spanning ``[i, i + 1)``, as
COCO's ``bbox`` of a segmentation. Resizing by ``s`` therefore maps a box coordinate
``b -> b * s`` and a keypoint coordinate ``x -> (x + 0.5) * s - 0.5``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["letterbox", "letterbox_target"]


def _resized_size(height: int, width: int, size: int) -> tuple[float, int, int]:
    scale = size / max(height, width)
    return scale, max(1, min(size, round(height * scale))), max(1, min(size, round(width * scale)))


def letterbox(image: torch.Tensor, size: int) -> tuple[torch.Tensor, float]:
    """Resize so the longer side is ``size`` (keeping the aspect ratio), pad to ``size x size``.

    Padding (zeros) goes right and bottom, so the content keeps the top-left origin and
    a point maps by the single factor ``scale`` (the shorter side is rounded to whole
    pixels, which moves points on it by at most half a pixel).

    Args:
        image: `(C, H, W)` ``uint8`` or float tensor.
        size: side of the square output.

    Returns:
        The `(C, size, size)` image (same dtype) and ``scale = size / max(H, W)``.

    Examples:
        >>> out, scale = letterbox(torch.zeros(3, 480, 640, dtype=torch.uint8), 512)
        >>> tuple(out.shape), out.dtype, scale
        ((3, 512, 512), torch.uint8, 0.8)
    """
    if image.dim() != 3:
        raise ValueError(f"letterbox expects an image (C, H, W), got shape {tuple(image.shape)}")
    if size < 1:
        raise ValueError(f"letterbox size must be positive, got {size}")
    c, h, w = image.shape
    scale, nh, nw = _resized_size(h, w, size)
    x = image
    if (nh, nw) != (h, w):
        x = F.interpolate(
            image[None].float(), size=(nh, nw), mode="bilinear", align_corners=False,
            antialias=scale < 1,
        )[0]  # fmt: skip
        if image.dtype == torch.uint8:
            x = x.round_().clamp_(0, 255).to(torch.uint8)
        else:
            x = x.to(image.dtype)
    out = image.new_zeros(c, size, size)
    out[:, :nh, :nw] = x
    return out, scale


def _letterbox_mask(mask: torch.Tensor, size: int) -> torch.Tensor:
    """Resize bool masks `(..., H, W)` like :func:`letterbox` (nearest pixel centre) and pad."""
    h, w = mask.shape[-2:]
    _, nh, nw = _resized_size(h, w, size)
    lead = mask.shape[:-2]
    flat = mask.reshape(-1, 1, h, w)
    out = torch.zeros(flat.shape[0], size, size, dtype=torch.bool, device=mask.device)
    if flat.shape[0] == 0:
        return out.reshape(*lead, size, size)
    if (nh, nw) != (h, w):
        flat = F.interpolate(flat.to(torch.uint8), size=(nh, nw), mode="nearest-exact")
    out[:, :nh, :nw] = flat[:, 0].bool()
    return out.reshape(*lead, size, size)


def letterbox_target(target: dict, scale: float, size: int) -> dict:
    """Apply the transform of :func:`letterbox` to a target dict (returns a new dict).

    ``boxes`` and ``crowd_boxes`` (xyxy) are multiplied by ``scale``; labelled keypoints
    (``v > 0``) map by ``(x + 0.5) * scale - 0.5``; ``masks`` `(N, H, W)` and
    ``ignore_mask`` `(H, W)` are resized (nearest) and padded to ``size x size``; ``scale``
    and ``size`` are recorded. Other entries are kept.

    Args:
        target: dict with any of ``boxes``, ``crowd_boxes``, ``keypoints``, ``masks``,
            ``ignore_mask``.
        scale: the factor returned by :func:`letterbox`.
        size: the letterbox size.

    Returns:
        The transformed target.

    Examples:
        >>> t = {"boxes": torch.tensor([[10.0, 20.0, 30.0, 40.0]]),
        ...      "keypoints": torch.tensor([[[9.5, 9.5, 2.0]]])}
        >>> out = letterbox_target(t, 2.0, 128)
        >>> kps = out["keypoints"]
        >>> out["boxes"].tolist(), kps[0, 0].tolist()
        ([[20.0, 40.0, 60.0, 80.0]], [19.5, 19.5, 2.0])
    """
    out = dict(target)
    for key in ("boxes", "crowd_boxes"):
        if key in out:
            out[key] = out[key] * scale
    if "keypoints" in out:
        kps = out["keypoints"].clone()
        labelled = kps[..., 2] > 0
        kps[..., :2] = torch.where(labelled[..., None], (kps[..., :2] + 0.5) * scale - 0.5, 0.0)
        out["keypoints"] = kps
    for key in ("masks", "ignore_mask"):
        if key in out:
            out[key] = _letterbox_mask(out[key], size)
    out["scale"] = torch.tensor(scale, dtype=torch.float32)
    out["size"] = torch.tensor([size, size], dtype=torch.int64)
    return out
