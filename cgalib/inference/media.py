"""Predict on images, folders and videos; write COCO results and rendered pictures."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from cgalib.inference.predictor import Predictor
from cgalib.utils.image import read_image
from cgalib.utils.progress import ProgressBar

__all__ = ["IMAGE_SUFFIXES", "VIDEO_SUFFIXES", "iter_media", "predict_media"]

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".gif"}


def _video_frames(path: Path) -> Iterator[torch.Tensor]:
    """Frames of a video as RGB ``uint8`` `(3, H, W)`, with imageio, OpenCV or PIL (GIF)."""
    try:
        import imageio.v3 as iio

        for frame in iio.imiter(path):
            yield torch.from_numpy(np.ascontiguousarray(frame[..., :3])).permute(2, 0, 1)
        return
    except ImportError:
        pass
    try:
        import cv2

        cap = cv2.VideoCapture(str(path))
        ok, frame = cap.read()
        while ok:
            yield torch.from_numpy(frame[..., ::-1].copy()).permute(2, 0, 1)
            ok, frame = cap.read()
        cap.release()
        return
    except ImportError:
        pass
    if path.suffix.lower() == ".gif":
        from PIL import Image, ImageSequence

        with Image.open(path) as gif:
            for frame in ImageSequence.Iterator(gif):
                arr = np.asarray(frame.convert("RGB"))
                yield torch.from_numpy(arr.copy()).permute(2, 0, 1)
        return
    raise RuntimeError(f"reading video {path} needs imageio or OpenCV (pip install imageio[pyav])")


def iter_media(inputs: Sequence[str | os.PathLike]) -> Iterator[tuple[str, torch.Tensor]]:
    """Yield ``(name, image)`` for image files, images inside folders and video frames.

    Args:
        inputs: image files, folders (their images, sorted; not recursive) or video files.

    Raises:
        FileNotFoundError: for a path that does not exist.
        ValueError: for a file that is neither a known image nor a video format.
    """
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            for child in sorted(path.iterdir()):
                if child.suffix.lower() in IMAGE_SUFFIXES:
                    yield child.name, read_image(child)
        elif not path.exists():
            raise FileNotFoundError(f"input not found: {path}")
        elif path.suffix.lower() in VIDEO_SUFFIXES:
            for i, frame in enumerate(_video_frames(path)):
                yield f"{path.stem}_{i:06d}.png", frame
        elif path.suffix.lower() in IMAGE_SUFFIXES:
            yield path.name, read_image(path)
        else:
            raise ValueError(f"{path}: not an image ({sorted(IMAGE_SUFFIXES)}) or video file")


def predict_media(
    model: nn.Module,
    inputs: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    input_size: int = 512,
    device: str | None = None,
    score_threshold: float = 0.1,
    render: bool = True,
) -> Path:
    """Run ``model`` on images, folders and videos; write results and rendered images.

    Args:
        model: a pose model (e.g. from :func:`cgalib.load_model`).
        inputs: image files, folders or video files.
        out_dir: output folder: ``results.json`` (COCO results, with ``file_name`` instead of
            an ``image_id``) and one rendered PNG per image or frame.
        input_size: letterbox size of the longer side.
        device: where to run.
        score_threshold: people below it are not drawn (all are written to the JSON).
        render: draw the pictures.

    Returns:
        The path of ``results.json``.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from cgalib.viz.poses import draw_people

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    predictor = Predictor(model, device=device, input_size=input_size)
    results = []
    bar = ProgressBar(None, "predict", unit="img")
    for name, image in iter_media(inputs):
        people = predictor.predict(image)
        results.extend({"file_name": name, **p} for p in people)
        if render:
            h, w = image.shape[-2:]
            fig = plt.figure(figsize=(w / 100, h / 100), dpi=100)
            ax = fig.add_axes([0, 0, 1, 1])
            draw_people(
                ax, image, people, score_threshold=score_threshold, extra_box_key="extended_box"
            )
            fig.savefig(out / (Path(name).stem + ".png"), dpi=100)
            plt.close(fig)
        bar.update(1)
    bar.close()
    path = out / "results.json"
    path.write_text(json.dumps(results))
    return path
