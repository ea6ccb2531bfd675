"""The images of an annotation file, read the one way training and evaluation share.

An image is read upright as displayed ([`read_image()`][cgalib.utils.read_image] applies the
EXIF orientation tag, as detectron2 and OpenCV-based loaders do), and its size must be the
``height`` and ``width`` its annotation gives: annotations describe the picture as
displayed. A file whose displayed size differs (a resized copy, a photo annotated on its
stored pixels before an EXIF turn) would put every person in the wrong place, so it is an
error naming the file, never a silent wrong target or an AP of zero. A half turn keeps the
size and cannot be detected.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import torch

from cgalib.utils.image import read_image

__all__ = ["read_annotated_image"]


def read_annotated_image(root: str | os.PathLike, info: Mapping) -> torch.Tensor:
    """Read the image an ``images`` entry lists, checked against its annotated size.

    Args:
        root: the image folder (``file_name`` is relative to it).
        info: the image's entry (``file_name``, and ``height``/``width`` when given).

    Returns:
        The RGB ``uint8`` image `(3, H, W)`, upright as displayed.

    Raises:
        FileNotFoundError: for a missing file.
        ValueError: for an unreadable file, or a displayed size other than the annotated
            ``height`` x ``width`` (naming the file, both sizes, and the likely cause when
            they are swapped).

    Examples:
        >>> import tempfile, pathlib
        >>> from PIL import Image
        >>> with tempfile.TemporaryDirectory() as d:
        ...     Image.new("RGB", (40, 30)).save(pathlib.Path(d) / "a.png")
        ...     tuple(read_annotated_image(d, {"file_name": "a.png", "height": 30, "width": 40}).shape)
        (3, 30, 40)
    """
    path = Path(root) / info["file_name"]
    image = read_image(path)
    height, width = image.shape[-2:]
    annotated = (info.get("height", height), info.get("width", width))
    if annotated != (height, width):
        swapped = annotated == (width, height)
        raise ValueError(
            f"image {path} is {height}x{width} as displayed (EXIF orientation applied) but its "
            f"annotation says {annotated[0]}x{annotated[1]}"
            + (
                " (swapped: if the file has an EXIF orientation tag, the annotation was made "
                "on the stored pixels; annotate the picture as displayed, or save it upright "
                "without the tag)"
                if swapped
                else ""
            )
        )
    return image
