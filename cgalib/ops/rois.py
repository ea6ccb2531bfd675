"""Region-of-interest formats: per-image box lists and the flat ``(N, 5)`` roi tensor."""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["boxes_to_rois"]


def boxes_to_rois(boxes: torch.Tensor | Sequence[torch.Tensor]) -> torch.Tensor:
    """Flatten per-image boxes into ``(batch_index, x1, y1, x2, y2)`` rows.

    The two box formats of torchvision's RoI ops are accepted: a tensor is taken to be
    rois already (returned unchanged after a shape check); a sequence holds one
    `(N_i, 4)` xyxy tensor per image, and its position becomes the batch index.

    Args:
        boxes: `(N, 5)` rois, or a sequence of B `(N_i, 4)` xyxy box tensors.

    Returns:
        Rois `(N, 5)` with ``N = sum N_i``, rows in the order of the input, in the boxes'
        dtype (promoted across the list) and device.

    Raises:
        ValueError: on any other shape.

    Shape:
        - boxes: `(N, 5)` or B tensors `(N_i, 4)`
        - output: `(N, 5)`

    Examples:
        >>> rois = boxes_to_rois([torch.rand(2, 4), torch.rand(0, 4), torch.rand(1, 4)])
        >>> rois.shape, rois[:, 0].tolist()
        (torch.Size([3, 5]), [0.0, 0.0, 2.0])
    """
    if isinstance(boxes, torch.Tensor):
        if boxes.dim() != 2 or boxes.shape[1] != 5:
            raise ValueError(
                "a box tensor must be (N, 5) rois (batch_index, x1, y1, x2, y2), got "
                f"{tuple(boxes.shape)}; pass per-image (N_i, 4) boxes as a list instead"
            )
        return boxes
    boxes = list(boxes)
    for i, b in enumerate(boxes):
        if not isinstance(b, torch.Tensor) or b.dim() != 2 or b.shape[1] != 4:
            shape = tuple(b.shape) if isinstance(b, torch.Tensor) else type(b).__name__
            raise ValueError(f"boxes[{i}] must be an (N, 4) xyxy tensor, got {shape}")
    if not boxes:
        return torch.zeros(0, 5)
    flat = torch.cat(boxes, dim=0)
    dtype = flat.dtype if flat.is_floating_point() else torch.get_default_dtype()
    # batch indices filled on the device from the host-known counts: no host-to-device
    # copy and no data-dependent repeat_interleave, so no GPU synchronisation
    index = torch.cat([flat.new_full((b.shape[0], 1), i, dtype=dtype) for i, b in enumerate(boxes)])
    return torch.cat([index, flat.to(dtype)], dim=1)
