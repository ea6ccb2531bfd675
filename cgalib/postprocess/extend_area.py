"""Box extension against *defective boxes*: the Dichotomy Extended Area (paper Algorithm 1),
the fixed-ratio baseline (Table 1, d*) and no extension, as interchangeable modules.

Every extension is a [`BoxExtension`][BoxExtension]: called as ``extension(boxes, center_line_x,
center_line_y)`` on boxes in heatmap coordinates, it returns the extended boxes. The same
module instance serves inference ([`CGANetPostprocess`][cgalib.postprocess.CGANetPostprocess], on the
predicted center lines) and training ([`CGANetCriterion`][cgalib.losses.CGANetCriterion], on the
ground-truth lines), so the two never disagree on what "extend" means. Settings are fixed
at construction.
"""

from __future__ import annotations

import torch
from torch import nn

from cgalib.codecs.center_line import dichotomy_extend_area
from cgalib.ops.boxes import OUTWARD, box_side_sizes, side_vector

__all__ = [
    "BoxExtension",
    "DichotomyExtendArea",
    "FixedExtendArea",
    "NoExtension",
    "dichotomy_extend_area",
    "fixed_extend_area",
]


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
    outward = side_vector(OUTWARD, boxes)
    return boxes + outward * box_side_sizes(boxes) * (ratio / 2)


class BoxExtension(nn.Module):
    """Base of the box extensions: ``forward(boxes, center_line_x, center_line_y)``.

    Shape:
        - boxes: `(..., N, 4)` xyxy in heatmap coordinates
        - center_line_x, center_line_y: `(..., H, W)` probabilities, the same leading
          dims as ``boxes``
        - output: `(..., N, 4)`, containing the input boxes
    """

    def forward(
        self, boxes: torch.Tensor, center_line_x: torch.Tensor, center_line_y: torch.Tensor
    ) -> torch.Tensor:
        raise NotImplementedError


class DichotomyExtendArea(BoxExtension):
    """Module form of [`dichotomy_extend_area()`][dichotomy_extend_area] (the paper's DEA, Table 1 d).

    Args:
        ratio: maximum extension per side, relative to the box size (paper: 0.09).
        thre: center-line score above which a side is on the line (paper: 0.08).
        max_iters: bisection steps (paper: 10).

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
        if ratio < 0 or max_iters < 0:
            raise ValueError(f"ratio and max_iters must be >= 0, got {ratio} and {max_iters}")
        self._ratio, self._thre, self._max_iters = float(ratio), float(thre), int(max_iters)

    @property
    def ratio(self) -> float:
        """Maximum extension per side, relative to the box size."""
        return self._ratio

    @property
    def thre(self) -> float:
        """Center-line score above which a side is on the line."""
        return self._thre

    @property
    def max_iters(self) -> int:
        """Bisection steps."""
        return self._max_iters

    def forward(
        self, boxes: torch.Tensor, center_line_x: torch.Tensor, center_line_y: torch.Tensor
    ) -> torch.Tensor:
        return dichotomy_extend_area(
            boxes, center_line_x, center_line_y, self._ratio, self._thre, self._max_iters
        )

    def extra_repr(self) -> str:
        return f"ratio={self._ratio}, thre={self._thre}, max_iters={self._max_iters}"


class FixedExtendArea(BoxExtension):
    """Module form of [`fixed_extend_area()`][fixed_extend_area] (Table 1 d*); the center lines are unused.

    Args:
        ratio: total relative growth per axis.

    Shape:
        - boxes: `(..., 4)`
        - center_line_x, center_line_y: optional, ignored
        - output: `(..., 4)`

    Examples:
        >>> FixedExtendArea(0.1)(torch.rand(2, 5, 4)).shape
        torch.Size([2, 5, 4])
    """

    def __init__(self, ratio: float = 0.09) -> None:
        super().__init__()
        if ratio < 0:
            raise ValueError(f"ratio must be non-negative, got {ratio}")
        self._ratio = float(ratio)

    @property
    def ratio(self) -> float:
        """Total relative growth per axis."""
        return self._ratio

    def forward(
        self,
        boxes: torch.Tensor,
        center_line_x: torch.Tensor | None = None,
        center_line_y: torch.Tensor | None = None,
    ) -> torch.Tensor:
        return fixed_extend_area(boxes, self._ratio)

    def extra_repr(self) -> str:
        return f"ratio={self._ratio}"


class NoExtension(BoxExtension):
    """The boxes as they are (Table 1 rows without extension).

    Examples:
        >>> boxes = torch.rand(3, 4)
        >>> NoExtension()(boxes, None, None) is boxes
        True
    """

    def forward(
        self,
        boxes: torch.Tensor,
        center_line_x: torch.Tensor | None = None,
        center_line_y: torch.Tensor | None = None,
    ) -> torch.Tensor:
        return boxes
