"""The crop codec (affine frame): image pixels <-> person-crop pixels, for top-down models.

A person box becomes a *crop region*: the box grown on its shorter side to the crop's
aspect ratio (192:256 for a 256x192 crop) and padded by 1.25 around its centre, the
convention of SimpleBaseline and HRNet ([`person_crop_boxes()`][person_crop_boxes]). One affine per crop
maps the region onto the crop ([`crop_affine()`][crop_affine]): scale, an optional rotation about the
region centre and an optional horizontal flip; [`invert_affine()`][invert_affine] is its inverse.

- **Matrices** act on pixel *indices* (pixel centres at integers), exactly as kornia's
  ``warp_affine(..., align_corners=True)`` samples them ([`crop_images()`][crop_images]), so a
  keypoint moves with its pixel: ``q = A p + t``.
- **Regions** are continuous xyxy (pixel ``i`` spans ``[i, i + 1)``); the region's
  continuous extent maps onto the crop's ``[0, W] x [0, H]``.
- **Keypoints** go forward with [`crop_keypoints()`][crop_keypoints] (points leaving the crop become
  unlabelled, left/right swapped in a flipped crop) and back with
  [`uncrop_keypoints()`][uncrop_keypoints]; **boxes** forward and back with [`affine_boxes()`][affine_boxes] and the
  matrix or its inverse.
- **Outside the image** the crop is zeros: a box touching the border gives a crop with
  a black margin, and keypoints found there still map back exactly.

**Beside mmpose's crop affines** (``mmpose/structures/bbox/transforms.py``; image ``y``
points down, ``R(t) = [[cos t, -sin t], [sin t, cos t]]``, ``c`` the box centre, ``w`` the
region's or box scale's width, ``W`` the crop's):

| | cgalib [`crop_affine()`][crop_affine] | mmpose ``get_warp_matrix`` | mmpose ``get_udp_warp_matrix`` |
|---|---|---|---|
| rotation ``t > 0`` | ``R(t)``: the crop shows the image turned clockwise on screen | ``R(-t)``: counter-clockwise | ``R(t)``: clockwise |
| the centre goes to (pixel index) | ``((W - 1) / 2, (H - 1) / 2)`` | ``(W / 2, H / 2)`` | ``((W - 1) / 2, (H - 1) / 2)`` |
| scale | ``W / w`` | ``W / w`` | ``(W - 1) / w`` |
| on pixel indices ``p`` (no rotation) | ``q = s (p + 0.5 - c) + W / 2 - 0.5`` | ``q = s (p - c) + W / 2`` | ``q = s (p - c) + (W - 1) / 2`` |

So a rotation of ``t`` degrees here is mmpose's ``rot = -t`` in ``get_warp_matrix`` (its
``src_dir`` is the box's left-pointing half-width turned by ``R(t)`` and sent to the crop's
left edge, hence ``A ~ R(-t)``), and its UDP matrix turns the other way from its own
default. Random rotations symmetric about 0 train the same under either sign; a fixed
angle carried from an mmpose config must change sign. The pixel-centre convention: cgalib
treats a region as continuous (pixel ``i`` spans ``[i, i + 1)``) and sends its extent onto
the crop's ``[0, W]``, so the region's centre lands on the centre of the crop's middle
(``(W - 1) / 2`` as an index); ``get_warp_matrix`` uses one frame for coordinates and
pixel indices and sends the centre to ``W / 2``, ``0.5 (s - 1)`` crop pixels from cgalib's
``q`` (0 at scale 1), the bias that UDP (Huang et al. 2020) removes with its ``W - 1``.
Encoding and decoding with the same matrix cancels either convention; it shows in the
flip test (cgalib mirrors without a shift, SimpleBaseline/HRNet shift one heatmap cell:
``docs/top-down.md``).

Example:
    >>> box = torch.tensor([[40.0, 20.0, 88.0, 148.0]])  # 48 x 128 pixels
    >>> region = person_crop_boxes(box, (256, 192))  # grown to 3:4, padded by 1.25
    >>> region.tolist()
    [[4.0, 4.0, 124.0, 164.0]]
    >>> m = crop_affine(region, (256, 192))
    >>> kps = torch.tensor([[[63.5, 83.5, 2.0]]])  # the region centre (64, 84) as an index
    >>> crop_keypoints(kps, m, (256, 192)).tolist()  # the crop centre, (W - 1) / 2
    [[[95.5, 127.5, 2.0]]]
    >>> torch.allclose(uncrop_keypoints(crop_keypoints(kps, m, (256, 192)), m), kps)
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from kornia.geometry.transform import warp_affine

from cgalib.utils.image import to_float_image
from cgalib.utils.keypoint_set import check_permutation

__all__ = [
    "CROP_PADDING",
    "affine_boxes",
    "affine_keypoints",
    "crop_affine",
    "crop_images",
    "crop_keypoints",
    "invert_affine",
    "is_flipped",
    "person_crop_boxes",
    "transform_points",
    "uncrop_keypoints",
    "whole_crop_boxes",
]

CROP_PADDING = 1.25
"""How much a person's aspect-fixed box is enlarged around its centre to make the crop
region (SimpleBaseline/HRNet's 1.25): some context around the person, room for limbs that
stick out of a tight box."""


def _check_matrices(matrices: torch.Tensor, name: str) -> None:
    if not isinstance(matrices, torch.Tensor) or matrices.shape[-2:] != (2, 3):
        shape = tuple(matrices.shape) if isinstance(matrices, torch.Tensor) else matrices
        raise ValueError(f"{name} expects affine matrices (2, 3) or (N, 2, 3), got {shape}")


def _size(size: Sequence[int], name: str) -> tuple[int, int]:
    if len(size) != 2 or any(int(s) <= 0 for s in size):
        raise ValueError(f"{name} must be a positive (H, W), got {tuple(size)}")
    return int(size[0]), int(size[1])


def person_crop_boxes(
    boxes: torch.Tensor,
    crop_size: Sequence[int],
    padding: float = CROP_PADDING,
    min_size: float = 1.0,
) -> torch.Tensor:
    """The crop region of each person box: aspect ratio of the crop, padded around the centre.

    The box keeps its centre; its shorter side (relative to the crop's ``W / H``) grows
    until the aspect ratios agree, then both sides are multiplied by ``padding``. A box
    thinner than ``min_size`` pixels is treated as ``min_size`` wide (a degenerate
    detection still gets a small, valid crop).

    Args:
        boxes: person boxes, continuous xyxy in image pixels.
        crop_size: ``(H, W)`` of the crops.
        padding: enlargement of the aspect-fixed box (default [`CROP_PADDING`][CROP_PADDING]).
        min_size: smallest side in pixels before the aspect fix.

    Returns:
        The crop regions, continuous xyxy in image pixels (they may reach outside the
        image).

    Shape:
        - boxes: `(N, 4)`
        - output: `(N, 4)`

    Examples:
        >>> person_crop_boxes(torch.tensor([[0.0, 0.0, 30.0, 30.0]]), (256, 192), 1.0)
        tensor([[ 0., -5., 30., 35.]])
    """
    if not isinstance(boxes, torch.Tensor) or boxes.dim() != 2 or boxes.shape[-1] != 4:
        shape = tuple(boxes.shape) if isinstance(boxes, torch.Tensor) else type(boxes).__name__
        raise ValueError(f"person_crop_boxes expects boxes (N, 4), got {shape}")
    if padding <= 0:
        raise ValueError(f"padding must be positive, got {padding}")
    h, w = _size(crop_size, "crop_size")
    boxes = boxes if boxes.is_floating_point() else boxes.float()
    center = (boxes[:, :2] + boxes[:, 2:]) / 2
    bw = (boxes[:, 2] - boxes[:, 0]).clamp(min=min_size)
    bh = (boxes[:, 3] - boxes[:, 1]).clamp(min=min_size)
    aspect = w / h
    bw, bh = torch.maximum(bw, bh * aspect), torch.maximum(bh, bw / aspect)
    half = torch.stack([bw, bh], -1) * (padding / 2)
    return torch.cat([center - half, center + half], -1)


def crop_affine(
    regions: torch.Tensor,
    crop_size: Sequence[int],
    scale: torch.Tensor | None = None,
    rotation: torch.Tensor | None = None,
    flip: torch.Tensor | None = None,
) -> torch.Tensor:
    """The affine of each crop: image pixel indices -> crop pixel indices.

    In continuous coordinates the region's centre ``c`` goes to the crop centre and its
    extent onto the crop: ``q = F R S (p - c) + (W / 2, H / 2)`` with ``S`` the scale
    ``(W / w_region, H / h_region) / scale``, ``R`` a rotation by ``rotation`` degrees
    (clockwise on screen, image ``y`` pointing down) and ``F`` a mirror about the crop's
    vertical centre line where ``flip``. On pixel indices (``p = i + 0.5``) that is
    ``q_i = A (p_i + 0.5 - c) + (W / 2, H / 2) - 0.5``.

    Args:
        regions: crop regions, continuous xyxy (see [`person_crop_boxes()`][person_crop_boxes]).
        crop_size: ``(H, W)`` of the crops.
        scale: per crop, the factor the region is enlarged by (``> 1`` zooms out);
            default 1.
        rotation: per crop, degrees; default 0.
        flip: per crop, bool; default no flip.

    Returns:
        The matrices, in the regions' dtype (float32 for integer regions).

    Shape:
        - regions: `(N, 4)`
        - scale, rotation, flip: `(N,)`
        - output: `(N, 2, 3)`

    Examples:
        >>> m = crop_affine(torch.tensor([[10.0, 0.0, 58.0, 64.0]]), (128, 96))
        >>> m.shape
        torch.Size([1, 2, 3])
        >>> corners = torch.tensor([[[9.5, -0.5, 1.0], [57.5, 63.5, 1.0]]])  # as indices
        >>> transform_points(corners, m).tolist()  # onto the crop's corners
        [[[-0.5, -0.5, 1.0], [95.5, 127.5, 1.0]]]
    """
    if not isinstance(regions, torch.Tensor) or regions.dim() != 2 or regions.shape[-1] != 4:
        shape = tuple(regions.shape) if isinstance(regions, torch.Tensor) else regions
        raise ValueError(f"crop_affine expects regions (N, 4), got {shape}")
    h, w = _size(crop_size, "crop_size")
    dtype = regions.dtype if regions.is_floating_point() else torch.float32
    regions = regions.to(dtype)
    n = regions.shape[0]
    extent = (regions[:, 2:] - regions[:, :2]).clamp(min=torch.finfo(dtype).eps)
    sx, sy = w / extent[:, 0], h / extent[:, 1]
    if scale is not None:
        s = torch.as_tensor(scale, dtype=dtype, device=regions.device).reshape(n)
        sx, sy = sx / s, sy / s
    angle = (
        torch.zeros(n, dtype=dtype, device=regions.device)
        if rotation is None
        else torch.deg2rad(torch.as_tensor(rotation, dtype=dtype, device=regions.device)).reshape(n)
    )
    cos, sin = torch.cos(angle), torch.sin(angle)
    mirror = torch.ones(n, dtype=dtype, device=regions.device)
    if flip is not None:
        flip = torch.as_tensor(flip, device=regions.device).reshape(n).bool()
        mirror = torch.where(flip, -mirror, mirror)
    # A = F R S: the first row of R S is negated where flipped
    lin = torch.stack(
        [
            torch.stack([mirror * cos * sx, -mirror * sin * sy], -1),
            torch.stack([sin * sx, cos * sy], -1),
        ],
        -2,
    )  # (N, 2, 2)
    center = (regions[:, :2] + regions[:, 2:]) / 2
    out_center = torch.tensor([w / 2 - 0.5, h / 2 - 0.5], dtype=dtype, device=regions.device)
    shift = (lin @ (0.5 - center)[..., None])[..., 0] + out_center
    return torch.cat([lin, shift[..., None]], -1)


def invert_affine(matrices: torch.Tensor) -> torch.Tensor:
    """The inverse of `(2, 3)` affine matrices: crop pixel indices -> image pixel indices.

    Shape:
        - matrices: `(..., 2, 3)`
        - output: `(..., 2, 3)`

    Examples:
        >>> m = torch.tensor([[2.0, 0.0, 1.0], [0.0, 4.0, -2.0]])
        >>> invert_affine(m)
        tensor([[ 0.5000,  0.0000, -0.5000],
                [ 0.0000,  0.2500,  0.5000]])
    """
    _check_matrices(matrices, "invert_affine")
    lin = torch.linalg.inv(matrices[..., :2])
    return torch.cat([lin, -(lin @ matrices[..., 2:])], -1)


def is_flipped(matrices: torch.Tensor) -> torch.Tensor:
    """Whether each affine mirrors the image (a negative determinant).

    Shape:
        - matrices: `(..., 2, 3)`
        - output: `(...)` bool

    Examples:
        >>> is_flipped(torch.tensor([[[-1.0, 0.0, 9.0], [0.0, 1.0, 0.0]]])).tolist()
        [True]
    """
    _check_matrices(matrices, "is_flipped")
    m = matrices
    return m[..., 0, 0] * m[..., 1, 1] - m[..., 0, 1] * m[..., 1, 0] < 0


def transform_points(points: torch.Tensor, matrices: torch.Tensor) -> torch.Tensor:
    """Move the ``(x, y)`` columns of points by affine matrices; other columns are kept.

    Args:
        points: ``(x, y, ...)`` pixel indices.
        matrices: one `(2, 3)` for all, or one per row of ``points``.

    Returns:
        The moved points (every point moves, none is dropped).

    Shape:
        - points: `(N, K, 2+)`
        - matrices: `(2, 3)` or `(N, 2, 3)`
        - output: `(N, K, 2+)`

    Examples:
        >>> m = torch.tensor([[2.0, 0.0, 1.0], [0.0, 2.0, 0.0]])
        >>> transform_points(torch.tensor([[[3.0, 4.0, 0.5]]]), m).tolist()
        [[[7.0, 8.0, 0.5]]]
    """
    _check_matrices(matrices, "transform_points")
    if points.dim() != 3 or points.shape[-1] < 2:
        raise ValueError(f"transform_points expects points (N, K, 2+), got {tuple(points.shape)}")
    if matrices.dim() == 3 and matrices.shape[0] != points.shape[0]:
        raise ValueError(
            f"transform_points got {matrices.shape[0]} matrices for {points.shape[0]} rows of points"
        )
    m = matrices.to(points.dtype)
    xy = points[..., :2] @ m[..., :2].transpose(-1, -2) + m[..., None, :, 2]
    return torch.cat([xy, points[..., 2:]], -1)


def affine_keypoints(
    keypoints: torch.Tensor, matrix: torch.Tensor, size: tuple[int, int]
) -> torch.Tensor:
    """Move labelled keypoints by pixel-index affines; points leaving the output drop.

    Args:
        keypoints: `(N, K, 3)` ``(x, y, v)``; ``v > 0`` are labelled.
        matrix: `(2, 3)` affine from input to output pixel indices, or one per person
            `(N, 2, 3)`.
        size: output ``(H, W)``.

    Returns:
        `(N, K, 3)`; keypoints outside ``[-0.5, W - 0.5) x [-0.5, H - 0.5)`` (no output
        pixel) become ``(0, 0, 0)``, like the unlabelled ones.

    Examples:
        >>> m = torch.tensor([[2.0, 0.0, 1.0], [0.0, 2.0, 0.0]])
        >>> affine_keypoints(torch.tensor([[[3.0, 4.0, 2.0], [9.0, 1.0, 1.0]]]), m, (16, 16))
        tensor([[[7., 8., 2.],
                 [0., 0., 0.]]])
    """
    h, w = size
    out = transform_points(keypoints, matrix)
    xy = out[..., :2]
    inside = (
        (keypoints[..., 2] > 0)
        & (xy[..., 0] >= -0.5) & (xy[..., 0] < w - 0.5)
        & (xy[..., 1] >= -0.5) & (xy[..., 1] < h - 0.5)
    )  # fmt: skip
    return torch.where(inside[..., None], out, torch.zeros_like(out))


def _flip_rows(
    keypoints: torch.Tensor, matrices: torch.Tensor, flip_index: Sequence[int] | None
) -> torch.Tensor:
    """Swap left and right keypoints (``flip_index``) in the rows whose affine mirrors."""
    if flip_index is None:
        return keypoints
    permutation = check_permutation(flip_index, keypoints.shape[1])
    index = torch.as_tensor(permutation, dtype=torch.long, device=keypoints.device)
    flipped = is_flipped(matrices).to(keypoints.device)
    if flipped.dim() == 0:
        flipped = flipped.expand(keypoints.shape[0])
    return torch.where(flipped[:, None, None], keypoints[:, index], keypoints)


def crop_keypoints(
    keypoints: torch.Tensor,
    matrices: torch.Tensor,
    crop_size: Sequence[int],
    flip_index: Sequence[int] | None = None,
) -> torch.Tensor:
    """Image keypoints into their crops (encode): moved, dropped outside, sides swapped.

    Labelled keypoints move by their crop's affine ([`affine_keypoints()`][affine_keypoints]); those with
    no crop pixel become ``(0, 0, 0)``. In a mirrored crop the person's left becomes the
    image's right: with ``flip_index``, the keypoints of flipped crops are permuted so that
    row ``k`` is again keypoint ``k``.

    Args:
        keypoints: ``(x, y, v)`` in image pixel indices.
        matrices: each person's crop affine ([`crop_affine()`][crop_affine]).
        crop_size: ``(H, W)`` of the crops.
        flip_index: the keypoint permutation of a horizontal flip (e.g.
            [`FLIP_INDEX`][cgalib.data.FLIP_INDEX]); needed when any crop is flipped.

    Returns:
        ``(x, y, v)`` in crop pixel indices.

    Shape:
        - keypoints: `(N, K, 3)`
        - matrices: `(N, 2, 3)`
        - output: `(N, K, 3)`
    """
    h, w = _size(crop_size, "crop_size")
    out = affine_keypoints(keypoints, matrices, (h, w))
    if flip_index is None and bool(is_flipped(matrices).any()):
        raise ValueError("crop_keypoints needs flip_index for flipped crops (left/right swap)")
    return _flip_rows(out, matrices, flip_index)


def uncrop_keypoints(
    keypoints: torch.Tensor,
    matrices: torch.Tensor,
    image_size: Sequence[int] | None = None,
    flip_index: Sequence[int] | None = None,
) -> torch.Tensor:
    """Crop keypoints back to image pixel indices (decode): the inverse of
    [`crop_keypoints()`][crop_keypoints] for every point (none is dropped).

    The third column (visibility or score) is kept. With ``image_size``, coordinates are
    clipped to the image's pixel centres ``[0, W - 1] x [0, H - 1]`` (as
    [`unletterbox_keypoints()`][cgalib.codecs.unletterbox_keypoints] does).

    Args:
        keypoints: ``(x, y, score)`` in crop pixel indices.
        matrices: each crop's affine (image -> crop), as given to [`crop_keypoints()`][crop_keypoints].
        image_size: ``(H, W)`` of the image to clip to (``None``: no clipping).
        flip_index: the left/right permutation, for flipped crops.

    Returns:
        ``(x, y, score)`` in image pixel indices.

    Shape:
        - keypoints: `(N, K, 3)`
        - matrices: `(N, 2, 3)`
        - output: `(N, K, 3)`
    """
    if flip_index is None and bool(is_flipped(matrices).any()):
        raise ValueError("uncrop_keypoints needs flip_index for flipped crops (left/right swap)")
    dtype = torch.promote_types(keypoints.dtype, matrices.dtype)
    out = transform_points(keypoints.to(dtype), invert_affine(matrices.to(dtype)))
    out = _flip_rows(out, matrices, flip_index).to(keypoints.dtype)
    if image_size is not None:
        h, w = _size(image_size, "image_size")
        out[..., 0] = out[..., 0].clamp(0, w - 1)
        out[..., 1] = out[..., 1].clamp(0, h - 1)
    return out


def whole_crop_boxes(
    n: int, crop_size: Sequence[int], device: torch.device | str | None = None
) -> torch.Tensor:
    """Each whole crop as a ROI box in crop pixel *indices*: ``(-0.5, -0.5, W - 0.5, H - 0.5)``.

    The ROI-keypoint codec (`cgalib.codecs.roi_keypoints`) measures points from the
    box's corner; a crop's continuous extent ``[0, W)`` is ``[-0.5, W - 0.5)`` in pixel
    indices, so with this box crop keypoints (pixel indices) map pixel-centred onto the
    heatmap, ``x_heat = (x + 0.5) / stride - 0.5``, and a mirror ``x -> W - 1 - x`` maps
    heatmap cell ``u`` exactly onto ``w - 1 - u`` (the flip test needs no shift).

    Args:
        n: number of crops.
        crop_size: ``(H, W)`` of the crops.
        device: where to make the boxes.

    Returns:
        `(n, 4)` float32 boxes.

    Examples:
        >>> whole_crop_boxes(1, (256, 192)).tolist()
        [[-0.5, -0.5, 191.5, 255.5]]
    """
    h, w = _size(crop_size, "crop_size")
    box = torch.tensor([-0.5, -0.5, w - 0.5, h - 0.5], dtype=torch.float32, device=device)
    return box.expand(n, 4).clone()


def affine_boxes(
    boxes: torch.Tensor,
    matrix: torch.Tensor,
    size: tuple[int, int] | None,
    mode: Literal["ellipse", "corners"] = "ellipse",
) -> torch.Tensor:
    """Transform xyxy boxes (continuous, pixel ``i`` spans ``[i, i+1)``) by pixel-index affines.

    ``"corners"`` takes the box enclosing the 4 moved corners (it always contains the
    object but grows under rotation: at 45 degrees a tall person's box becomes square);
    ``"ellipse"`` takes the box enclosing the moved inscribed ellipse (exact without
    rotation, much tighter for rotated people). Without rotation both are exact, so a
    crop's box maps back to the image with [`invert_affine()`][invert_affine] of its matrix.

    Args:
        boxes: `(N, 4)` xyxy.
        matrix: `(2, 3)` affine from input to output pixel indices, or one per box
            `(N, 2, 3)`.
        size: output ``(H, W)`` to clip to (``None``: no clipping).
        mode: ``"ellipse"`` or ``"corners"``.

    Returns:
        `(N, 4)` xyxy boxes (inside the output image when ``size`` is given; possibly empty).

    Examples:
        >>> m = torch.tensor([[1.0, 0.0, 5.0], [0.0, 1.0, 0.0]])
        >>> affine_boxes(torch.tensor([[0.0, 0.0, 4.0, 8.0]]), m, (32, 32))
        tensor([[5., 0., 9., 8.]])
    """
    _check_matrices(matrix, "affine_boxes")
    matrix = matrix.to(boxes.dtype)
    lin = matrix[..., :2]
    # pixel-index affine -> continuous coordinates: p_c = A (p - 0.5) + t + 0.5
    shift = matrix[..., 2] + 0.5 - lin.sum(-1) * 0.5
    center = ((boxes[:, :2] + boxes[:, 2:]) / 2)[..., None, :]
    center = (center * lin).sum(-1) + shift  # (N, 2)
    half = (boxes[:, 2:] - boxes[:, :2]) / 2  # (N, 2): a, b
    if mode == "ellipse":
        extent = torch.sqrt((half[:, None, :] * lin).square().sum(-1))
    elif mode == "corners":
        extent = (half[:, None, :] * lin).abs().sum(-1)
    else:
        raise ValueError(f"mode must be 'ellipse' or 'corners', got {mode!r}")
    lo = center - extent
    hi = center + extent
    if size is not None:
        h, w = size
        lo = torch.stack([lo[:, 0].clamp(0, w), lo[:, 1].clamp(0, h)], -1)
        hi = torch.stack([hi[:, 0].clamp(0, w), hi[:, 1].clamp(0, h)], -1)
    return torch.cat([lo, hi], -1)


def crop_images(
    images: torch.Tensor, matrices: torch.Tensor, crop_size: Sequence[int]
) -> torch.Tensor:
    """Cut one crop per image with its affine (kornia ``warp_affine``, bilinear, zero padding).

    Args:
        images: RGB ``uint8`` or float (0..1) images; one per crop (expand an image
            ``image[None].expand(N, -1, -1, -1)`` to cut several crops from it).
        matrices: image -> crop pixel-index affines ([`crop_affine()`][crop_affine]).
        crop_size: ``(H, W)`` of the crops.

    Returns:
        Float crops in 0..1; what lies outside the image is 0.

    Shape:
        - images: `(N, C, H_img, W_img)`
        - matrices: `(N, 2, 3)`
        - output: `(N, C, H, W)`

    Examples:
        >>> image = torch.zeros(1, 3, 100, 80, dtype=torch.uint8)
        >>> m = crop_affine(person_crop_boxes(torch.tensor([[10.0, 10.0, 50.0, 90.0]]), (64, 48)), (64, 48))
        >>> crop_images(image, m, (64, 48)).shape
        torch.Size([1, 3, 64, 48])
    """
    _check_matrices(matrices, "crop_images")
    if images.dim() != 4 or matrices.dim() != 3 or images.shape[0] != matrices.shape[0]:
        raise ValueError(
            f"crop_images expects images (N, C, H, W) and matrices (N, 2, 3) with the same N, "
            f"got {tuple(images.shape)} and {tuple(matrices.shape)}"
        )
    h, w = _size(crop_size, "crop_size")
    x = to_float_image(images)
    if x.shape[0] == 0:
        return x.new_zeros(0, x.shape[1], h, w)
    m = matrices.to(device=x.device, dtype=x.dtype)
    out = warp_affine(x, m, (h, w), mode="bilinear", padding_mode="zeros", align_corners=True)
    return out.clamp_(0, 1)
