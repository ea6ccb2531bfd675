"""Turn any supported image input into an RGB ``uint8`` tensor `(3, H, W)`."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

__all__ = ["ImageInput", "read_image", "to_float_image", "to_rgb_tensor"]

ImageInput = str | os.PathLike | Image.Image | np.ndarray | torch.Tensor


def read_image(path: str | os.PathLike) -> torch.Tensor:
    """Read an image file as RGB ``uint8`` `(3, H, W)`.

    Grayscale, palette, RGBA (alpha dropped) and 16-bit images are converted.

    Args:
        path: the image file.

    Raises:
        FileNotFoundError: if the file does not exist.
        ValueError: if the file cannot be decoded as an image, naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image not found: {path}")
    try:
        with Image.open(path) as img:
            img.load()
            return _pil_to_tensor(img)
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise ValueError(f"cannot read image {path}: {err}") from err


def _pil_to_tensor(img: Image.Image) -> torch.Tensor:
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        arr = arr * (255.0 / max(arr.max(), 1.0)) if arr.max() > 255 else arr
        img = Image.fromarray(arr.clip(0, 255).astype(np.uint8))
    if img.mode != "RGB":
        img = img.convert("RGB")
    return torch.from_numpy(np.array(img, dtype=np.uint8)).permute(2, 0, 1).contiguous()


def to_rgb_tensor(image: ImageInput) -> torch.Tensor:
    """Convert a path, PIL image, HWC numpy array or CHW tensor to RGB ``uint8`` `(3, H, W)`.

    Args:
        image: a file path; a PIL image (any mode); a numpy array `(H, W)`, `(H, W, 1)`,
            `(H, W, 3)` or `(H, W, 4)` of ``uint8``, ``uint16`` (scaled by 255/65535) or
            floats in 0..1; or a tensor `(3, H, W)`/`(1, H, W)`/`(H, W)`, ``uint8`` or
            floats in 0..1.

    Returns:
        `(3, H, W)` ``uint8`` tensor on the CPU (tensors keep their device).

    Raises:
        TypeError: for an unsupported input type.
        ValueError: for an unsupported shape.

    Examples:
        >>> to_rgb_tensor(np.zeros((4, 5), dtype=np.uint8)).shape
        torch.Size([3, 4, 5])
    """
    if isinstance(image, (str, os.PathLike)):
        return read_image(image)
    if isinstance(image, Image.Image):
        return _pil_to_tensor(image)
    if isinstance(image, np.ndarray):
        arr = image
        if arr.ndim == 2:
            arr = arr[..., None]
        if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4):
            raise ValueError(f"numpy images must be (H, W), (H, W, 1|3|4), got {image.shape}")
        arr = arr[..., :3] if arr.shape[2] == 4 else arr
        if arr.dtype == np.uint16:
            arr = (arr.astype(np.float64) / 65535.0 * 255.0).round().astype(np.uint8)
        elif arr.dtype != np.uint8:
            arr = (np.clip(arr.astype(np.float64), 0, 1) * 255).round().astype(np.uint8)
        t = torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1)
        return t.expand(3, -1, -1).contiguous() if t.shape[0] == 1 else t.contiguous()
    if isinstance(image, torch.Tensor):
        t = image
        if t.dim() == 2:
            t = t[None]
        if t.dim() != 3 or t.shape[0] not in (1, 3):
            raise ValueError(
                f"tensor images must be (3, H, W), (1, H, W) or (H, W), got {tuple(image.shape)}"
            )
        if t.dtype != torch.uint8:
            t = (t.float().clamp(0, 1) * 255).round().to(torch.uint8)
        return t.expand(3, -1, -1).contiguous() if t.shape[0] == 1 else t
    raise TypeError(f"unsupported image type {type(image).__name__}")


def to_float_image(images: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The one uint8-to-float conversion of cgalib: ``uint8`` 0..255 becomes 0..1 floats.

    Data sets and letterboxing keep images ``uint8`` (4x less memory and worker traffic);
    models take floats in 0..1 (see :class:`~cgalib.layers.ImageNormalize`). The
    augmentation, the trainer and the :class:`~cgalib.Predictor` convert here.

    Args:
        images: ``uint8`` values 0..255, or floats already in 0..1 (cast to ``dtype``).
        dtype: the floating dtype of the result.

    Returns:
        ``images`` as ``dtype`` in 0..1, same shape and device.

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
        raise ValueError(f"images must be uint8 (0..255) or floats in 0..1, got {images.dtype}")
    return images.to(dtype)
