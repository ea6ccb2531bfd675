"""CenterNet-style box targets for one image: center heatmap, sizes, offsets, indices."""

from __future__ import annotations

import torch

from cgalib.targets.gaussian import center_radius

__all__ = ["center_targets"]


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

    - ``heatmap`` gets a Gaussian peak exactly as :func:`~cgalib.targets.draw_gaussian`
      draws it at the center with radius :func:`~cgalib.targets.center_radius` ``(h, w)``
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
        min_iou: the ``min_iou`` of :func:`~cgalib.targets.center_radius`.

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
