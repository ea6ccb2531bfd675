"""Gaussian peaks for heatmap targets: the center radius (paper, Center Line Regression) and
CenterNet-style Gaussian drawing."""

from __future__ import annotations

import math

import torch

__all__ = ["center_radius", "draw_gaussian"]


def center_radius(
    h: float | torch.Tensor, w: float | torch.Tensor, min_iou: float = 0.3
) -> float | torch.Tensor:
    """Radius around a box center inside which a shifted box keeps ``IoU >= min_iou``.

    The paper's formula (Center Line Regression), with ``h`` and ``w`` already in heatmap
    coordinates:

        b = h + w
        c = h * w * (1 - min_iou) / (1 + min_iou)
        r = (b - sqrt(b**2 - 4 * c)) / 2

    This is the smaller root of ``r**2 - b r + c = 0``. CornerNet/CenterNet's
    ``gaussian_radius`` uses ``(b + sqrt(...)) / 2`` in one of its cases, a known bug
    that is deliberately not copied. The discriminant is ``(h - w)**2 + 4 h w (1 - k)``
    with ``k = (1 - min_iou) / (1 + min_iou) <= 1``, so it is never negative for
    non-negative sizes.

    Args:
        h: box height(s) in heatmap pixels; a float or a tensor (elementwise).
        w: box width(s) in heatmap pixels, same kind as ``h`` (tensors broadcast).
        min_iou: the minimum IoU (paper: 0.3), in ``(0, 1]``.

    Returns:
        The radius, a float for float inputs, else a tensor of the broadcast shape.

    Shape:
        - h, w: any broadcastable shapes when tensors
        - output: the broadcast shape

    Examples:
        >>> round(center_radius(10.0, 10.0), 4)
        3.2063
        >>> center_radius(torch.tensor([10.0, 0.0]), torch.tensor([10.0, 0.0])).shape
        torch.Size([2])
    """
    if not 0.0 < min_iou <= 1.0:
        raise ValueError(f"min_iou must be in (0, 1], got {min_iou}")
    k = (1.0 - min_iou) / (1.0 + min_iou)
    if isinstance(h, torch.Tensor) or isinstance(w, torch.Tensor):
        device = (h if isinstance(h, torch.Tensor) else w).device
        h_t, w_t = torch.as_tensor(h, device=device), torch.as_tensor(w, device=device)
        b = h_t + w_t
        c = h_t * w_t * k
        return (b - torch.sqrt((b * b - 4.0 * c).clamp(min=0.0))) / 2.0
    if h < 0 or w < 0:
        raise ValueError(f"center_radius needs non-negative sizes, got h={h}, w={w}")
    b = h + w
    c = h * w * k
    return (b - math.sqrt(max(b * b - 4.0 * c, 0.0))) / 2.0


def draw_gaussian(
    heatmap: torch.Tensor, center: tuple[float, float] | torch.Tensor, radius: float
) -> torch.Tensor:
    """Max-composite a Gaussian peak onto ``heatmap`` in place, as CenterNet does.

    The radius is truncated to an integer ``r = max(int(radius), 0)``; the kernel covers the
    ``(2r + 1)``-pixel square around the integer center ``(floor(x), floor(y))`` with
    ``sigma = (2r + 1) / 6`` and value exactly 1 at the center. Parts of the square outside
    the map are clipped; each pixel keeps the larger of its old value and the kernel's.

    Args:
        heatmap: the map to draw on, `(..., H, W)`; every leading slice gets the peak.
        center: ``(x, y)`` in heatmap pixels.
        radius: the Gaussian radius, e.g. from [`center_radius()`][center_radius].

    Returns:
        ``heatmap`` itself (modified in place).

    Shape:
        - heatmap: `(..., H, W)`
        - output: `(..., H, W)`

    Examples:
        >>> hm = draw_gaussian(torch.zeros(5, 7), (3.6, 2.2), radius=1.9)
        >>> hm.shape, hm[2, 3].item(), hm.argmax().item() == 2 * 7 + 3
        (torch.Size([5, 7]), 1.0, True)
    """
    if heatmap.dim() < 2:
        raise ValueError(f"draw_gaussian expects a (..., H, W) map, got {tuple(heatmap.shape)}")
    height, width = heatmap.shape[-2:]
    cx, cy = (float(v) for v in center)
    x, y = math.floor(cx), math.floor(cy)
    r = max(int(radius), 0)
    sigma = (2 * r + 1) / 6.0
    left, right = min(x, r), min(width - x, r + 1)
    top, bottom = min(y, r), min(height - y, r + 1)
    if left + right <= 0 or top + bottom <= 0:  # the whole square lies outside the map
        return heatmap
    dev, dt = heatmap.device, heatmap.dtype if heatmap.is_floating_point() else torch.float32
    ys = torch.arange(-top, bottom, device=dev, dtype=dt)
    xs = torch.arange(-left, right, device=dev, dtype=dt)
    kernel = torch.exp(-(ys[:, None] ** 2 + xs[None, :] ** 2) / (2.0 * sigma * sigma))
    region = heatmap[..., y - top : y + bottom, x - left : x + right]
    torch.maximum(region, kernel.to(heatmap.dtype), out=region)
    return heatmap
