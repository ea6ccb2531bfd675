"""Dense training targets of a whole batch (centers and center lines), built on the device."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from cgalib.codecs.center import center_targets
from cgalib.codecs.center_line import center_line_heatmaps

__all__ = ["build_targets"]


def build_targets(
    targets: Sequence[dict[str, torch.Tensor]],
    image_size: tuple[int, int],
    output_stride: int = 4,
    max_objects: int = 128,
    min_iou: float = 0.3,
    line_sigma: float = 1.4,
) -> dict[str, torch.Tensor]:
    """Center heatmaps, box regressions and center lines of a batch.

    Each image's boxes go to heatmap coordinates (divided by ``output_stride``) and through
    [`center_targets()`][cgalib.codecs.center_targets] and
    [`center_line_heatmaps()`][cgalib.codecs.center_line_heatmaps], which are vectorised over boxes and
    pixels; the only Python loop is over the images of the batch. ROI keypoint targets
    depend on the ROI boxes the model samples, so the model builds them with
    [`roi_keypoint_targets()`][cgalib.codecs.roi_keypoint_targets].

    Args:
        targets: one dict per image with ``boxes`` `(N, 4)` xyxy in input pixels (people
            without a box may be given as zero-size boxes; they produce nothing).
        image_size: ``(H, W)`` of the input images.
        output_stride: input pixels per heatmap pixel.
        max_objects: regression slots per image.
        min_iou: ``min_iou`` of the Gaussian radius.
        line_sigma: sigma of the center lines (paper: 1.4).

    Returns:
        dict of batched tensors on the boxes' device: ``heatmap`` `(B, 1, h, w)`, ``wh`` and
        ``offset`` `(B, M, 2)`, ``index`` `(B, M)` int64, ``mask`` `(B, M)` bool, ``line_x``
        and ``line_y`` `(B, 1, h, w)`, with ``h, w = H / output_stride, W / output_stride``.

    Examples:
        >>> t = build_targets([{"boxes": torch.tensor([[8.0, 8.0, 40.0, 56.0]])}], (64, 64))
        >>> t["heatmap"].shape, t["line_y"].shape, int(t["mask"].sum())
        (torch.Size([1, 1, 16, 16]), torch.Size([1, 1, 16, 16]), 1)
    """
    if not targets:
        raise ValueError("build_targets needs at least one image")
    h, w = image_size[0] // output_stride, image_size[1] // output_stride
    per_image = []
    for t in targets:
        boxes = t["boxes"].float() / output_stride
        dense = center_targets(boxes, (h, w), max_objects=max_objects, min_iou=min_iou)
        line_x, line_y = center_line_heatmaps(boxes, (h, w), sigma=line_sigma, min_iou=min_iou)
        dense["line_x"], dense["line_y"] = line_x[None], line_y[None]
        per_image.append(dense)
    return {k: torch.stack([p[k] for p in per_image]) for k in per_image[0]}
