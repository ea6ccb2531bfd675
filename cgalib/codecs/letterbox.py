"""The letterbox codec: image pixels <-> model input pixels, for training data and inference.

One resize rule and one pixel convention for every image that enters a model:

- **Resize.** The longer side becomes ``size`` and the aspect ratio is kept: ``scale =
  size / max(H, W)``, the shorter side rounded to whole pixels (a point on it moves by at
  most half a pixel; a side under half a pixel is kept at one, and a point on it moves by
  less than one). Downscaling is antialiased.
- **Pad.** Zeros go right and bottom only, so the content keeps the top-left origin and
  the inverse is the single factor ``1 / scale``. Training pads every image to a
  ``size x size`` square (one tensor per batch); inference pads each side up to a
  multiple of the model's stride (32 for TNet), the image's canvas
  ([`letterbox_shape()`][letterbox_shape]). [`letterbox_batch()`][letterbox_batch] pads a batch to its
  largest canvas, so the [`Predictor`][cgalib.Predictor] batches images of one canvas only
  (padding changes a network's output near it).
- **Pixel convention.** Boxes are continuous xyxy, pixel ``i`` spanning ``[i, i + 1)``
  (COCO's ``bbox``), so they map by ``b -> b * scale``. Keypoints are COCO pixel
  *indices*, pixel centres at integers, so they map by ``x -> (x + 0.5) * scale - 0.5``.
  The inverses ([`unletterbox_boxes()`][unletterbox_boxes], [`unletterbox_keypoints()`][unletterbox_keypoints]) undo exactly
  that and clip to the original image.

Example:
    >>> image = torch.zeros(3, 480, 640, dtype=torch.uint8)
    >>> boxed, scale = letterbox(image, 512)
    >>> tuple(boxed.shape), scale
    ((3, 512, 512), 0.8)
    >>> kps = torch.tensor([[[100.0, 200.0, 2.0]]])
    >>> back = unletterbox_keypoints(letterbox_keypoints(kps, scale), scale, (480, 640))
    >>> torch.allclose(back, kps)
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from cgalib.utils.image import to_float_image

__all__ = [
    "letterbox",
    "letterbox_batch",
    "letterbox_boxes",
    "letterbox_keypoints",
    "letterbox_shape",
    "letterbox_size",
    "letterbox_target",
    "unletterbox_boxes",
    "unletterbox_keypoints",
]


def letterbox_size(height: int, width: int, size: int) -> tuple[float, int, int]:
    """The scale and resized ``(height, width)`` of an image letterboxed to ``size``.

    Args:
        height: image height in pixels.
        width: image width in pixels.
        size: target length of the longer side.

    Returns:
        ``(scale, new_height, new_width)`` with ``scale = size / max(height, width)``.

    Examples:
        >>> letterbox_size(480, 640, 512)
        (0.8, 384, 512)
    """
    if height < 1 or width < 1:
        raise ValueError(f"cannot letterbox an empty image ({height}x{width})")
    if size < 1:
        raise ValueError(f"letterbox size must be positive, got {size}")
    scale = size / max(height, width)
    return (
        scale,
        max(1, min(size, round(height * scale))),
        max(1, min(size, round(width * scale))),
    )


def letterbox_shape(
    height: int, width: int, size: int, pad_multiple: int | None = None
) -> tuple[int, int]:
    """The ``(H, W)`` of an image after [`letterbox()`][letterbox]: its canvas.

    Args:
        height: image height in pixels.
        width: image width in pixels.
        size: target length of the longer side.
        pad_multiple: ``None`` for the ``size x size`` square (training); an int pads each
            resized side up to a multiple of it (inference).

    Returns:
        The padded ``(H, W)``; images of one canvas batch together exactly as they run
        alone.

    Examples:
        >>> letterbox_shape(480, 640, 512, 32), letterbox_shape(480, 640, 512)
        ((384, 512), (512, 512))
    """
    _, nh, nw = letterbox_size(height, width, size)
    if pad_multiple is None:
        return size, size
    return math.ceil(nh / pad_multiple) * pad_multiple, math.ceil(nw / pad_multiple) * pad_multiple


def letterbox(
    image: torch.Tensor, size: int, pad_multiple: int | None = None
) -> tuple[torch.Tensor, float]:
    """Resize so the longer side is ``size`` (keeping the aspect ratio) and pad with zeros.

    Args:
        image: `(C, H, W)` ``uint8`` (kept ``uint8``, rounded) or float (kept in its
            dtype; values are resampled, not clipped).
        size: length of the longer side after resizing.
        pad_multiple: ``None`` pads to a ``size x size`` square (training batches);
            an int pads height and width up to multiples of it (inference).

    Returns:
        The letterboxed image (same dtype and device) and ``scale``.

    Shape:
        - image: `(C, H, W)`
        - output: `(C, size, size)`, or `(C, H', W')` with ``H'``, ``W'`` multiples of
          ``pad_multiple``

    Examples:
        >>> out, scale = letterbox(torch.zeros(3, 60, 100), 200, pad_multiple=32)
        >>> tuple(out.shape), scale
        ((3, 128, 224), 2.0)
    """
    if not isinstance(image, torch.Tensor) or image.dim() != 3:
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise ValueError(f"letterbox expects an image (C, H, W), got {shape}")
    c, h, w = image.shape
    scale, nh, nw = letterbox_size(h, w, size)
    x = image
    if (nh, nw) != (h, w):
        # PyTorch's antialiased bilinear kernel is wrong (it can drop content entirely) when
        # the output width is 1 and the height shrinks; an output height of 1 is right, so
        # such images are resized transposed.
        flip = nw == 1 and nh < h
        x = F.interpolate(
            image[None].float().transpose(-1, -2) if flip else image[None].float(),
            size=(nw, nh) if flip else (nh, nw), mode="bilinear", align_corners=False,
            antialias=scale < 1,
        )[0]  # fmt: skip
        if flip:
            x = x.transpose(-1, -2)
        if image.dtype == torch.uint8:
            x = x.round_().clamp_(0, 255).to(torch.uint8)
        else:
            x = x.to(image.dtype)
    out = image.new_zeros(c, *letterbox_shape(h, w, size, pad_multiple))
    out[:, :nh, :nw] = x
    return out, scale


def letterbox_batch(
    images: Sequence[torch.Tensor], size: int, multiple: int = 32
) -> tuple[torch.Tensor, torch.Tensor]:
    """Letterbox images of any sizes into one float batch (the inference path).

    Each image is converted to float 0..1 ([`to_float_image()`][cgalib.utils.to_float_image]), resized
    so its longer side is ``size`` (clipped to 0..1 again, as antialiasing can overshoot)
    and padded right and bottom to the largest resized image of the batch, rounded up to
    ``multiple``.

    Args:
        images: RGB ``uint8`` or float (0..1) tensors `(3, H_i, W_i)` on one device.
        size: length of the longer side.
        multiple: the padded height and width are multiples of this.

    Returns:
        A float batch `(B, 3, H, W)` in 0..1 and each image's ``scale`` `(B,)`.

    Examples:
        >>> batch, scale = letterbox_batch([torch.zeros(3, 480, 640, dtype=torch.uint8)], 512)
        >>> tuple(batch.shape), [round(s, 3) for s in scale.tolist()]
        ((1, 3, 384, 512), [0.8])
    """
    if not images:
        raise ValueError("letterbox_batch needs at least one image")
    boxed, scales = zip(*(letterbox(to_float_image(i), size, multiple) for i in images))
    height = max(b.shape[-2] for b in boxed)
    width = max(b.shape[-1] for b in boxed)
    batch = boxed[0].new_zeros(len(boxed), 3, height, width)
    for i, b in enumerate(boxed):
        batch[i, :, : b.shape[-2], : b.shape[-1]] = b
    return batch.clamp_(0, 1), torch.tensor(scales, dtype=torch.float32)


def letterbox_boxes(boxes: torch.Tensor, scale: float) -> torch.Tensor:
    """Continuous xyxy boxes from image to letterboxed pixels: ``b * scale``.

    Shape:
        - boxes: `(..., 4)`
        - output: `(..., 4)`
    """
    return boxes * scale


def unletterbox_boxes(
    boxes: torch.Tensor, scale: float, size: tuple[int, int] | None = None
) -> torch.Tensor:
    """Letterboxed xyxy boxes back to image pixels: ``b / scale``, clipped to the image.

    Args:
        boxes: xyxy boxes in letterboxed (model input) pixels.
        scale: the letterbox factor of the image.
        size: ``(H, W)`` of the original image to clip to (``None``: no clipping).

    Shape:
        - boxes: `(..., 4)`
        - output: `(..., 4)`

    Examples:
        >>> unletterbox_boxes(torch.tensor([[8.0, 8.0, 90.0, 40.0]]), 2.0, (30, 40)).tolist()
        [[4.0, 4.0, 40.0, 20.0]]
    """
    out = boxes / scale
    if size is not None:
        h, w = size
        out = torch.stack(
            [out[..., 0].clamp(0, w), out[..., 1].clamp(0, h), out[..., 2].clamp(0, w),
             out[..., 3].clamp(0, h)], -1,
        )  # fmt: skip
    return out


def letterbox_keypoints(keypoints: torch.Tensor, scale: float) -> torch.Tensor:
    """Keypoint pixel indices from image to letterboxed pixels: ``(x + 0.5) * scale - 0.5``.

    Only labelled keypoints (``v > 0``) move; unlabelled ones stay ``(0, 0, 0)``.

    Shape:
        - keypoints: `(..., K, 3)` as (x, y, v)
        - output: `(..., K, 3)`
    """
    kps = keypoints.clone()
    labelled = kps[..., 2:] > 0
    kps[..., :2] = torch.where(labelled, (kps[..., :2] + 0.5) * scale - 0.5, 0.0)
    return kps


def unletterbox_keypoints(
    keypoints: torch.Tensor, scale: float, size: tuple[int, int] | None = None
) -> torch.Tensor:
    """Letterboxed keypoints back to image pixel indices: ``(x + 0.5) / scale - 0.5``.

    Every keypoint moves (predictions locate all of them); the third column (visibility
    or score) is kept. With ``size``, coordinates are clipped to the pixel centres of the
    image, ``[0, W - 1] x [0, H - 1]``.

    Args:
        keypoints: `(..., K, 3)` in letterboxed pixels.
        scale: the letterbox factor of the image.
        size: ``(H, W)`` of the original image (``None``: no clipping).

    Shape:
        - keypoints: `(..., K, 3)`
        - output: `(..., K, 3)`

    Examples:
        >>> kps = torch.tensor([[[19.5, 9.5, 0.9]]])
        >>> unletterbox_keypoints(kps, 2.0).tolist()
        [[[9.5, 4.5, 0.8999999761581421]]]
    """
    kps = keypoints.clone()
    kps[..., :2] = (kps[..., :2] + 0.5) / scale - 0.5
    if size is not None:
        h, w = size
        kps[..., 0] = kps[..., 0].clamp(0, w - 1)
        kps[..., 1] = kps[..., 1].clamp(0, h - 1)
    return kps


def _letterbox_mask(mask: torch.Tensor, size: int) -> torch.Tensor:
    """Resize bool masks `(..., H, W)` like [`letterbox()`][letterbox] (nearest pixel centre) and pad."""
    h, w = mask.shape[-2:]
    _, nh, nw = letterbox_size(h, w, size)
    lead = mask.shape[:-2]
    flat = mask.reshape(-1, 1, h, w)
    out = torch.zeros(flat.shape[0], size, size, dtype=torch.bool, device=mask.device)
    if flat.shape[0] == 0:
        return out.reshape(*lead, size, size)
    if (nh, nw) != (h, w):
        flat = F.interpolate(flat.to(torch.uint8), size=(nh, nw), mode="nearest-exact")
    out[:, :nh, :nw] = flat[:, 0].bool()
    return out.reshape(*lead, size, size)


def letterbox_target(target: dict, scale: float, size: int) -> dict:
    """Apply the square letterbox of [`letterbox()`][letterbox] to a target dict (a new dict).

    ``boxes`` and ``crowd_boxes`` go through [`letterbox_boxes()`][letterbox_boxes], ``keypoints``
    through [`letterbox_keypoints()`][letterbox_keypoints]; ``masks`` `(N, H, W)` and ``ignore_mask``
    `(H, W)` are resized (nearest) and padded to ``size x size``; ``scale`` and ``size``
    are recorded. Other entries are kept.

    Args:
        target: dict with any of ``boxes``, ``crowd_boxes``, ``keypoints``, ``masks``,
            ``ignore_mask``.
        scale: the factor returned by [`letterbox()`][letterbox].
        size: the letterbox size.

    Returns:
        The transformed target.

    Examples:
        >>> t = {"boxes": torch.tensor([[10.0, 20.0, 30.0, 40.0]]),
        ...      "keypoints": torch.tensor([[[9.5, 9.5, 2.0]]])}
        >>> out = letterbox_target(t, 2.0, 128)
        >>> out["boxes"].tolist(), out["keypoints"][0, 0].tolist()
        ([[20.0, 40.0, 60.0, 80.0]], [19.5, 19.5, 2.0])
    """
    out = dict(target)
    for key in ("boxes", "crowd_boxes"):
        if key in out:
            out[key] = letterbox_boxes(out[key], scale)
    if "keypoints" in out:
        out["keypoints"] = letterbox_keypoints(out["keypoints"], scale)
    for key in ("masks", "ignore_mask"):
        if key in out:
            out[key] = _letterbox_mask(out[key], size)
    out["scale"] = torch.tensor(scale, dtype=torch.float32)
    out["size"] = torch.tensor([size, size], dtype=torch.int64)
    return out
