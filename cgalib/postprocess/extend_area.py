"""Box extension against *defective boxes*: Dichotomy Extended Area (paper Algorithm 1)
and the fixed-ratio baseline (Table 1, d*)."""

from __future__ import annotations

import torch
from torch import nn

__all__ = [
    "DichotomyExtendArea",
    "FixedExtendArea",
    "dichotomy_extend_area",
    "fixed_extend_area",
]

# Sides in box order x1, y1, x2, y2: the outward direction of each.
_OUTWARD = (-1.0, -1.0, 1.0, 1.0)


def _side_vector(values: tuple[float, ...], like: torch.Tensor) -> torch.Tensor:
    """``values`` as a `(4,)` tensor made on ``like``'s device and dtype.

    Filled there rather than copied from a host list: a host-to-device copy synchronises
    with the GPU (and cannot be captured in a CUDA graph).
    """
    return torch.stack([like.new_full((), float(v)) for v in values])


def _side_sizes(boxes: torch.Tensor) -> torch.Tensor:
    """``(w, h, w, h)`` per box, negative sizes clamped to 0. `(..., 4)` -> `(..., 4)`."""
    wh = (boxes[..., 2:] - boxes[..., :2]).clamp(min=0)
    return torch.cat([wh, wh], -1)


def fixed_extend_area(boxes: torch.Tensor, ratio: float = 0.09) -> torch.Tensor:
    """Extend every box by a fixed ratio: each side moves out by ``ratio * size / 2``.

    ``size`` is the box width for the left/right sides and its height for top/bottom, so
    the box grows by ``ratio`` of its width and height in total. This is the fixed-ratio
    baseline of the paper's Table 1 (d*); boxes of negative size are returned unchanged.

    Args:
        boxes: xyxy boxes, in any coordinates.
        ratio: total relative growth per axis.

    Returns:
        The extended boxes.

    Shape:
        - boxes: `(..., 4)`
        - output: `(..., 4)`

    Examples:
        >>> fixed_extend_area(torch.tensor([[10.0, 20.0, 30.0, 60.0]]), ratio=0.1).tolist()
        [[9.0, 18.0, 31.0, 62.0]]
    """
    if boxes.shape[-1:] != (4,):
        raise ValueError(f"fixed_extend_area expects boxes (..., 4), got {tuple(boxes.shape)}")
    if ratio < 0:
        raise ValueError(f"ratio must be non-negative, got {ratio}")
    outward = _side_vector(_OUTWARD, boxes)
    return boxes + outward * _side_sizes(boxes) * (ratio / 2)


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

    Top/bottom sides sample ``center_line_y`` at ``x = (x1 + x2) / 2``; left/right sides
    sample ``center_line_x`` at ``y = (y1 + y2) / 2``. Sampling is nearest-pixel: a
    coordinate ``v`` reads index ``floor(v + 0.5)``, and samples outside the map read 0.

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
        return boxes.clone()

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
        pick = torch.floor(at + 0.5)  # nearest pixel, (G, N)
        inside = (pick >= 0) & (pick < limit)
        lines = lines.reshape(groups, *lines.shape[-2:])
        read = lines[group_index, pick.clamp(0, limit - 1).long()]  # (G, N, extent)
        profiles[:, :, k, 1 : extent + 1] = read * inside[..., None]
    # +1 where a side on that pixel moves outward, -1 where it moves inward.
    step_sign = (profiles > thre).to(dtype).mul_(2).sub_(1).flatten(2)

    like = orig[0, 0]
    outward = _side_vector(_OUTWARD, like)
    start = _side_vector((0.0, length, 0.0, length), like)
    size = _side_sizes(search)
    reach = ratio * size / 2
    signed_reach = outward * reach
    # Position in the flat profile, shifted by 0.5 so that truncation rounds to nearest:
    # profile index = floor(pos + 1 + 0.5) within the side's own profile.
    shift = start + 1.5
    t = search + signed_reach + shift
    for i in range(1, max_iters + 1):
        index = torch.clamp(t, start, start + (length - 1)).long()
        t = t.addcmul(step_sign.gather(-1, index), signed_reach, value=2.0**-i)
    pos = t - shift
    extension = torch.minimum(((pos - search) * outward).clamp(min=0), ratio * size)
    out = orig + outward * extension
    return out.reshape(boxes.shape).to(boxes.dtype)


class DichotomyExtendArea(nn.Module):
    """Module form of :func:`dichotomy_extend_area`.

    Args:
        ratio: maximum extension per side, relative to the box size.
        thre: center-line score above which a side is on the line.
        max_iters: bisection steps.

    Shape:
        - boxes: `(..., N, 4)`
        - center_line_x, center_line_y: `(..., H, W)`
        - output: `(..., N, 4)`

    Examples:
        >>> dea = DichotomyExtendArea()
        >>> dea(torch.rand(2, 5, 4) * 8, torch.rand(2, 16, 16), torch.rand(2, 16, 16)).shape
        torch.Size([2, 5, 4])
    """

    def __init__(self, ratio: float = 0.09, thre: float = 0.08, max_iters: int = 10) -> None:
        super().__init__()
        self.ratio, self.thre, self.max_iters = ratio, thre, max_iters

    def forward(
        self, boxes: torch.Tensor, center_line_x: torch.Tensor, center_line_y: torch.Tensor
    ) -> torch.Tensor:
        return dichotomy_extend_area(
            boxes, center_line_x, center_line_y, self.ratio, self.thre, self.max_iters
        )

    def extra_repr(self) -> str:
        return f"ratio={self.ratio}, thre={self.thre}, max_iters={self.max_iters}"


class FixedExtendArea(nn.Module):
    """Module form of :func:`fixed_extend_area`.

    Args:
        ratio: total relative growth per axis.

    Shape:
        - boxes: `(..., 4)`
        - output: `(..., 4)`

    Examples:
        >>> FixedExtendArea(0.1)(torch.rand(2, 5, 4)).shape
        torch.Size([2, 5, 4])
    """

    def __init__(self, ratio: float = 0.09) -> None:
        super().__init__()
        self.ratio = ratio

    def forward(self, boxes: torch.Tensor) -> torch.Tensor:
        return fixed_extend_area(boxes, self.ratio)

    def extra_repr(self) -> str:
        return f"ratio={self.ratio}"
