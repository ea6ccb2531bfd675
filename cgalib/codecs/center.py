"""The center codec (heatmap frame, stride 4): boxes <-> center heatmap, sizes and offsets.

Encode ([`center_targets()`][center_targets], CenterNet's targets for ``L_det``, ``L_wh``, ``L_off``)
and decode ([`decode_centers()`][decode_centers], CenterNet's ``ctdet_decode`` for one class) side by
side. Boxes are xyxy in *heatmap* coordinates (input pixels divided by the output stride).
A box's center cell is ``floor(center)``, its offset ``center - floor(center)`` and its
size ``(w, h)``; decoding the encoded maps at that cell returns the box exactly.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cgalib.codecs.gaussian import center_radius
from cgalib.utils.ordering import stable_topk

__all__ = ["center_targets", "decode_centers", "heatmap_nms"]


def center_targets(
    boxes: torch.Tensor,
    size: tuple[int, int],
    max_objects: int = 128,
    min_iou: float = 0.3,
) -> dict[str, torch.Tensor]:
    """Build the center-point detection targets of one image (CenterNet's ``L_det``,
    ``L_wh`` and ``L_off``), vectorised over boxes and without host synchronisation.

    For each box with positive width and height whose integer center
    ``(floor(cx), floor(cy))`` lies inside the map:

    - ``heatmap`` gets a Gaussian peak exactly as [`draw_gaussian()`][cgalib.codecs.draw_gaussian]
      draws it at the center with radius [`center_radius()`][cgalib.codecs.center_radius] ``(h, w)``
      (element-wise max over boxes);
    - the first ``max_objects`` such boxes, in input order, fill the regression slots:
      ``wh = (w, h)``, ``offset = center - floor(center)``, ``index = y * W + x`` and
      ``mask = True``. Unused slots are zero / ``False``.

    Boxes that are degenerate or whose center falls outside the map are skipped (clip
    boxes beforehand if partly-visible people should still count). Boxes past the first
    ``max_objects`` still get a heatmap peak but no slot.

    Args:
        boxes: xyxy boxes in heatmap coordinates.
        size: ``(H, W)`` of the heatmap.
        max_objects: number of regression slots ``M``.
        min_iou: the ``min_iou`` of [`center_radius()`][cgalib.codecs.center_radius].

    Returns:
        dict with ``heatmap`` `(1, H, W)`, ``wh`` `(M, 2)`, ``offset`` `(M, 2)` (float,
        ``boxes``' dtype), ``index`` `(M,)` int64 and ``mask`` `(M,)` bool, all on
        ``boxes``' device.

    Shape:
        - boxes: `(N, 4)`
        - heatmap: `(1, H, W)`; wh, offset: `(M, 2)`; index, mask: `(M,)`

    Examples:
        >>> t = center_targets(torch.tensor([[2.0, 2.0, 8.0, 6.5]]), (10, 12))
        >>> t["heatmap"].shape, t["heatmap"][0, 4, 5].item(), t["index"][0].item()
        (torch.Size([1, 10, 12]), 1.0, 53)
        >>> t["wh"][0].tolist(), t["offset"][0].tolist(), t["mask"].sum().item()
        ([6.0, 4.5], [0.0, 0.25], 1)
    """
    if boxes.dim() != 2 or boxes.shape[-1] != 4:
        raise ValueError(f"center_targets expects boxes (N, 4), got {tuple(boxes.shape)}")
    height, width = int(size[0]), int(size[1])
    if height <= 0 or width <= 0:
        raise ValueError(f"size must be a positive (H, W), got {tuple(size)}")
    if max_objects < 0:
        raise ValueError(f"max_objects must be >= 0, got {max_objects}")
    dtype = boxes.dtype if boxes.is_floating_point() else torch.float32
    boxes = boxes.to(dtype)
    device = boxes.device
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    center = (boxes[:, :2] + boxes[:, 2:]) / 2
    center_int = torch.floor(center)
    cx, cy = center_int[:, 0], center_int[:, 1]
    valid = (w > 0) & (h > 0) & (cx >= 0) & (cx < width) & (cy >= 0) & (cy < height)

    # Heatmap: one Gaussian square per box on the full map, max over boxes.
    radius = torch.trunc(center_radius(h.clamp(min=0), w.clamp(min=0), min_iou)).clamp(min=0)
    sigma = (2 * radius + 1) / 6
    ys = torch.arange(height, device=device, dtype=dtype)
    xs = torch.arange(width, device=device, dtype=dtype)
    dy = ys[None, :] - cy[:, None]  # (N, H)
    dx = xs[None, :] - cx[:, None]  # (N, W)
    inv = 1.0 / (2 * sigma * sigma)[:, None]
    gy = torch.exp(-dy * dy * inv) * ((dy.abs() <= radius[:, None]) & valid[:, None])
    gx = torch.exp(-dx * dx * inv) * (dx.abs() <= radius[:, None])
    heatmap = torch.zeros(1, height, width, device=device, dtype=dtype)
    if boxes.shape[0] > 0:
        heatmap[0] = (gy[:, :, None] * gx[:, None, :]).amax(0)

    # Regression slots: the first `max_objects` valid boxes, scattered by their rank.
    slot = torch.cumsum(valid.long(), 0) - 1
    keep = valid & (slot < max_objects)
    slot = torch.where(keep, slot, torch.full_like(slot, max_objects))  # overflow slot
    wh = torch.zeros(max_objects + 1, 2, device=device, dtype=dtype)
    offset = torch.zeros(max_objects + 1, 2, device=device, dtype=dtype)
    index = torch.zeros(max_objects + 1, device=device, dtype=torch.long)
    mask = torch.zeros(max_objects + 1, device=device, dtype=torch.bool)
    wh[slot] = torch.stack([w, h], 1)
    offset[slot] = center - center_int
    index[slot] = (cy * width + cx).long()
    mask[slot] = keep
    return {
        "heatmap": heatmap,
        "wh": wh[:max_objects],
        "offset": offset[:max_objects],
        "index": index[:max_objects],
        "mask": mask[:max_objects],
    }


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

    After a 3x3 max-pool NMS ([`heatmap_nms()`][heatmap_nms]), the ``k`` highest pixels ``(x, y)`` give
    centers ``(x + offset_x, y + offset_y)`` and boxes ``center -/+ (w, h) / 2`` with
    ``(w, h) = wh[:, :, y, x]``. Channel 0 of ``wh`` and ``offset`` is x, channel 1 is y, as
    [`center_targets()`][cgalib.codecs.center_targets] builds them. Negative sizes (an untrained
    network can regress them) are read as 0, so ``x1 <= x2`` and ``y1 <= y2`` always hold.
    If ``H * W < k``, ``k`` becomes ``H * W``.

    Args:
        heatmap: center probabilities (after sigmoid and, optionally,
            `alleviate_ambiguity()`).
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
    # descending, equal scores (the zeros past the last peak) in index order
    scores, index = stable_topk(heatmap_nms(heatmap).reshape(b, h * w), k)
    gather = index[:, None, :].expand(b, 2, k)
    size = wh.reshape(b, 2, h * w).gather(2, gather).transpose(1, 2).clamp(min=0)  # (B, k, 2)
    off = offset.reshape(b, 2, h * w).gather(2, gather).transpose(1, 2)
    xy = torch.stack([index % w, torch.div(index, w, rounding_mode="floor")], -1)
    center = xy.to(off.dtype) + off
    boxes = torch.cat([center - size / 2, center + size / 2], -1)
    return boxes, scores
