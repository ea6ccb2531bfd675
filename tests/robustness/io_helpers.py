"""Helpers of the image, prediction and CLI robustness tests: files with faults, tiny models."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from helpers import StandInModel

EXIF_ORIENTATION = 0x0112


def write_image(path: Path, size: tuple[int, int] = (24, 32), seed: int = 0, **save) -> Path:
    """A random RGB picture of ``size = (H, W)``, in the format of ``path``'s suffix."""
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (*size, 3), np.uint8)).save(path, **save)
    return path


def write_truncated_jpeg(path: Path, size: tuple[int, int] = (64, 80)) -> Path:
    """A JPEG cut to half its bytes, as an interrupted copy leaves it."""
    buf = io.BytesIO()
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 255, (*size, 3), np.uint8)).save(buf, format="JPEG")
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    return path


def write_sideways_photo(path: Path) -> Path:
    """A phone photo stored sideways: pixels 40 x 100 (H x W), EXIF orientation 6.

    Displayed upright it is 100 x 40, with a white 10 x 10 block at its top right corner
    (the stored top left corner, turned a quarter clockwise).
    """
    stored = np.zeros((40, 100, 3), np.uint8)
    stored[:10, :10] = 255
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    Image.fromarray(stored).save(path, exif=exif.tobytes(), quality=95)
    return path


def write_gif(path: Path, frames: int = 3, cut: int = 0) -> Path:
    """A GIF of ``frames`` random 16 x 24 frames, its last ``cut`` bytes removed."""
    rng = np.random.default_rng(0)
    frames = [Image.fromarray(rng.integers(0, 255, (16, 24, 3), np.uint8)) for _ in range(frames)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    data = buf.getvalue()
    path.write_bytes(data[: len(data) - cut])
    return path


class BrightestPixel(StandInModel):
    """A stand-in pose model: one person, every keypoint on the brightest input pixel.

    It counts the images it has seen, so tests can tell whether it ran.
    """

    def __init__(self) -> None:
        super().__init__()
        self.seen = 0

    def person(self, image: torch.Tensor) -> tuple[list[float], float, torch.Tensor]:
        self.seen += 1
        flat = int(image.sum(0).flatten().argmax())
        y, x = divmod(flat, image.shape[-1])
        return [x, y, x + 1.0, y + 1.0], 1.0, torch.tensor([[float(x), float(y), 1.0]] * 17)
