"""RoIAlign (Mask R-CNN) in pure PyTorch, with torchvision's exact sampling semantics."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils._python_dispatch import is_in_torch_dispatch_mode

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
    padded to the largest count, and the bins are computed in one of two equal forms.
    Sampled: every sample is interpolated by one
    ``torch.nn.functional.grid_sample`` call on the clamped coordinates (samples that
    contribute 0 are moved into its zero padding) and each bin is summed by one
    ``avg_pool2d``. Separable: a bilinear sample weighs
    rows and columns independently, so each bin is two matrix products of per-axis weights
    with the map. The separable form runs when gradients flow (its backward is two matrix
    products too) and, on the CPU, wherever its products cost less than the samples: the
    small maps of coarse levels and small inputs; the sampled form on large maps, off the
    CPU, in a traced graph and under a dispatch mode such as the counter of
    [`count_macs()`][cgalib.utils.count_macs] (so that RoIAlign counts no multiply-accumulates
    in either form). Gradients
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
        >>> boxes = [torch.tensor([[0.0, 0.0, 32.0, 48.0]]),  # image 0
        ...          torch.tensor([[8.0, 8.0, 60.0, 60.0]])]  # image 1
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
    # positions in float32 at least: bf16 would round a position of 100 cells to 0.5
    work = torch.promote_types(input.dtype, torch.float32)
    out_dtype = work if torch.is_autocast_enabled(input.device.type) else input.dtype
    rois = boxes_to_rois(boxes).detach().to(device=input.device, dtype=work)
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
        pooled = torch.tensor([pw, ph], device=input.device, dtype=work)
        grid = torch.ceil(size / pooled).clamp(min=0).long()
        grid_w_max, grid_h_max = (max(int(g), 1) for g in grid.max(dim=0).values)
    count = (grid[:, 0] * grid[:, 1]).clamp(min=1).to(work)

    xs, x_exists = _axis_samples(start[:, 0], size[:, 0], pw, grid[:, 0], grid_w_max)
    ys, y_exists = _axis_samples(start[:, 1], size[:, 1], ph, grid[:, 1], grid_h_max)
    # torchvision's test: a sample outside [-1, H] x [-1, W] (or beyond a roi's adaptive
    # grid) contributes 0; it is separable, one condition per axis
    x_ok = (xs >= -1) & (xs <= width) & x_exists
    y_ok = (ys >= -1) & (ys <= height) & y_exists

    # Lay the rois out per image: slot = position of a roi among those of its image.
    # The same number of boxes for every image (CGANet's top-k): a plain reshape, with no
    # data-dependent step, so that a traced (ONNX) graph holds for any box values.
    uniform = counts is not None and len(counts) == num_images and len(set(counts)) == 1
    if uniform:
        layout = _Layout(num_images, counts[0], None, None)
    elif counts is not None:  # sizes known on the host: no device round trip
        slot = torch.cat([torch.arange(n, device=input.device) for n in counts])
        layout = _Layout(num_images, max(counts), batch, slot)
    else:
        per_image = torch.bincount(batch, minlength=num_images)
        order = torch.argsort(batch, stable=True)
        first = torch.cumsum(per_image, 0) - per_image
        slot = torch.empty_like(batch)
        slot[order] = torch.arange(num_rois, device=input.device) - first[batch[order]]
        layout = _Layout(num_images, int(per_image.max()), batch, slot)

    separable = _separable_form(input, (ph, pw), (grid_h_max, grid_w_max))
    bin_sums = _separable_sums if separable else _sampled_sums
    with torch.autocast(input.device.type, enabled=False):  # float32 (or 64) throughout
        sums = bin_sums(input.to(work), layout, (xs, x_ok), (ys, y_ok))
        return (layout.unpad(sums) / count[:, None, None, None]).to(out_dtype)


# The CPU's exchange rate between the two forms: interpolating one sample in ``grid_sample``
# (and pooling it) costs about as much as 200 multiply-adds of the separable form's matrix
# products (measured on a 2-core AMD EPYC, 20 rois of 32 x 32 bins at 2 x 2 samples:
# the forms break even between maps of 128 and 160 cells a side).
_MACS_PER_SAMPLE = 200


def _separable_form(
    input: torch.Tensor, output_size: tuple[int, int], grid: tuple[int, int]
) -> bool:
    """Whether this call computes its bins by `_separable_sums` (else `_sampled_sums`).

    A traced graph (ONNX export: ``grid_sample`` is one operator there) and a call under a
    dispatch mode (``count_macs``'s ``FlopCounterMode``, which would count the products as
    the network's multiply-accumulates, so that a count depended on the form) sample. Otherwise
    the separable form serves when gradients flow, and without them where it is cheaper
    (`_separable_is_cheaper`).
    """
    if torch.jit.is_tracing() or is_in_torch_dispatch_mode():
        return False
    if torch.is_grad_enabled() and input.requires_grad:
        return True
    return _separable_is_cheaper(input, output_size, grid)


def _separable_is_cheaper(
    input: torch.Tensor, output_size: tuple[int, int], grid: tuple[int, int]
) -> bool:
    """Whether the matrix products of `_separable_sums` cost less than sampling every bin
    with ``grid_sample`` (`_sampled_sums`) on this map, without gradients.

    Per roi and channel the products take ``pw * H * W + ph * pw * H`` multiply-adds,
    whatever the roi's size, and the sampled form ``ph * pw * grid_h * grid_w`` samples:
    so the products win on the small maps of the coarser levels and of small inputs, the
    sampling on large maps. The rule holds for the CPU, where it was measured; elsewhere
    the sampled form stays.
    """
    if input.device.type != "cpu":
        return False
    (ph, pw), (grid_h, grid_w), (height, width) = output_size, grid, input.shape[-2:]
    products = pw * height * width + ph * pw * height
    return products <= _MACS_PER_SAMPLE * ph * pw * grid_h * grid_w


class _Layout:
    """Rois in per-image slots: `(N, ...)` rows <-> `(B, slots, ...)` padded blocks."""

    def __init__(
        self, images: int, slots: int, batch: torch.Tensor | None, slot: torch.Tensor | None
    ) -> None:
        self.images, self.slots, self.batch, self.slot = images, slots, batch, slot

    def pad(self, t: torch.Tensor, fill: float) -> torch.Tensor:
        if self.batch is None:  # uniform: a reshape
            return t.reshape(self.images, self.slots, *t.shape[1:])
        out = t.new_full((self.images, self.slots, *t.shape[1:]), fill)
        out[self.batch, self.slot] = t
        return out

    def unpad(self, t: torch.Tensor) -> torch.Tensor:
        if self.batch is None:
            return t.reshape(self.images * self.slots, *t.shape[2:])
        return t[self.batch, self.slot]


def _sampled_sums(
    input: torch.Tensor,
    layout: _Layout,
    x: tuple[torch.Tensor, torch.Tensor],
    y: tuple[torch.Tensor, torch.Tensor],
) -> torch.Tensor:
    """Each bin's sum of samples `(B, slots, C, h, w)`: every sample interpolated by one
    ``grid_sample`` call (the forward on large maps: it reads only the samples)."""
    (xs, x_ok), (ys, y_ok) = x, y
    num_images, channels, height, width = input.shape
    (_, pw, grid_w), (_, ph, grid_h) = xs.shape, ys.shape
    # Clamp as torchvision does and normalise for grid_sample (align_corners=False); a
    # sample that contributes 0 goes far outside the map, into the zero padding.
    gx = torch.where(x_ok, (2 * xs.clamp(0, width - 1) + 1) / width - 1, _OUTSIDE)
    gy = torch.where(y_ok, (2 * ys.clamp(0, height - 1) + 1) / height - 1, _OUTSIDE)
    gx, gy = layout.pad(gx, _OUTSIDE), layout.pad(gy, _OUTSIDE)
    sample_grid = torch.stack(
        torch.broadcast_tensors(gx[:, :, None, None, :, :], gy[:, :, :, :, None, None]), dim=-1
    ).reshape(num_images, layout.slots * ph * grid_h, pw * grid_w, 2)
    samples = F.grid_sample(
        input, sample_grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )  # (B, C, slots * ph * grid_h, pw * grid_w)
    # Sum each bin's samples (mean pooling times the padded grid size).
    sums = F.avg_pool2d(samples, (grid_h, grid_w)) * (grid_h * grid_w)
    return sums.view(num_images, channels, layout.slots, ph, pw).transpose(1, 2)


def _axis_weights(pos: torch.Tensor, ok: torch.Tensor, length: int) -> torch.Tensor:
    """Bilinear weights of every bin along one axis, its samples summed: `(N, bins, length)`.

    torchvision's ``bilinear_interpolate`` along one axis: a position is clamped at 0,
    the last cell takes all of a position at or past it, the others split it between
    ``floor`` and ``floor + 1``; a sample that contributes 0 (``ok`` false) weighs 0.
    """
    p = pos.clamp(min=0)
    low = p.floor().long()
    last = low >= length - 1
    low = low.clamp(max=length - 1)
    frac = torch.where(last, 0.0, p - low)
    high = torch.where(last, low, low + 1)
    on = ok.to(pos.dtype)
    weights = pos.new_zeros(*pos.shape[:2], length)
    weights.scatter_add_(2, low, (1 - frac) * on)
    return weights.scatter_add_(2, high, frac * on)


def _separable_sums(
    input: torch.Tensor,
    layout: _Layout,
    x: tuple[torch.Tensor, torch.Tensor],
    y: tuple[torch.Tensor, torch.Tensor],
) -> torch.Tensor:
    """Each bin's sum of samples `(B, slots, C, h, w)` as two matrix products per image.

    A bilinear sample weighs rows and columns independently, and so does the sum over a
    bin's sub-grid: bin ``(p, q)`` of a roi is ``Wy[p] @ X @ Wx[q]`` for the roi's image
    ``X`` `(H, W)` and per-axis weights. Its backward is two matrix products too, where
    ``grid_sample``'s backward scatters sample by sample (several times slower on a CPU),
    so this form serves when gradients flow, and without them on maps small enough that
    its products cost less than the samples (`_separable_is_cheaper`).
    """
    (xs, x_ok), (ys, y_ok) = x, y
    num_images, channels, height, width = input.shape
    pw, ph = xs.shape[1], ys.shape[1]
    slots = layout.slots
    wx = layout.pad(_axis_weights(xs, x_ok, width), 0.0)  # (B, S, pw, W)
    wy = layout.pad(_axis_weights(ys, y_ok, height), 0.0)  # (B, S, ph, H)
    # channels last (B, H, W, C): a view of a channels-last map (the training layout), whose
    # gradient then comes back channels-last too
    pixels = input.permute(0, 2, 3, 1)
    # columns: (B, 1, S*pw, W) @ (B, H, W, C) -> (B, H, S*pw, C)
    cols = wx.reshape(num_images, 1, slots * pw, width) @ pixels
    # rows: (B, S, ph, H) @ (B, S, H, pw*C) -> (B, S, ph, pw*C)
    cols = cols.view(num_images, height, slots, pw * channels).transpose(1, 2)
    sums = wy @ cols
    return sums.view(num_images, slots, ph, pw, channels).permute(0, 1, 4, 2, 3)


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
