"""RoIAlign (Mask R-CNN) in pure PyTorch, with torchvision's exact sampling semantics."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from cgalib.ops.rois import boxes_to_rois

__all__ = ["roi_align", "RoIAlign"]

# A normalised grid_sample coordinate well outside [-1, 1]: the sample reads zero padding.
_OUTSIDE = -3.0


def _pair(output_size: int | Sequence[int]) -> tuple[int, int]:
    size = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
    if len(size) != 2 or not all(isinstance(s, int) and s > 0 for s in size):
        raise ValueError(f"output_size must be a positive int or (h, w), got {output_size!r}")
    return size[0], size[1]


def _axis_samples(
    start: torch.Tensor, length: torch.Tensor, pooled: int, grid: torch.Tensor, grid_max: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample positions along one axis and which of them exist, for every roi.

    Sample ``i`` of bin ``p`` lies at ``start + p * bin + (i + 0.5) * bin / grid`` with
    ``bin = length / pooled`` (torchvision's order of operations); rois with fewer than
    ``grid_max`` samples per bin (adaptive sampling) mask the rest.

    Returns:
        Positions `(N, pooled, grid_max)` and a bool mask `(N, 1, grid_max)`.
    """
    bin_size = (length / pooled)[:, None, None]
    p = torch.arange(pooled, device=start.device, dtype=start.dtype)[None, :, None]
    i = torch.arange(grid_max, device=start.device, dtype=start.dtype)[None, None, :]
    step = (i + 0.5) * bin_size / grid.clamp(min=1).to(start.dtype)[:, None, None]
    pos = start[:, None, None] + p * bin_size + step
    exists = i < grid[:, None, None]
    return pos, exists


def roi_align(
    input: torch.Tensor,
    boxes: torch.Tensor | Sequence[torch.Tensor],
    output_size: int | Sequence[int],
    spatial_scale: float = 1.0,
    sampling_ratio: int = 2,
    aligned: bool = True,
) -> torch.Tensor:
    """RoIAlign: average of bilinear samples on a regular grid in every output bin.

    The semantics are torchvision's (``torchvision.ops.roi_align``), sample for sample:

    * a roi ``(x1, y1, x2, y2)`` becomes ``x1 * spatial_scale - 0.5`` ... on the feature
      map when ``aligned`` (the half-pixel shift of Detectron2: feature cell ``j`` has its
      center at ``j + 0.5`` image pixels / stride), without the shift otherwise, where the
      roi size is also clamped to at least 1;
    * each of the ``(h, w)`` bins averages ``grid_h x grid_w`` samples at the centers of a
      regular sub-grid, ``grid = sampling_ratio``, or ``ceil(roi_size / output_size)`` per
      roi when ``sampling_ratio <= 0`` (adaptive);
    * a sample with ``y < -1``, ``y > H``, ``x < -1`` or ``x > W`` contributes 0 (it still
      counts in the average); otherwise its coordinates are clamped to ``[0, H - 1]`` and
      ``[0, W - 1]`` before bilinear interpolation.

    The sampling is vectorised over all rois (no Python loop): rois are laid out per image,
    padded to the largest count, every sample is interpolated by one
    [`torch.nn.functional.grid_sample()`][torch.nn.functional.grid_sample] call on the clamped coordinates (samples that
    contribute 0 are moved into its zero padding) and each bin is summed by one
    [`avg_pool2d()`][torch.nn.functional.avg_pool2d]. Gradients
    flow to ``input``; the boxes are treated as constants, as in torchvision. Results match
    torchvision to floating-point rounding (the normalised ``grid_sample`` coordinates).

    A list with the same number of boxes for every image is laid out by a reshape alone,
    without a step that depends on the box values, so that a traced graph (ONNX export,
    [`cgalib.export`][cgalib.export]) with fixed sampling (``sampling_ratio > 0``) holds for any boxes.

    Args:
        input: feature maps.
        boxes: rois `(N, 5)` as ``(batch_index, x1, y1, x2, y2)``, or a list of B `(N_i, 4)`
            xyxy tensors (one per image), in image coordinates.
        output_size: ``(h, w)`` of each aligned map, or an int for a square one.
        spatial_scale: feature-map cells per image pixel (``1 / stride``).
        sampling_ratio: samples per bin along each axis; ``<= 0`` for adaptive.
        aligned: apply the half-pixel shift (recommended; torchvision's default is ``False``).

    Returns:
        The aligned features, one map per roi in roi order.

    Raises:
        ValueError: on malformed input, boxes, output size or batch indices.

    Shape:
        - input: `(B, C, H, W)`
        - boxes: `(N, 5)`, or B tensors `(N_i, 4)` with ``N = sum N_i``
        - output: `(N, C, h, w)`

    Examples:
        >>> feats = torch.rand(2, 8, 16, 16)
        >>> boxes = [torch.tensor([[0.0, 0.0, 32.0, 48.0]]), torch.tensor([[8.0, 8.0, 60.0, 60.0]])]
        >>> roi_align(feats, boxes, output_size=(6, 4), spatial_scale=1 / 4).shape
        torch.Size([2, 8, 6, 4])
    """
    if input.dim() != 4 or not input.is_floating_point():
        raise ValueError(
            f"roi_align expects a floating-point input (B, C, H, W), got {input.dtype} "
            f"{tuple(input.shape)}"
        )
    ph, pw = _pair(output_size)
    num_images, channels, height, width = input.shape
    counts = None if isinstance(boxes, torch.Tensor) else [int(b.shape[0]) for b in boxes]
    if counts is not None and len(counts) > num_images:
        raise ValueError(f"roi_align got {len(counts)} box tensors for {num_images} images")
    rois = boxes_to_rois(boxes).detach().to(device=input.device, dtype=input.dtype)
    num_rois = rois.shape[0]
    if num_rois == 0:  # keep the result attached to the graph of input
        return input.reshape(-1)[:0].reshape(0, channels, ph, pw)
    batch = rois[:, 0].long()
    if counts is None and bool(((batch < 0) | (batch >= num_images)).any()):
        raise ValueError(
            f"roi_align: roi batch indices must lie in [0, {num_images}), got "
            f"[{int(batch.min())}, {int(batch.max())}]"
        )

    offset = 0.5 if aligned else 0.0
    start = rois[:, 1:3] * spatial_scale - offset  # (x1, y1) on the feature map
    size = rois[:, 3:5] * spatial_scale - offset - start  # (roi_w, roi_h)
    if not aligned:
        size = size.clamp(min=1.0)
    if sampling_ratio > 0:
        grid = torch.full((num_rois, 2), sampling_ratio, device=input.device, dtype=torch.long)
        grid_w_max = grid_h_max = sampling_ratio
    else:
        pooled = torch.tensor([pw, ph], device=input.device, dtype=input.dtype)
        grid = torch.ceil(size / pooled).clamp(min=0).long()
        grid_w_max, grid_h_max = (max(int(g), 1) for g in grid.max(dim=0).values)
    count = (grid[:, 0] * grid[:, 1]).clamp(min=1).to(input.dtype)

    xs, x_exists = _axis_samples(start[:, 0], size[:, 0], pw, grid[:, 0], grid_w_max)
    ys, y_exists = _axis_samples(start[:, 1], size[:, 1], ph, grid[:, 1], grid_h_max)
    # Clamp as torchvision does and normalise for grid_sample (align_corners=False); a
    # sample outside [-1, H] x [-1, W] (or beyond a roi's adaptive grid) goes far outside
    # the map, where zero padding makes it contribute 0 (the test is separable).
    x_ok = (xs >= -1) & (xs <= width) & x_exists
    y_ok = (ys >= -1) & (ys <= height) & y_exists
    gx = torch.where(x_ok, (2 * xs.clamp(0, width - 1) + 1) / width - 1, _OUTSIDE)
    gy = torch.where(y_ok, (2 * ys.clamp(0, height - 1) + 1) / height - 1, _OUTSIDE)

    # Lay the rois out per image: slot = position of a roi among those of its image.
    # The same number of boxes for every image (CGANet's top-k): a plain reshape, with no
    # data-dependent step, so that a traced (ONNX) graph holds for any box values.
    uniform = counts is not None and len(counts) == num_images and len(set(counts)) == 1
    if uniform:
        slots_max = counts[0]
        gx = gx.reshape(num_images, slots_max, *gx.shape[1:])
        gy = gy.reshape(num_images, slots_max, *gy.shape[1:])
    else:
        if counts is not None:  # sizes known on the host: no device round trip
            slots_max = max(counts)
            slot = torch.cat([torch.arange(n, device=input.device) for n in counts])
        else:
            per_image = torch.bincount(batch, minlength=num_images)
            slots_max = int(per_image.max())
            order = torch.argsort(batch, stable=True)
            first = torch.cumsum(per_image, 0) - per_image
            slot = torch.empty_like(batch)
            slot[order] = torch.arange(num_rois, device=input.device) - first[batch[order]]

        def padded(t: torch.Tensor) -> torch.Tensor:
            out = t.new_full((num_images, slots_max, *t.shape[1:]), _OUTSIDE)
            out[batch, slot] = t
            return out

        gx, gy = padded(gx), padded(gy)
    sample_grid = torch.stack(
        torch.broadcast_tensors(gx[:, :, None, None, :, :], gy[:, :, :, :, None, None]), dim=-1
    ).reshape(num_images, slots_max * ph * grid_h_max, pw * grid_w_max, 2)
    samples = F.grid_sample(
        input, sample_grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )  # (B, C, slots * ph * grid_h, pw * grid_w)
    # Sum each bin's samples (mean pooling times the padded grid size), divide by count.
    sums = F.avg_pool2d(samples, (grid_h_max, grid_w_max)) * (grid_h_max * grid_w_max)
    sums = sums.view(num_images, channels, slots_max, ph, pw)
    if uniform:
        sums = sums.transpose(1, 2).reshape(num_rois, channels, ph, pw)
    else:
        sums = sums[batch, :, slot]
    return sums / count[:, None, None, None]


class RoIAlign(nn.Module):
    """Module form of `roi_align()` with fixed output size, scale and sampling.

    Args:
        output_size: ``(h, w)`` of each aligned map, or an int for a square one.
        spatial_scale: feature-map cells per image pixel (``1 / stride``).
        sampling_ratio: samples per bin along each axis; ``<= 0`` for adaptive.
        aligned: apply the half-pixel shift.

    Shape:
        - input: `(B, C, H, W)`
        - boxes: `(N, 5)` rois or B tensors `(N_i, 4)`
        - output: `(N, C, h, w)`

    Examples:
        >>> align = RoIAlign(7, spatial_scale=1 / 8)
        >>> align
        RoIAlign(output_size=(7, 7), spatial_scale=0.125, sampling_ratio=2, aligned=True)
        >>> align(torch.rand(1, 4, 20, 20), [torch.tensor([[10.0, 10.0, 90.0, 150.0]])]).shape
        torch.Size([1, 4, 7, 7])
    """

    def __init__(
        self,
        output_size: int | Sequence[int],
        spatial_scale: float = 1.0,
        sampling_ratio: int = 2,
        aligned: bool = True,
    ) -> None:
        super().__init__()
        self.output_size = _pair(output_size)
        self.spatial_scale = float(spatial_scale)
        self.sampling_ratio = int(sampling_ratio)
        self.aligned = bool(aligned)

    def forward(
        self, input: torch.Tensor, boxes: torch.Tensor | Sequence[torch.Tensor]
    ) -> torch.Tensor:
        return roi_align(
            input, boxes, self.output_size, self.spatial_scale, self.sampling_ratio, self.aligned
        )

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(output_size={self.output_size}, "
            f"spatial_scale={self.spatial_scale}, sampling_ratio={self.sampling_ratio}, "
            f"aligned={self.aligned})"
        )
