"""Per-side views of xyxy boxes, shared by the box extensions (DEA and the fixed ratio)."""

from __future__ import annotations

import torch

__all__ = ["OUTWARD", "box_side_sizes", "hflip_boxes", "side_vector"]

OUTWARD: tuple[float, float, float, float] = (-1.0, -1.0, 1.0, 1.0)
"""The outward direction of each side of an xyxy box: ``x1`` and ``y1`` decrease, ``x2``
and ``y2`` increase."""


def side_vector(values: tuple[float, ...], like: torch.Tensor) -> torch.Tensor:
    """``values`` as a `(4,)` tensor made on ``like``'s device and dtype.

    Filled there rather than copied from a host list: a host-to-device copy synchronises
    with the GPU (and cannot be captured in a CUDA graph).

    Examples:
        >>> side_vector(OUTWARD, torch.zeros(())).tolist()
        [-1.0, -1.0, 1.0, 1.0]
    """
    return torch.stack([like.new_full((), float(v)) for v in values])


def box_side_sizes(boxes: torch.Tensor) -> torch.Tensor:
    """The box size each side is measured against: ``(w, h, w, h)``, negatives read as 0.

    Shape:
        - boxes: `(..., 4)` xyxy
        - output: `(..., 4)`

    Examples:
        >>> box_side_sizes(torch.tensor([[0.0, 0.0, 4.0, 2.0]])).tolist()
        [[4.0, 2.0, 4.0, 2.0]]
    """
    wh = (boxes[..., 2:] - boxes[..., :2]).clamp(min=0)
    return torch.cat([wh, wh], -1)


def hflip_boxes(boxes: torch.Tensor, width: float) -> torch.Tensor:
    """Mirror continuous xyxy boxes in an image of ``width`` pixels: ``x -> width - x``.

    Shape:
        - boxes: `(..., 4)`
        - output: `(..., 4)`

    Examples:
        >>> hflip_boxes(torch.tensor([[1.0, 2.0, 3.0, 4.0]]), 10).tolist()
        [[7.0, 2.0, 9.0, 4.0]]
    """
    x1, y1, x2, y2 = boxes.unbind(-1)
    return torch.stack([width - x2, y1, width - x1, y2], -1)
