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

**Files.** A path must be an image file: a folder, a URL or a video is refused with one
line that says what it is and what reads it. Animated files (GIF, APNG, animated WebP)
and multi-page TIFFs hold several pictures: [`read_image()`][read_image] reads the first,
[`read_frames()`][read_frames] every one ([`frame_count()`][frame_count] says how many).
"""

from __future__ import annotations

import os
import re
import struct
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = [
    "ANIMATION_SUFFIXES",
    "IMAGE_SUFFIXES",
    "VIDEO_SUFFIXES",
    "ImageInput",
    "check_image_path",
    "frame_count",
    "read_frames",
    "read_image",
    "resize_image",
    "to_float_image",
    "to_rgb_tensor",
]

ImageInput = str | os.PathLike | Image.Image | np.ndarray | torch.Tensor

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
"""File suffixes read as pictures (any case); an APNG, an animated WebP or a multi-page
TIFF among them holds several ([`frame_count()`][frame_count])."""

ANIMATION_SUFFIXES = {".gif"}
"""File suffixes always read frame by frame (GIFs, even of one frame)."""

VIDEO_SUFFIXES = {".mp4", ".m4v", ".avi", ".mov", ".mkv", ".webm", ".mpg", ".mpeg", ".ts"}
"""Video files: read by [`cgalib.video.VideoReader`][cgalib.video.VideoReader] (PyAV), not as
images."""

_FLOAT_SLACK = 1 / 255
"""Float values this far outside 0..1 are clipped (one 8-bit level); further is an error."""

_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N")
_EXIF_ORIENTATION = 0x0112
_DECODE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, EOFError, IndexError,
                  struct.error, Image.DecompressionBombError)  # fmt: skip
"""What PIL's decoders raise on damaged data (found by truncating files byte by byte)."""
_GIF_TRAILER = b";"
_FRAME_FORMATS = ("GIF", "PNG", "WEBP", "TIFF")
"""PIL formats whose several pictures are frames (or pages) to read one by one. An MPO (a
multi-picture JPEG, as phones and 3D cameras write: the photo, then a preview or a depth
image) is one picture, its first."""
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def check_image_path(path: str | os.PathLike) -> Path:
    """Check that ``path`` names an image file that exists, before it is read.

    Args:
        path: the image file.

    Returns:
        ``path`` as a ``Path``.

    Raises:
        ValueError: for a URL (``https://...``: cgalib reads files, it downloads nothing).
        IsADirectoryError: for a folder (its pictures are predicted by
            [`predict_media()`][cgalib.inference.predict_media], ``cgalib predict <folder>``).
        FileNotFoundError: for a path that does not exist.

    Examples:
        >>> check_image_path("https://example.com/a.jpg")
        Traceback (most recent call last):
        ...
        ValueError: https://example.com/a.jpg: a URL, not a file; cgalib reads image files and downloads nothing: download the image first and pass its path
    """
    if isinstance(path, str) and _URL.match(path):
        raise ValueError(
            f"{path}: a URL, not a file; cgalib reads image files and downloads nothing: "
            "download the image first and pass its path"
        )
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(
            f"{path} is a folder, not an image file; to predict the pictures of a folder use "
            f"cgalib.inference.predict_media (the command line: cgalib predict {path})"
        )
    if not path.is_file():
        raise FileNotFoundError(f"image not found: {path}")
    return path


def _cannot_read(path: Path, err: BaseException) -> ValueError:
    """The one-line error of a file PIL cannot decode (a video named as such)."""
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return ValueError(
            f"{path} is a video, not an image: predict it with cgalib.video.predict_video "
            "(cgalib predict does), or read its frames with cgalib.video.VideoReader"
        )
    if isinstance(err, Image.DecompressionBombError):
        return ValueError(
            f"cannot read image {path}: {err} If the file is trusted, raise "
            f"PIL.Image.MAX_IMAGE_PIXELS (now {Image.MAX_IMAGE_PIXELS}) or downscale it."
        )
    return ValueError(f"cannot read image {path}: {err or type(err).__name__}")


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
    path = check_image_path(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with Image.open(path) as img:
                img.load()
                image = _pil_to_tensor(img, str(path))
        except _DECODE_ERRORS as err:
            raise _cannot_read(path, err) from err
    for w in caught:
        warnings.warn(f"{path}: {w.message}", w.category, stacklevel=2)
    return image


def frame_count(path: str | os.PathLike) -> int:
    """How many pictures an image file holds: the frames of an animated GIF, PNG (APNG) or
    WebP, the pages of a TIFF; 1 for a still image, and for a multi-picture JPEG (MPO: a
    phone's photo with its preview or depth image beside it: the photo).

    Args:
        path: the image file.

    Returns:
        The number of frames PIL reports (GIFs count their frames as they are read, so a
        damaged GIF may hold fewer).

    Raises:
        FileNotFoundError, IsADirectoryError, ValueError: as [`read_image()`][read_image].

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     frames = [Image.new("L", (4, 4), v) for v in (0, 255)]
        ...     frames[0].save(f"{d}/a.png", save_all=True, append_images=frames[1:])
        ...     frame_count(f"{d}/a.png")
        2
    """
    path = check_image_path(path)
    try:
        with Image.open(path) as img:
            return int(getattr(img, "n_frames", 1)) if img.format in _FRAME_FORMATS else 1
    except _DECODE_ERRORS as err:
        raise _cannot_read(path, err) from err


def read_frames(path: str | os.PathLike) -> Iterator[torch.Tensor]:
    """Read every picture of an image file, one at a time, as RGB ``uint8`` `(3, H, W)`.

    The frames of an animated GIF, PNG (APNG) or WebP (each as displayed, composed over
    the frames before it as PIL composes them), the pages of a multi-page TIFF, or the one
    picture of a still image; each follows the image-value rule and its EXIF orientation,
    as [`read_image()`][read_image]. A damaged file yields its good frames and then raises.

    Args:
        path: the image file.

    Yields:
        One `(3, H, W)` ``uint8`` tensor per frame.

    Raises:
        FileNotFoundError, IsADirectoryError: as [`read_image()`][read_image].
        ValueError: naming the file, when it cannot be opened, when a frame cannot be
            decoded (naming the frame and how many were read before it), or for a GIF that
            ends without its trailer (truncated: later frames may be missing).

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     frames = [Image.new("L", (4, 3), v) for v in (0, 255)]
        ...     frames[0].save(f"{d}/a.gif", save_all=True, append_images=frames[1:])
        ...     [int(f[0, 0, 0]) for f in read_frames(f"{d}/a.gif")]
        [0, 255]
    """
    from PIL import ImageSequence

    path = check_image_path(path)
    try:
        img = Image.open(path)
    except _DECODE_ERRORS as err:
        raise _cannot_read(path, err) from err
    count = 0
    with img:
        frames = ImageSequence.Iterator(img) if img.format in _FRAME_FORMATS else [img]
        try:
            for frame in frames:
                frame.load()
                image = _pil_to_tensor(frame, f"{path} frame {count}")
                count += 1
                yield image
        except (*_DECODE_ERRORS, ValueError) as err:
            if count == 0 and not isinstance(err, ValueError):
                raise _cannot_read(path, err) from err
            raise ValueError(
                f"cannot read frame {count} of {path} ({err or type(err).__name__}); "
                f"{count} frame(s) read before it"
            ) from err
        gif = img.format == "GIF"
    if gif:
        with open(path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != _GIF_TRAILER:
                raise ValueError(
                    f"{path} is truncated (no GIF trailer): {count} frame(s) read, later "
                    f"frames may be missing"
                )


_STRIP_BYTES = 8 << 20
"""Pixels are copied out of PIL in strips of about this size: PIL's ``tobytes`` of a whole
picture holds it twice (its chunks and their join), 288 MB for a 48-megapixel photo."""


def _pil_to_tensor(img: Image.Image, what: str) -> torch.Tensor:
    """A PIL image (any mode, EXIF-oriented) as RGB ``uint8`` `(3, H, W)`.

    The pixels are copied strip by strip into the tensor, so converting needs PIL's
    pixels and the tensor's only (a 48-megapixel photo: 192 + 144 MB), no whole-picture
    intermediate copy."""
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
    width, height = img.size
    out = torch.empty((3, height, width), dtype=torch.uint8)
    target = out.numpy()
    rows = max(1, _STRIP_BYTES // (3 * width))
    for top in range(0, height, rows):
        bottom = min(height, top + rows)
        strip = np.frombuffer(img.crop((0, top, width, bottom)).tobytes(), np.uint8)
        target[:, top:bottom] = strip.reshape(bottom - top, width, 3).transpose(2, 0, 1)
    return out


def _check_open(img: Image.Image) -> None:
    """Load a PIL image's pixels, or say in one line that its file was closed."""
    try:
        img.load()
    except (AssertionError, ValueError) as err:  # PIL: "assert self.fp", "Operation on closed"
        if isinstance(err, AssertionError) or "closed" in str(err):
            name = getattr(img, "filename", "") or ""
            raise ValueError(
                f"PIL image{f' {name}' if name else ''} was closed before it was read (used "
                "after its `with Image.open(...)` block?); convert it inside the `with` block, "
                "or pass the file's path"
            ) from None
        raise


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
        _check_open(image)
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


def resize_image(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize a ``uint8`` image in ``uint8`` arithmetic: antialiased bilinear, as PIL does.

    No float copy of the input is made (a 48-megapixel photo would take 576 MB as
    floats), so large pictures shrink to a model's input or a drawing's size in bounded
    memory. Values differ from a float resize rounded to ``uint8`` by at most one level.

    Args:
        image: `(3, H, W)` ``uint8`` on the CPU.
        size: the ``(height, width)`` wanted, each at least 1.

    Returns:
        The resized `(3, height, width)` ``uint8`` image (``image`` itself at its own size).

    Examples:
        >>> resize_image(torch.full((3, 40, 60), 7, dtype=torch.uint8), (4, 6)).unique().tolist()
        [7]
    """
    if tuple(size) == tuple(image.shape[-2:]):
        return image
    x = image[None]
    flip = size[1] == 1  # torch's antialiased kernel mishandles an output width of 1
    if flip:
        x, size = x.transpose(-1, -2), (size[1], size[0])
    x = F.interpolate(x, size=tuple(size), mode="bilinear", antialias=True, align_corners=False)
    return (x.transpose(-1, -2) if flip else x)[0].contiguous()
