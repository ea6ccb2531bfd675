"""Decode center heatmaps into scored boxes (CenterNet's ``ctdet_decode``, one class)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["decode_centers", "heatmap_nms"]


def heatmap_nms(heatmap: torch.Tensor, kernel: int = 3) -> torch.Tensor:
    """Keep only local maxima of a heatmap (``kernel x kernel`` max-pool NMS).

    Args:
        heatmap: scores, e.g. center probabilities.
        kernel: odd pooling window.

    Returns:
        ``heatmap`` where it equals its neighbourhood maximum, 0 elsewhere.

    Shape:
        - heatmap: `(B, C, H, W)`
        - output: `(B, C, H, W)`

    Examples:
        >>> heat = torch.tensor([[[[0.25, 1.0, 0.75, 0.0, 0.5], [0.0, 0.5, 0.0, 0.0, 0.0]]]])
        >>> heatmap_nms(heat).tolist()
        [[[[0.0, 1.0, 0.0, 0.0, 0.5], [0.0, 0.0, 0.0, 0.0, 0.0]]]]
    """
    if kernel < 1 or kernel % 2 == 0:
        raise ValueError(f"kernel must be a positive odd integer, got {kernel}")
    peak = F.max_pool2d(heatmap, kernel, stride=1, padding=kernel // 2)
    return heatmap * (peak == heatmap)


def decode_centers(
    heatmap: torch.Tensor, wh: torch.Tensor, offset: torch.Tensor, k: int = 20
) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-``k`` centers of a center heatmap as scored boxes, in heatmap coordinates.

    After a 3x3 max-pool NMS (:func:`heatmap_nms`), the ``k`` highest pixels ``(x, y)`` give
    centers ``(x + offset_x, y + offset_y)`` and boxes ``center -/+ (w, h) / 2`` with
    ``(w, h) = wh[:, :, y, x]``. Channel 0 of ``wh`` and ``offset`` is x, channel 1 is y, as
    :func:`~cgalib.targets.center_targets` builds them. Negative sizes (an untrained
    network can regress them) are read as 0, so ``x1 <= x2`` and ``y1 <= y2`` always hold.
    If ``H * W < k``, ``k`` becomes ``H * W``.

    Args:
        heatmap: center probabilities (after sigmoid and, optionally,
            :func:`alleviate_ambiguity`).
        wh: box width and height maps.
        offset: sub-pixel center offset maps.
        k: number of boxes per image.

    Returns:
        ``(boxes, scores)``: xyxy boxes in heatmap coordinates and their heatmap scores,
        sorted by descending score.

    Shape:
        - heatmap: `(B, 1, H, W)`
        - wh, offset: `(B, 2, H, W)`
        - boxes: `(B, min(k, H*W), 4)`
        - scores: `(B, min(k, H*W))`

    Examples:
        >>> heat = torch.zeros(1, 1, 8, 8)
        >>> heat[0, 0, 2, 5] = 0.9
        >>> wh = torch.full((1, 2, 8, 8), 4.0)
        >>> offset = torch.full((1, 2, 8, 8), 0.5)
        >>> boxes, scores = decode_centers(heat, wh, offset, k=3)
        >>> boxes.shape, boxes[0, 0].tolist(), scores[0].tolist()
        (torch.Size([1, 3, 4]), [3.5, 0.5, 7.5, 4.5], [0.8999999761581421, 0.0, 0.0])
    """
    if heatmap.dim() != 4 or heatmap.shape[1] != 1:
        raise ValueError(f"decode_centers expects heatmap (B, 1, H, W), got {tuple(heatmap.shape)}")
    b, _, h, w = heatmap.shape
    for name, t in (("wh", wh), ("offset", offset)):
        if t.shape != (b, 2, h, w):
            raise ValueError(f"decode_centers expects {name} {(b, 2, h, w)}, got {tuple(t.shape)}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    k = min(k, h * w)
    scores, index = heatmap_nms(heatmap).reshape(b, h * w).topk(k)  # sorted descending
    gather = index[:, None, :].expand(b, 2, k)
    size = wh.reshape(b, 2, h * w).gather(2, gather).transpose(1, 2).clamp(min=0)  # (B, k, 2)
    off = offset.reshape(b, 2, h * w).gather(2, gather).transpose(1, 2)
    xy = torch.stack([index % w, torch.div(index, w, rounding_mode="floor")], -1)
    center = xy.to(off.dtype) + off
    boxes = torch.cat([center - size / 2, center + size / 2], -1)
    return boxes, scores
