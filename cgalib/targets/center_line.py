"""Ground-truth center-line heatmaps ``M_x`` and ``M_y`` (paper, Center Line Regression)."""

from __future__ import annotations

import torch

from cgalib.targets.gaussian import center_radius

__all__ = ["center_line_heatmaps"]


def _line_profiles(
    lo: torch.Tensor,
    hi: torch.Tensor,
    center: torch.Tensor,
    half_width: torch.Tensor,
    n_along: int,
    n_across: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Distances to a line segment, split by axis: along ``[ceil(lo), floor(hi)]`` and
    across ``|t - center| <= half_width``. Returns `(N, n_along)` and `(N, n_across)`."""
    dtype, device = lo.dtype, lo.device
    t_along = torch.arange(n_along, device=device, dtype=dtype)
    t_across = torch.arange(n_across, device=device, dtype=dtype)
    d_along = torch.maximum(
        torch.ceil(lo)[:, None] - t_along, t_along - torch.floor(hi)[:, None]
    ).clamp(min=0)
    d_across = ((t_across - center[:, None]).abs() - half_width[:, None]).clamp(min=0)
    return d_along, d_across


def center_line_heatmaps(
    boxes: torch.Tensor, size: tuple[int, int], sigma: float = 1.4, min_iou: float = 0.3
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian center lines of boxes, horizontal (``M_x``) and vertical (``M_y``).

    For a box ``(x1, y1, x2, y2)`` in heatmap coordinates, with
    ``r = center_radius(y2 - y1, x2 - x1, min_iou)`` and line half-width
    ``d = floor(r / 6 + 0.5)``:

    - ``M_y`` is the vertical line through ``cx = floor((x1 + x2) / 2)``: pixels with
      ``|x - cx| <= d`` and ``ceil(y1) <= y <= floor(y2)`` are 1, and every pixel gets
      ``exp(-(dx**2 + dy**2) / (2 sigma**2))`` with ``dx = max(|x - cx| - d, 0)`` and
      ``dy = max(ceil(y1) - y, y - floor(y2), 0)`` (its distance to the line);
    - ``M_x`` is the same with x and y swapped: the horizontal line through
      ``cy = floor((y1 + y2) / 2)`` spanning ``ceil(x1) <= x <= floor(x2)``.

    Several boxes combine by element-wise max. The Gaussian is separable, so the maps are
    built from per-box row and column profiles without any loop over pixels or boxes.

    Args:
        boxes: xyxy boxes in heatmap coordinates.
        size: ``(H, W)`` of the maps.
        sigma: Gaussian sigma in heatmap pixels (paper: 1.4).
        min_iou: the ``min_iou`` of :func:`~cgalib.targets.center_radius` (paper: 0.3).

    Returns:
        ``(M_x, M_y)``, each `(H, W)` in ``[0, 1]``, on ``boxes``' device, in ``boxes``'
        dtype (float32 for integer boxes). No boxes give zero maps.

    Shape:
        - boxes: `(N, 4)`
        - M_x, M_y: `(H, W)`

    Examples:
        >>> import math
        >>> m_x, m_y = center_line_heatmaps(torch.tensor([[2.0, 1.0, 7.0, 9.0]]), (12, 10))
        >>> m_y.shape, m_y[1:10, 4].min().item(), m_x[5, 2:8].min().item()
        (torch.Size([12, 10]), 1.0, 1.0)
        >>> round(m_y[5, 6].item(), 4) == round(math.exp(-4 / (2 * 1.4**2)), 4)
        True
    """
    if boxes.dim() != 2 or boxes.shape[-1] != 4:
        raise ValueError(f"center_line_heatmaps expects boxes (N, 4), got {tuple(boxes.shape)}")
    height, width = int(size[0]), int(size[1])
    if height <= 0 or width <= 0:
        raise ValueError(f"size must be a positive (H, W), got {tuple(size)}")
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    dtype = boxes.dtype if boxes.is_floating_point() else torch.float32
    boxes = boxes.to(dtype)
    if boxes.shape[0] == 0:
        zeros = torch.zeros(height, width, device=boxes.device, dtype=dtype)
        return zeros, zeros.clone()
    x1, y1, x2, y2 = boxes.unbind(-1)
    radius = center_radius((y2 - y1).clamp(min=0), (x2 - x1).clamp(min=0), min_iou)
    half_width = torch.floor(radius / 6 + 0.5)
    cx = torch.floor((x1 + x2) / 2)
    cy = torch.floor((y1 + y2) / 2)
    inv = 1.0 / (2.0 * sigma * sigma)

    # M_y: vertical line, along y (rows) and across x (columns).
    dy, dx = _line_profiles(y1, y2, cx, half_width, height, width)
    m_y = (torch.exp(-dy * dy * inv)[:, :, None] * torch.exp(-dx * dx * inv)[:, None, :]).amax(0)
    # M_x: horizontal line, along x (columns) and across y (rows).
    dx, dy = _line_profiles(x1, x2, cy, half_width, width, height)
    m_x = (torch.exp(-dy * dy * inv)[:, :, None] * torch.exp(-dx * dx * inv)[:, None, :]).amax(0)
    return m_x, m_y
