"""What every per-box heatmap head shares: the levels it reads, its ROI size, its output
convention, input checks and the zero-box case."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["ROI_SIZE_DIVISOR", "RoiHead", "roi_sizes_for_input"]

ROI_SIZE_DIVISOR = 16
"""ROI size of level 0 as a fraction of the input size (paper, "Implementation Details")."""


def roi_sizes_for_input(
    input_size: int | Sequence[int], num_levels: int = 3
) -> tuple[tuple[int, int], ...]:
    """The paper's aligned sizes: 1/16, 1/32, 1/64 ... of the (training) input size.

    Args:
        input_size: input side, or ``(H, W)`` (each side scales its own ROI side).
        num_levels: number of levels, each half the previous one.

    Returns:
        ``(h, w)`` per level, finest first.

    Raises:
        ValueError: if a side is not a multiple of ``16 * 2**(num_levels - 1)``.

    Examples:
        >>> roi_sizes_for_input(512), roi_sizes_for_input(384)
        (((32, 32), (16, 16), (8, 8)), ((24, 24), (12, 12), (6, 6)))
    """
    sides = (input_size, input_size) if isinstance(input_size, int) else tuple(input_size)
    multiple = ROI_SIZE_DIVISOR * 2 ** (num_levels - 1)
    if len(sides) != 2 or any(s <= 0 or s % multiple for s in sides):
        raise ValueError(f"input_size must be positive multiples of {multiple}, got {input_size}")
    return tuple(
        (sides[0] // (ROI_SIZE_DIVISOR << i), sides[1] // (ROI_SIZE_DIVISOR << i))
        for i in range(num_levels)
    )


class RoiHead(nn.Module):
    """Base of the per-box heads ([`ROIGuider`][cgalib.heads.ROIGuider],
    [`ROIPointer`][cgalib.heads.ROIPointer]): one call signature, one output convention.

    A head reads the backbone levels L0..L2 (the first ``num_levels``; coarser ones are
    ignored), aligns every box at a level-0 ROI size ``s`` and returns
    ``num_outputs`` heatmap logits of size ``2s`` per box (`output_size`). Heatmap
    cell ``(u, v)`` covers ``[x1 + u * bw / w, x1 + (u + 1) * bw / w)`` by
    ``[y1 + v * bh / h, y1 + (v + 1) * bh / h)`` of its box: the pixel-centre convention
    of `cgalib.codecs.roi_keypoints`. A subclass implements [`stage_logits()`][stage_logits];
    [`forward()`][forward] validates the inputs and handles zero boxes.

    Args:
        in_channels: channels of the backbone levels, finest first (the first
            ``num_levels`` are used, so a backbone's full list can be passed).
        strides: strides of those levels; ``1 / stride`` is the RoIAlign scale.
        roi_size: ``(h, w)`` aligned at level 0.
        num_outputs: heatmaps per box (``K`` keypoints, or 1 for a mask).
        sampling_ratio: RoIAlign samples per bin and axis (0: adaptive).

    Attributes:
        roi_size: ``(h, w)`` aligned at level 0.
        output_size: ``(h, w)`` of the logits, ``2 * roi_size``.
    """

    num_levels = 3
    num_stages = 1

    def __init__(
        self,
        in_channels: Sequence[int],
        strides: Sequence[int],
        roi_size: tuple[int, int],
        num_outputs: int,
        sampling_ratio: int,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if len(in_channels) < self.num_levels or len(strides) < self.num_levels:
            raise ValueError(
                f"{name} needs the channels and strides of at least {self.num_levels} "
                f"levels, got {tuple(in_channels)} and {tuple(strides)}"
            )
        if num_outputs < 1:
            raise ValueError(f"{name} needs num_outputs >= 1, got {num_outputs}")
        self.in_channels = tuple(int(c) for c in in_channels[: self.num_levels])
        self.strides = tuple(int(s) for s in strides[: self.num_levels])
        self.roi_size = (int(roi_size[0]), int(roi_size[1]))
        self.num_outputs = int(num_outputs)
        self.sampling_ratio = int(sampling_ratio)

    @property
    def output_size(self) -> tuple[int, int]:
        """``(h, w)`` of the heatmap logits: twice the level-0 ROI size."""
        return 2 * self.roi_size[0], 2 * self.roi_size[1]

    def check_inputs(
        self, features: Sequence[torch.Tensor], boxes: torch.Tensor | Sequence[torch.Tensor]
    ) -> None:
        """Validate the backbone levels and the per-image boxes, naming what is wrong."""
        name = type(self).__name__
        if isinstance(features, torch.Tensor) or len(features) < self.num_levels:
            raise ValueError(f"{name} expects a sequence of at least {self.num_levels} feature maps")
        for i, c in enumerate(self.in_channels):
            f = features[i]
            if f.dim() != 4 or f.shape[1] != c or f.shape[0] != features[0].shape[0]:
                raise ValueError(
                    f"{name}: level {i} must be (B, {c}, H, W) with the batch of level 0, got "
                    f"{tuple(f.shape)}"
                )
        if not isinstance(boxes, torch.Tensor) and len(boxes) != features[0].shape[0]:
            raise ValueError(
                f"{name} expects one box tensor per image ({features[0].shape[0]}), got "
                f"{len(boxes)}"
            )

    def forward(
        self,
        features: Sequence[torch.Tensor],
        boxes: torch.Tensor | Sequence[torch.Tensor],
        return_all: bool = False,
    ) -> torch.Tensor | list[torch.Tensor]:
        """Heatmap logits of every box.

        Args:
            features: the backbone levels L0, L1, L2 (L3 and beyond are ignored).
            boxes: B `(N_i, 4)` xyxy tensors in input pixels (one per image), or `(N, 5)`
                rois ``(batch_index, x1, y1, x2, y2)``; ``N = sum N_i`` may be 0.
            return_all: return the logits of every stage (for intermediate supervision,
                one list entry per stage) instead of the last stage's only.

        Returns:
            `(N, num_outputs, *output_size)` logits, or a list of ``num_stages`` of them.
        """
        self.check_inputs(features, boxes)
        count = boxes.shape[0] if isinstance(boxes, torch.Tensor) else sum(len(b) for b in boxes)
        if count == 0:
            stages = [self.empty_logits(features)] * self.num_stages
        else:
            stages = self.stage_logits(features, boxes, return_all)
        return stages if return_all else stages[-1]

    def stage_logits(
        self,
        features: Sequence[torch.Tensor],
        boxes: torch.Tensor | Sequence[torch.Tensor],
        all_stages: bool,
    ) -> list[torch.Tensor]:
        """The logits of the last stage (a one-element list), or of every stage.

        Called by [`forward()`][forward] with validated inputs and at least one box.
        """
        raise NotImplementedError

    def empty_logits(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        """`(0, num_outputs, h, w)` logits for zero boxes, with every parameter in the graph.

        The layers are skipped (torch's pixel-shuffle backward fails on an empty batch);
        a zero tied to all parameters and the features keeps an image without people a
        valid (zero) loss, with zero rather than missing gradients (as
        DistributedDataParallel needs).
        """
        zero = sum(p.sum() for p in self.parameters()) * 0.0
        zero = zero + sum(f.sum() for f in features[: self.num_levels]) * 0.0
        return zero.to(features[0].dtype).expand(0, self.num_outputs, *self.output_size)

    def extra_repr(self) -> str:
        return (
            f"roi_size={self.roi_size}, strides={self.strides}, num_outputs={self.num_outputs}, "
            f"sampling_ratio={self.sampling_ratio}"
        )
