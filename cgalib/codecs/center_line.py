"""The center-line codec (heatmap frame): boxes <-> the Gaussian center lines ``M_x``, ``M_y``.

Encode: [`center_line_heatmaps()`][center_line_heatmaps] draws each box's horizontal and vertical center
line (paper, "Center Line Regression"). Decode: [`dichotomy_extend_area()`][dichotomy_extend_area] reads where
a box's center lines end, by bisection from the box's sides (paper Algorithm 1, the
Dichotomy Extended Area): decoding the encoded lines from a box whose sides fall short of
the line ends recovers the original box within a pixel. Boxes are xyxy in heatmap
coordinates.
"""

from __future__ import annotations

import torch

from cgalib.codecs.gaussian import center_radius
from cgalib.ops.boxes import OUTWARD, box_side_sizes, side_vector

__all__ = ["center_line_heatmaps", "dichotomy_extend_area", "dichotomy_extend_path"]


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
        min_iou: the ``min_iou`` of [`center_radius()`][cgalib.codecs.center_radius] (paper: 0.3).

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


def dichotomy_extend_area(
    boxes: torch.Tensor,
    center_line_x: torch.Tensor,
    center_line_y: torch.Tensor,
    ratio: float = 0.09,
    thre: float = 0.08,
    max_iters: int = 10,
) -> torch.Tensor:
    """Extend each box side to where its center line ends, by bisection (paper Algorithm 1).

    Each of the four sides of every box is searched independently, from the *original*
    box. With ``size`` the box height for top/bottom and its width for left/right:

    1. the side starts ``offset = ratio * size / 2`` outside the box;
    2. ``max_iters`` times: ``offset`` halves, the center line is sampled at the side's
       current position, and the side moves **outward** by ``offset`` if the score is
       above ``thre``, **inward** otherwise;
    3. the result is clamped so that each side moves outward by between 0 and
       ``ratio * size``: the box never shrinks and never grows past the largest reachable
       extension. (The bisection alone already stays strictly inside these bounds since
       ``ratio * size / 2 * (1/2 + 1/4 + ...) < ratio * size / 2``; the clamp makes both
       properties hold exactly, also for odd inputs.)

    Top/bottom sides sample ``center_line_y`` in the box's center column
    ``floor((x1 + x2) / 2)``, left/right sides sample ``center_line_x`` in its center row
    ``floor((y1 + y2) / 2)``: the center cell, where [`center_line_heatmaps()`][center_line_heatmaps] draws the
    lines and [`decode_centers()`][cgalib.codecs.decode_centers] finds the peak. Along the side's
    direction sampling is nearest-pixel: a position ``v`` reads index ``floor(v + 0.5)``,
    the pixel whose center is nearest. Samples outside the map read 0.

    Note:
        Algorithm 1 as printed in the paper moves the side *outward when the score is at
        most* ``thre``, which pushes every side that ends off the line to the maximum
        extension. This implements the intended rule (outward while on the line), which
        the text describes: the side converges to the end of the line.

    Implementation: all boxes, sides and images at once on the maps' device. The center
    row of ``center_line_x`` (and the center column of ``center_line_y``) of each box is
    read once into a 1-D profile, zero-padded by one pixel each side for the outside
    reads, and thresholded into +-1 steps; each iteration is then a clamp, a gather and
    a fused multiply-add on `(..., N, 4)` positions, with no Python loop over boxes and no
    host synchronisation.

    Args:
        boxes: xyxy boxes in heatmap coordinates.
        center_line_x: horizontal center-line probabilities ``M_x`` (after sigmoid).
        center_line_y: vertical center-line probabilities ``M_y`` (after sigmoid).
        ratio: maximum extension per side, relative to the box size (the paper's
            ``ratio``).
        thre: center-line score above which a side is on the line (the paper's ``thre``).
        max_iters: bisection steps (paper: 10).

    Returns:
        The extended boxes, same shape and dtype as ``boxes``.

    Shape:
        - boxes: `(..., N, 4)`
        - center_line_x, center_line_y: `(..., H, W)`, the same leading dims as ``boxes``
          (none for a single image)
        - output: `(..., N, 4)`

    Examples:
        >>> m_y = torch.zeros(64, 64)
        >>> m_y[10:51, 30] = 1.0  # a vertical line from y=10 to y=50
        >>> m_x = torch.zeros(64, 64)
        >>> box = torch.tensor([[20.0, 13.0, 40.0, 50.0]])  # top 3 px short of the end
        >>> out = dichotomy_extend_area(box, m_x, m_y, ratio=0.2)  # up to 7.4 px per side
        >>> out.shape, [round(v, 1) for v in out[0].tolist()]  # to the line's pixel edges
        (torch.Size([1, 4]), [20.0, 9.5, 40.0, 50.5])
    """
    return _extend_area(boxes, center_line_x, center_line_y, ratio, thre, max_iters, False)


def dichotomy_extend_path(
    boxes: torch.Tensor,
    center_line_x: torch.Tensor,
    center_line_y: torch.Tensor,
    ratio: float = 0.09,
    thre: float = 0.08,
    max_iters: int = 10,
) -> torch.Tensor:
    """Where each box side stands after every bisection step of
    [`dichotomy_extend_area()`][dichotomy_extend_area] (to draw or inspect the search).

    The same search, in the same code: step 0 is each side's start, ``ratio * size / 2``
    outside the box, and step ``i`` its position after the ``i``-th move. The last step
    is the search's result before the final clamp:
    ``dichotomy_extend_area(...)`` is ``boxes + outward * clamp((path[-1] - boxes) *
    outward, 0, ratio * size)`` with ``outward = (-1, -1, 1, 1)``.

    Args:
        boxes: xyxy boxes in heatmap coordinates.
        center_line_x: horizontal center-line probabilities ``M_x`` (after sigmoid).
        center_line_y: vertical center-line probabilities ``M_y`` (after sigmoid).
        ratio: maximum extension per side, relative to the box size.
        thre: center-line score above which a side is on the line.
        max_iters: bisection steps.

    Returns:
        The side positions, in ``boxes``' dtype.

    Raises:
        ValueError: as [`dichotomy_extend_area()`][dichotomy_extend_area].

    Shape:
        - boxes: `(..., N, 4)`
        - center_line_x, center_line_y: `(..., H, W)`
        - output: `(max_iters + 1, ..., N, 4)`

    Examples:
        >>> m_y = torch.zeros(64, 64)
        >>> m_y[10:51, 30] = 1.0  # a vertical line from y=10 to y=50
        >>> box = torch.tensor([[20.0, 13.0, 40.0, 50.0]])  # height 37: reach 0.2 * 37 / 2
        >>> path = dichotomy_extend_path(box, torch.zeros(64, 64), m_y, ratio=0.2, max_iters=2)
        >>> path.shape, [round(v, 2) for v in path[:, 0, 1].tolist()]  # the top side
        (torch.Size([3, 1, 4]), [9.3, 11.15, 10.22])
    """
    return _extend_area(boxes, center_line_x, center_line_y, ratio, thre, max_iters, True)


def _extend_area(
    boxes: torch.Tensor,
    center_line_x: torch.Tensor,
    center_line_y: torch.Tensor,
    ratio: float,
    thre: float,
    max_iters: int,
    path: bool,
) -> torch.Tensor:
    """The bisection of the Dichotomy Extended Area: the clamped extended boxes, or with
    ``path`` every step's side positions (unclamped)."""
    if boxes.dim() < 2 or boxes.shape[-1] != 4:
        raise ValueError(
            f"dichotomy_extend_area expects boxes (..., N, 4), got {tuple(boxes.shape)}"
        )
    if center_line_x.shape != center_line_y.shape or center_line_x.dim() < 2:
        raise ValueError(
            "dichotomy_extend_area expects center-line maps (..., H, W) of the same shape, "
            f"got {tuple(center_line_x.shape)} and {tuple(center_line_y.shape)}"
        )
    lead = boxes.shape[:-2]
    if center_line_x.shape[:-2] != lead:
        raise ValueError(
            f"boxes {tuple(boxes.shape)} and maps {tuple(center_line_x.shape)} must share "
            "their leading dims"
        )
    if ratio < 0 or max_iters < 0:
        raise ValueError(f"ratio and max_iters must be >= 0, got {ratio} and {max_iters}")
    if boxes.numel() == 0:
        return boxes.expand(max_iters + 1, *boxes.shape).clone() if path else boxes.clone()

    height, width = center_line_x.shape[-2:]
    n = boxes.shape[-2]
    length = max(height, width) + 2  # profile length: map plus a zero pixel each side
    dtype = boxes.dtype if boxes.is_floating_point() else torch.float32
    device = center_line_x.device
    orig = boxes.to(device=device, dtype=dtype).reshape(-1, n, 4)  # (G, N, 4)
    search = torch.nan_to_num(orig)  # keeps gather indices valid whatever the boxes hold
    groups = orig.shape[0]
    center = (search[..., :2] + search[..., 2:]) / 2

    # Two 1-D profiles per box, zero-padded by one pixel each side so that out-of-map
    # positions read 0: the box's center row of M_x (for x1, x2) and center column of M_y
    # (for y1, y2), laid end to end in `(G, N, 2 * length)`.
    profiles = center_line_x.new_zeros(groups, n, 2, length)
    group_index = torch.arange(groups, device=device)[:, None]
    for k, (lines, at, limit, extent) in enumerate(
        (
            (center_line_x, center[..., 1], height, width),  # rows of M_x at y = cy
            (center_line_y.transpose(-1, -2), center[..., 0], width, height),  # columns
        )
    ):
        pick = torch.floor(at)  # the center cell, where the line is drawn, (G, N)
        inside = (pick >= 0) & (pick < limit)
        lines = lines.reshape(groups, *lines.shape[-2:])
        read = lines[group_index, pick.clamp(0, limit - 1).long()]  # (G, N, extent)
        profiles[:, :, k, 1 : extent + 1] = read * inside[..., None]
    # +1 where a side on that pixel moves outward, -1 where it moves inward.
    step_sign = (profiles > thre).to(dtype).mul_(2).sub_(1).flatten(2)

    like = orig[0, 0]
    outward = side_vector(OUTWARD, like)
    start = side_vector((0.0, length, 0.0, length), like)
    size = box_side_sizes(search)
    reach = ratio * size / 2
    signed_reach = outward * reach
    # Position in the flat profile, shifted by 0.5 so that truncation rounds to nearest:
    # profile index = floor(pos + 1 + 0.5) within the side's own profile.
    shift = start + 1.5
    t = search + signed_reach + shift
    steps = [t] if path else []
    for i in range(1, max_iters + 1):
        index = torch.clamp(t, start, start + (length - 1)).long()
        t = t.addcmul(step_sign.gather(-1, index), signed_reach, value=2.0**-i)
        if path:
            steps.append(t)
    if path:
        return (torch.stack(steps) - shift).reshape(max_iters + 1, *boxes.shape).to(boxes.dtype)
    pos = t - shift
    extension = torch.minimum(((pos - search) * outward).clamp(min=0), ratio * size)
    out = orig + outward * extension
    return out.reshape(boxes.shape).to(boxes.dtype)
