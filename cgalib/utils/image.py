"""Turn any supported image input into an RGB ``uint8`` tensor `(3, H, W)`.

**The image-value rule** (one place for every image that enters cgalib, see
docs/conventions.md, "Images"):

- ``uint8`` holds 0..255, ``uint16`` (16-bit files) 0..65535, scaled to 0..255;
- other integer types must hold 0..255, else a ``ValueError`` names the range found;
- floating types must hold 0..1: values within one 8-bit level of it (rounding,
  resampling overshoot) are clipped, anything further (0..255 floats, say) is a
  ``ValueError`` that says to divide by 255; NaN and infinity are errors;
- booleans, complex numbers and empty images are errors.

**Orientation.** Files and PIL images are turned upright by their EXIF orientation tag
(``PIL.ImageOps.exif_transpose``), so every result is in the pixels of the image *as
displayed*; arrays and tensors carry no tag and are taken as they are.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = ["ImageInput", "read_image", "to_float_image", "to_rgb_tensor"]

ImageInput = str | os.PathLike | Image.Image | np.ndarray | torch.Tensor

_FLOAT_SLACK = 1 / 255
"""Float values this far outside 0..1 are clipped (one 8-bit level); further is an error."""

_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N")
_EXIF_ORIENTATION = 0x0112


def read_image(path: str | os.PathLike) -> torch.Tensor:
    """Read an image file as RGB ``uint8`` `(3, H, W)`, upright as displayed.

    Grayscale, palette, RGBA (alpha dropped), CMYK and 16-bit files are converted; the
    EXIF orientation tag is applied (a portrait phone photo stored sideways comes out
    upright, its ``H`` and ``W`` those of the displayed picture). Warnings that PIL
    raises while decoding (a large image, a corrupt EXIF block) are repeated with the
    file's name.

    Args:
        path: the image file.

    Returns:
        `(3, H, W)` ``uint8`` tensor.

    Raises:
        FileNotFoundError: if the file does not exist.
        ValueError: naming the file, if it cannot be decoded (not an image, truncated),
            is larger than PIL's decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS``)
            or breaks the image-value rule (a 32-bit file with values above 255).

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     Image.new("L", (5, 4), 7).save(f"{d}/gray.png")
        ...     read_image(f"{d}/gray.png").shape
        torch.Size([3, 4, 5])
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image not found: {path}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with Image.open(path) as img:
                img.load()
                image = _pil_to_tensor(img, str(path))
        except Image.DecompressionBombError as err:
            raise ValueError(
                f"cannot read image {path}: {err} If the file is trusted, raise "
                f"PIL.Image.MAX_IMAGE_PIXELS (now {Image.MAX_IMAGE_PIXELS}) or downscale it."
            ) from err
        except (UnidentifiedImageError, OSError, SyntaxError, EOFError) as err:
            raise ValueError(f"cannot read image {path}: {err}") from err
    for w in caught:
        warnings.warn(f"{path}: {w.message}", w.category, stacklevel=2)
    return image


def _pil_to_tensor(img: Image.Image, what: str) -> torch.Tensor:
    """A PIL image (any mode, EXIF-oriented) as RGB ``uint8`` `(3, H, W)`."""
    if img.getexif().get(_EXIF_ORIENTATION, 1) != 1:  # exif_transpose copies even if upright
        img = ImageOps.exif_transpose(img)
    if img.mode in _SIXTEEN_BIT_MODES or img.mode in ("I", "F"):
        arr = np.asarray(img)
        if img.mode in _SIXTEEN_BIT_MODES:
            arr = arr.astype(np.uint16)  # native byte order for the big-endian modes
        return _to_uint8(torch.from_numpy(arr.copy()), what).expand(3, -1, -1).contiguous()
    if img.mode != "RGB":
        try:
            img = img.convert("RGB")
        except ValueError as err:
            raise ValueError(f"{what}: cannot convert PIL mode {img.mode!r} to RGB") from err
    return torch.from_numpy(np.array(img, dtype=np.uint8)).permute(2, 0, 1).contiguous()


def _check_unit_range(images: torch.Tensor, what: str) -> None:
    """Raise unless the float ``images`` are finite and within 0..1 (up to ``_FLOAT_SLACK``)."""
    if images.numel() == 0:
        return
    lo, hi = (float(v) for v in torch.aminmax(images.detach().float()))
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(f"{what}: the image holds NaN or infinite values")
    if lo < -_FLOAT_SLACK or hi > 1 + _FLOAT_SLACK:
        raise ValueError(
            f"{what}: float image values span {lo:g}..{hi:g}, but float images must be in "
            f"0..1; divide 0..255 data by 255 (or pass uint8)"
        )


def _to_uint8(image: torch.Tensor, what: str) -> torch.Tensor:
    """Apply the image-value rule of this module: any dtype to ``uint8`` 0..255."""
    dtype = image.dtype
    if dtype == torch.uint8:
        return image
    if dtype == torch.bool or dtype.is_complex:
        raise ValueError(
            f"{what}: {dtype} is not an image dtype; use uint8 (0..255) or floats (0..1)"
        )
    if dtype.is_floating_point:
        _check_unit_range(image, what)
        return (image.float().clamp(0, 1) * 255).round_().to(torch.uint8)
    if dtype == torch.uint16:  # 16-bit images: 0..65535, 65535 = 255 * 257
        return ((image.to(torch.int32) + 128) // 257).to(torch.uint8)
    if image.numel():
        lo, hi = (int(v) for v in torch.aminmax(image.to(torch.int64)))
        if lo < 0 or hi > 255:
            raise ValueError(
                f"{what}: {dtype} image values span {lo}..{hi}, but integer images must hold "
                f"0..255 (uint16: 0..65535); convert to uint8, or to floats in 0..1"
            )
    return image.to(torch.uint8)


def to_rgb_tensor(image: ImageInput) -> torch.Tensor:
    """Convert a path, PIL image, HWC numpy array or CHW tensor to RGB ``uint8`` `(3, H, W)`.

    Values follow the module's image-value rule: ``uint8`` 0..255, ``uint16`` 0..65535,
    other integers 0..255 and floats 0..1; other values raise rather than being clipped
    into a wrong picture. Files and PIL images are turned upright by their EXIF
    orientation tag.

    Args:
        image: a file path; a PIL image (any mode); a numpy array `(H, W)`, `(H, W, 1)`,
            `(H, W, 3)` or `(H, W, 4)` (alpha dropped); or a tensor `(3, H, W)`,
            `(1, H, W)` or `(H, W)`.

    Returns:
        `(3, H, W)` ``uint8`` tensor on the CPU (tensors keep their device).

    Shape:
        - image: `(H, W)`, `(H, W, C)` for arrays, `(C, H, W)` or `(H, W)` for tensors
        - output: `(3, H, W)`

    Raises:
        TypeError: for an unsupported input type.
        ValueError: for an unsupported shape, an empty image, values outside the rule's
            range (naming the range found), or an unreadable file (naming it).
        FileNotFoundError: for a missing file.

    Examples:
        >>> to_rgb_tensor(np.zeros((4, 5), dtype=np.uint8)).shape
        torch.Size([3, 4, 5])
        >>> to_rgb_tensor(torch.full((3, 1, 1), 0.5)).flatten().tolist()
        [128, 128, 128]
    """
    if isinstance(image, (str, os.PathLike)):
        return read_image(image)
    if isinstance(image, Image.Image):
        return _pil_to_tensor(image, "PIL image")
    if isinstance(image, np.ndarray):
        what = f"numpy {image.dtype} image {image.shape}"
        arr = image[..., None] if image.ndim == 2 else image
        if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4):
            raise ValueError(
                f"numpy images must be (H, W) or (H, W, 1|3|4), got {image.shape}"
                + ("; for a (C, H, W) array pass arr.transpose(1, 2, 0)" if arr.ndim == 3 else "")
            )
        if arr.dtype.kind not in "biufc":
            raise TypeError(f"{what}: numpy dtype {arr.dtype} is not an image dtype")
        arr = arr[..., :3].astype(arr.dtype.newbyteorder("="), copy=False)  # big-endian data
        arr = np.ascontiguousarray(arr)
        if not arr.flags.writeable:  # np.asarray(pil_image): torch warns about such arrays
            arr = arr.copy()
        t = torch.from_numpy(arr).permute(2, 0, 1)
    elif isinstance(image, torch.Tensor):
        what = f"tensor {image.dtype} image {tuple(image.shape)}"
        t = image[None] if image.dim() == 2 else image
        if t.dim() != 3 or t.shape[0] not in (1, 3):
            hint = "; pass a batch as a list of images, list(batch)" if t.dim() == 4 else ""
            raise ValueError(
                f"tensor images must be (3, H, W), (1, H, W) or (H, W), "
                f"got {tuple(image.shape)}{hint}"
            )
    else:
        raise TypeError(
            f"unsupported image type {type(image).__name__}; pass a path, a PIL image, a "
            f"numpy array or a tensor"
        )
    if t.shape[1] == 0 or t.shape[2] == 0:
        raise ValueError(f"{what} is empty; images need at least one pixel")
    t = _to_uint8(t, what)
    return t.expand(3, -1, -1).contiguous() if t.shape[0] == 1 else t.contiguous()


def to_float_image(images: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The one uint8-to-float conversion of cgalib: ``uint8`` 0..255 becomes 0..1 floats.

    Data sets and letterboxing keep images ``uint8`` (4x less memory and worker traffic);
    models take floats in 0..1 (see [`ImageNormalize`][cgalib.layers.ImageNormalize]). The
    augmentation, the trainer and the [`Predictor`][cgalib.Predictor] convert here. Float
    input is checked against the image-value rule (0..1, clipped within one 8-bit level)
    rather than passed on, so 0..255 floats fail here instead of saturating the model.

    Args:
        images: ``uint8`` values 0..255, or floats already in 0..1 (cast to ``dtype``).
        dtype: the floating dtype of the result.

    Returns:
        ``images`` as ``dtype`` in 0..1, same shape and device.

    Raises:
        ValueError: for another dtype, or floats outside 0..1 (naming the range found).

    Shape:
        - images: `(*, 3, H, W)`
        - output: same

    Examples:
        >>> to_float_image(torch.tensor([0, 51, 255], dtype=torch.uint8)).tolist()
        [0.0, 0.20000000298023224, 1.0]
    """
    if images.dtype == torch.uint8:
        return images.to(dtype) / 255
    if not images.is_floating_point():
        raise ValueError(
            f"images must be uint8 (0..255) or floats in 0..1, got {images.dtype}; "
            f"convert other types with cgalib.utils.to_rgb_tensor"
        )
    _check_unit_range(images, f"{images.dtype} images {tuple(images.shape)}")
    return images.to(dtype).clamp(0, 1)
