"""Predict on images, folders and animated GIFs; write COCO results and rendered pictures.

Every picture has a unique **name**: the path of its file relative to the deepest folder
that holds all the inputs (``a/photo.jpg`` and ``b/photo.jpg`` stay apart), in POSIX
form. GIF frames share their file's name and carry a frame index. Drawings mirror the
names under the output folder (``<name>.png``, ``<name>_<frame:06d>.png`` for frames), so
``good.jpg`` and ``good.png`` never overwrite each other.

Videos ([`VIDEO_SUFFIXES`][VIDEO_SUFFIXES]) are not pictures to predict one by one: they are tracked
and smoothed by [`cgalib.video.predict_video()`][cgalib.video.predict_video] (``cgalib predict clip.mp4`` calls it);
given here, a video is a bad input that names that function.

A bad input (a missing or truncated file, an unknown suffix, an empty folder, a GIF that
ends early) is skipped with one warning naming it, and the rest still run; see
[`predict_media()`][predict_media].
"""

from __future__ import annotations

import json
import os
import struct
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import torch
from PIL import Image, ImageSequence
from torch import nn

from cgalib.inference.predictor import Predictor
from cgalib.utils.files import atomic_open
from cgalib.utils.image import read_image, to_rgb_tensor
from cgalib.utils.progress import ProgressBar

__all__ = [
    "ANIMATION_SUFFIXES",
    "IMAGE_SUFFIXES",
    "VIDEO_SUFFIXES",
    "MediaItem",
    "MediaReport",
    "drawing_name",
    "iter_media",
    "predict_media",
]

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
"""File suffixes read as still images (any case); folders are listed for these."""

ANIMATION_SUFFIXES = {".gif"}
"""File suffixes read frame by frame here, with PIL (animated GIFs)."""

VIDEO_SUFFIXES = {".mp4", ".m4v", ".avi", ".mov", ".mkv", ".webm", ".mpg", ".mpeg", ".ts"}
"""Video files: tracked and smoothed by [`cgalib.video.predict_video()`][cgalib.video.predict_video] (PyAV), not here."""

OnError = Callable[[str, Exception], None]
"""Called with the input's name (or path) and the error when an input cannot be read."""

_GIF_TRAILER = b";"
_GIF_DECODE_ERRORS = (OSError, EOFError, IndexError, ValueError, struct.error)
"""What PIL's GIF decoder raises on damaged data (found by truncating GIFs byte by byte)."""


class MediaItem(NamedTuple):
    """One picture of the inputs: a still image or one frame of an animated GIF.

    Attributes:
        name: the unique name of its file (see the module docstring).
        frame: the frame index for a GIF frame, ``None`` for a still image.
        image: the picture, RGB ``uint8`` `(3, H, W)`, upright as displayed.
    """

    name: str
    frame: int | None
    image: torch.Tensor


@dataclass(frozen=True)
class MediaReport:
    """What [`predict_media()`][predict_media] did.

    Attributes:
        results: the ``results.json`` written.
        images: pictures predicted (still images and GIF frames).
        people: people written to ``results.json``.
        skipped: ``(input, reason)`` of each input skipped or cut short, in order.
    """

    results: Path
    images: int
    people: int
    skipped: tuple[tuple[str, str], ...]


def drawing_name(name: str, frame: int | None = None) -> str:
    """The file name of the drawing of a picture: ``<name>.png``, or ``<name>_<frame>.png``.

    Examples:
        >>> drawing_name("a/photo.jpg"), drawing_name("clip.mp4", 12)
        ('a/photo.jpg.png', 'clip.mp4_000012.png')
    """
    return f"{name}.png" if frame is None else f"{name}_{frame:06d}.png"


def _gif_frames(path: Path) -> Iterator[torch.Tensor]:
    """Frames of a GIF with PIL; a damaged or truncated file raises after its good frames."""
    try:
        gif = Image.open(path)
    except Image.DecompressionBombError as err:
        raise ValueError(f"cannot read {path}: {err}") from err
    except _GIF_DECODE_ERRORS as err:
        raise ValueError(f"cannot read {path}: {err}") from err
    count = 0
    with gif:
        try:
            for frame in ImageSequence.Iterator(gif):
                image = to_rgb_tensor(frame)
                count += 1
                yield image
        except _GIF_DECODE_ERRORS as err:
            raise ValueError(
                f"cannot read frame {count} of {path} ({err or type(err).__name__}); "
                f"{count} frame(s) read before it"
            ) from err
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) != _GIF_TRAILER:
            raise ValueError(
                f"{path} is truncated (no GIF trailer): {count} frame(s) read, later "
                f"frames may be missing"
            )


def _sources(inputs: Sequence[str | os.PathLike], on_error: OnError) -> list[tuple[Path, str]]:
    """The files behind ``inputs`` (folders listed) with their unique names."""
    if isinstance(inputs, (str, os.PathLike)):  # one path, not a sequence of characters
        inputs = [inputs]
    files: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            children = sorted(
                c for c in path.iterdir() if c.is_file() and c.suffix.lower() in IMAGE_SUFFIXES
            )
            if not children:
                on_error(str(path), ValueError(f"folder {path} holds no image files"))
            files += children
        elif not path.exists():
            on_error(str(path), FileNotFoundError(f"input not found: {path}"))
        elif path.suffix.lower() in IMAGE_SUFFIXES | ANIMATION_SUFFIXES:
            files.append(path)
        elif path.suffix.lower() in VIDEO_SUFFIXES:
            on_error(
                str(path),
                ValueError(
                    f"{path} is a video: predict it with cgalib.video.predict_video (tracked "
                    "and smoothed; `cgalib predict` does this)"
                ),
            )
        else:
            on_error(
                str(path),
                ValueError(
                    f"{path}: not an image ({', '.join(sorted(IMAGE_SUFFIXES | ANIMATION_SUFFIXES))}) "
                    f"or video ({', '.join(sorted(VIDEO_SUFFIXES))}) file"
                ),
            )
    given: dict[Path, Path] = {}  # absolute path -> the path as given, first one kept
    for f in files:
        given.setdefault(Path(os.path.abspath(f)), f)
    if not given:
        return []
    try:
        base = Path(os.path.commonpath([a.parent for a in given]))
    except ValueError:  # different drives (Windows): keep the absolute paths
        return [(f, a.as_posix()) for a, f in given.items()]
    return [(f, a.relative_to(base).as_posix()) for a, f in given.items()]


def iter_media(
    inputs: Sequence[str | os.PathLike], on_error: OnError | None = None
) -> Iterator[MediaItem]:
    """Yield every picture of image files, folders (their images) and GIFs (their frames).

    Folders are listed non-recursively, sorted, keeping files with an image suffix
    ([`IMAGE_SUFFIXES`][IMAGE_SUFFIXES]); a file given twice is read once. Names are unique (see the
    module docstring).

    Args:
        inputs: image files ([`IMAGE_SUFFIXES`][IMAGE_SUFFIXES], `ANIMATION_SUFFIXES`) or
            folders; a single path is one input.
        on_error: called as ``on_error(input, error)`` for an input that cannot be read,
            which is then skipped (a GIF that fails part-way is reported after its good
            frames). ``None`` raises the error instead.

    Yields:
        A [`MediaItem`][MediaItem] per still image or video frame.

    Raises:
        FileNotFoundError: for a path that does not exist (without ``on_error``).
        ValueError: for an unknown suffix, an empty folder, an unreadable image or a
            damaged or truncated GIF, or a video file, naming it (without ``on_error``).
    """

    def report(source: str, err: Exception) -> None:
        if on_error is None:
            raise err
        on_error(source, err)

    for path, name in _sources(inputs, report):
        try:
            if path.suffix.lower() in ANIMATION_SUFFIXES:
                for i, frame in enumerate(_gif_frames(path)):
                    yield MediaItem(name, i, frame)
            else:
                yield MediaItem(name, None, read_image(path))
        except (ValueError, OSError) as err:
            report(name, err)


def predict_media(
    predictor: nn.Module | Predictor,
    inputs: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    input_size: int | None = None,
    device: str | None = None,
    score_threshold: float = 0.1,
    render: bool = True,
    strict: bool = False,
) -> MediaReport:
    """Run a pose model on images, folders and GIFs; write results and rendered images.

    Inputs that cannot be read are skipped with one ``UserWarning`` each (``skipped
    <input>: <reason>``) and listed in the report; the others still run. The results of
    every picture predicted are written even if the run stops early (an error, Ctrl-C):
    ``results.json`` is written once at the end, atomically, and drawings as they are
    made.

    Args:
        predictor: a model that finds people on its own (e.g. from
            [`cgalib.load_model()`][cgalib.load_model]), wrapped in a [`Predictor`][Predictor] with
            ``input_size`` and ``device``; or a ready [`Predictor`][Predictor] (with its
            detector, for a model that needs boxes; ``input_size`` and ``device`` are then
            its own).
        inputs: image files, folders or GIFs (see [`iter_media()`][iter_media]).
        out_dir: output folder: ``results.json`` (COCO results, each person with the
            ``file_name`` of its picture instead of an ``image_id``, and a ``frame``
            index for GIF frames) and one drawing per picture at
            [`drawing_name()`][drawing_name] (subfolders mirror the inputs').
        input_size: the model's input size (when ``predictor`` is a model; default the
            model's own).
        device: where to run (when ``predictor`` is a model).
        score_threshold: people below it are not drawn (all are written to the JSON).
        render: draw the pictures (skeleton and colours of the model's keypoint set).
        strict: stop at the first input that cannot be read, raising its error (after
            writing the results so far), instead of skipping it.

    Returns:
        A [`MediaReport`][MediaReport]: the ``results.json`` path and the counts.

    Raises:
        ValueError: if no input could be read (nothing is written then), for an empty
            ``inputs``, or with ``strict`` for the first bad input.
        FileNotFoundError: with ``strict``, for a missing input.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from cgalib.viz.masks import draw_masks
    from cgalib.viz.poses import draw_people

    if not inputs:
        raise ValueError("predict_media needs at least one input (image, folder or GIF)")
    out = Path(out_dir)
    if isinstance(predictor, nn.Module):
        predictor = Predictor(predictor, device=device, input_size=input_size)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "results.json"
    results: list[dict] = []
    skipped: list[tuple[str, str]] = []
    images = 0

    def on_error(source: str, err: Exception) -> None:
        if strict:
            note = (
                f" (strict: stopped; the {images} picture(s) before it are in {path})"
                if images
                else " (strict: stopped; nothing was written)"
            )
            kind = FileNotFoundError if isinstance(err, FileNotFoundError) else ValueError
            raise kind(f"{err}{note}") from err
        warnings.warn(f"skipped {source}: {err}", UserWarning, stacklevel=2)
        skipped.append((source, str(err)))

    bar = ProgressBar(None, "predict", unit="img")
    try:
        for name, frame, image in iter_media(inputs, on_error):
            people = predictor.predict(image)
            tag = {"file_name": name} if frame is None else {"file_name": name, "frame": frame}
            results.extend({**tag, **p} for p in people)
            images += 1
            if render:
                h, w = image.shape[-2:]
                fig = plt.figure(figsize=(w / 100, h / 100), dpi=100)
                ax = fig.add_axes([0, 0, 1, 1])
                draw_people(
                    ax,
                    image,
                    people,
                    score_threshold=score_threshold,
                    extra_box_key="extended_box",
                    keypoint_set=predictor.keypoint_set,
                )
                draw_masks(ax, people, (h, w), score_threshold=score_threshold)
                drawing = out / drawing_name(name, frame)
                drawing.parent.mkdir(parents=True, exist_ok=True)
                fig.savefig(drawing, dpi=100)
                plt.close(fig)
            bar.update(1)
    finally:
        bar.close()
        if images:
            with atomic_open(path) as f:
                json.dump(results, f)
    if not images:
        raise ValueError(
            f"none of the inputs could be read ({len(skipped)} skipped: "
            f"{', '.join(s for s, _ in skipped)}); nothing was written"
        )
    return MediaReport(path, images, len(results), tuple(skipped))
