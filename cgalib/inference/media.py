"""Predict on images, folders and animated pictures; write COCO results and drawings.

Every picture has a unique **name**: the path of its file relative to the deepest folder
that holds all the inputs (``a/photo.jpg`` and ``b/photo.jpg`` stay apart), in POSIX
form. The frames of an animated GIF, PNG (APNG) or WebP and the pages of a multi-page
TIFF share their file's name and carry a frame index. Drawings mirror the names under
the output folder (``<name>.png``, ``<name>_<frame:06d>.png`` for frames), so
``good.jpg`` and ``good.png`` never overwrite each other.

**Folders** are listed without recursion, sorted. Pictures ([`IMAGE_SUFFIXES`][IMAGE_SUFFIXES],
GIFs) are predicted; everything else is left out *with a word*: one warning per folder
counts the videos (predict them by name), the files not read as pictures (``.heic``, ...),
the subfolders, the hidden files (``.DS_Store``, macOS's ``._photo.jpg``) and the outputs
of an earlier run (drawings and ``results.json`` inside the output folder, so
``cgalib predict photos/ --out photos/`` run twice never predicts its own drawings), and
[`MediaReport.ignored`][MediaReport] lists them.

Videos ([`VIDEO_SUFFIXES`][VIDEO_SUFFIXES]) are not pictures to predict one by one: they are
tracked and smoothed by [`cgalib.video.predict_video()`][cgalib.video.predict_video]
(``cgalib predict clip.mp4`` calls it); given here, a video is a bad input that names that
function.

A bad input (a missing or truncated file, an unknown suffix, an empty folder, a GIF that
ends early) is skipped with one warning naming it, and the rest still run; so is a
picture the model fails on (out of memory, say); see [`predict_media()`][predict_media].
"""

from __future__ import annotations

import errno
import json
import os
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import torch
from torch import nn

from cgalib.inference.predictor import Predictor
from cgalib.utils.files import atomic_open
from cgalib.utils.image import (
    ANIMATION_SUFFIXES,
    IMAGE_SUFFIXES,
    VIDEO_SUFFIXES,
    frame_count,
    read_frames,
    read_image,
    resize_image,
)
from cgalib.utils.outputs import OutputError, check_writable, describe_os_error, is_inside
from cgalib.utils.progress import ProgressBar
from cgalib.utils.signals import stop_requests
from cgalib.viz.poses import DISPLAY_SCORE_THRESHOLD

__all__ = [
    "ANIMATION_SUFFIXES",
    "IMAGE_SUFFIXES",
    "MAX_DRAWING_SIDE",
    "RESULTS_NAME",
    "VIDEO_SUFFIXES",
    "MediaItem",
    "MediaReport",
    "drawing_name",
    "iter_media",
    "predict_media",
]

MAX_DRAWING_SIDE = 2048
"""The longest side of a drawing, in pixels: larger pictures (a 48-megapixel photo) are
drawn scaled down to it, their people at the scaled places, so drawing needs a bounded
amount of memory; results stay in the picture's own pixels."""

RESULTS_NAME = "results.json"
"""The results file [`predict_media()`][predict_media] writes in its output folder."""

OnError = Callable[[str, Exception], None]
"""Called with the input's name (or path) and the error when an input cannot be read."""

_DRAWING = re.compile(
    r"\.(?:" + "|".join(sorted(s[1:] for s in IMAGE_SUFFIXES | ANIMATION_SUFFIXES))
    + r")(?:_\d{6})?\.png$",
    re.IGNORECASE,
)
"""The end of a drawing's name (``photo.jpg.png``, ``clip.gif_000003.png``)."""
_FULL_DISK = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)
"""Write errors after which no later drawing can be written either: the run stops."""
_FAILURES_BEFORE_GIVING_UP = 3
"""A model that fails on this many pictures in a row before any success is broken, not
unlucky: the run stops with its error instead of warning once per picture."""


class MediaItem(NamedTuple):
    """One picture of the inputs: a still image, or one frame of an animated picture.

    Attributes:
        name: the unique name of its file (see the module docstring).
        frame: the frame index for a frame of a GIF, an animated PNG or WebP, or a page of
            a multi-page TIFF; ``None`` for a still image.
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
        skipped: ``(input, reason)`` of each input skipped or cut short, and of each
            picture the model failed on (``<name> frame <i>`` for a frame), in order.
        ignored: the entries of input folders that are not pictures and were left out
            (videos, other files, subfolders, hidden files, outputs of an earlier run),
            each counted in one warning per folder.
    """

    results: Path
    images: int
    people: int
    skipped: tuple[tuple[str, str], ...]
    ignored: tuple[str, ...] = ()


def drawing_name(name: str, frame: int | None = None) -> str:
    """The file name of the drawing of a picture: ``<name>.png``, or ``<name>_<frame>.png``.

    Examples:
        >>> drawing_name("a/photo.jpg"), drawing_name("clip.mp4", 12)
        ('a/photo.jpg.png', 'clip.mp4_000012.png')
    """
    return f"{name}.png" if frame is None else f"{name}_{frame:06d}.png"


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _names(paths: list[Path], limit: int = 5) -> str:
    names = [p.name for p in paths[:limit]]
    return ", ".join(names) + (f", ... ({len(paths) - limit} more)" if len(paths) > limit else "")


def _is_output(path: Path, out_dir: Path | None) -> bool:
    """Whether ``path`` is a drawing or the results of a run into ``out_dir``."""
    if out_dir is None or not (path.name == RESULTS_NAME or _DRAWING.search(path.name)):
        return False
    return is_inside(path, out_dir)


def _list_folder(folder: Path, out_dir: Path | None) -> tuple[list[Path], list[Path]]:
    """The pictures of a folder, and the entries left out (one warning counts them)."""
    pictures: list[Path] = []
    left: dict[str, list[Path]] = {k: [] for k in ("video", "other", "folder", "hidden", "output")}
    for child in sorted(folder.iterdir()):
        suffix = child.suffix.lower()
        if child.name.startswith("."):
            left["hidden"].append(child)
        elif child.is_dir() and out_dir is not None and child.resolve() == out_dir.resolve():
            continue  # this run's output folder
        elif child.is_dir():
            left["folder"].append(child)
        elif child.is_file() and _is_output(child, out_dir):
            left["output"].append(child)
        elif child.is_file() and suffix in IMAGE_SUFFIXES | ANIMATION_SUFFIXES:
            pictures.append(child)
        elif child.is_file() and suffix in VIDEO_SUFFIXES:
            left["video"].append(child)
        else:
            left["other"].append(child)
    parts = []
    if left["video"]:
        parts.append(
            f"{_plural(len(left['video']), 'video', 'videos')} ({_names(left['video'])}; predict "
            f"videos by name, e.g. cgalib predict {left['video'][0]}, or with "
            "cgalib.video.predict_video)"
        )
    if left["other"]:
        heic = any(p.suffix.lower() in (".heic", ".heif") for p in left["other"])
        parts.append(
            f"{_plural(len(left['other']), 'file not read as a picture', 'files not read as pictures')}"
            f" ({_names(left['other'])}"
            + ("; convert HEIC photos to JPEG" if heic else "")
            + f"; pictures are {', '.join(sorted(IMAGE_SUFFIXES | ANIMATION_SUFFIXES))})"
        )
    if left["folder"]:
        parts.append(
            f"{_plural(len(left['folder']), 'subfolder', 'subfolders')} ({_names(left['folder'])}; "
            "folders are not searched: give a subfolder as an input of its own)"
        )
    if left["hidden"]:
        parts.append(f"{_plural(len(left['hidden']), 'hidden file', 'hidden files')} "
                     f"({_names(left['hidden'])})")  # fmt: skip
    if left["output"]:
        parts.append(
            f"{_plural(len(left['output']), 'output', 'outputs')} of an earlier run "
            f"({_names(left['output'])}; the output folder is {out_dir})"
        )
    ignored = [p for paths in left.values() for p in paths]
    if parts:
        warnings.warn(
            f"{folder}: {_plural(len(ignored), 'entry', 'entries')} not predicted: "
            + "; ".join(parts),
            UserWarning,
            stacklevel=4,
        )
    return pictures, ignored


def _sources(
    inputs: Sequence[str | os.PathLike], on_error: OnError, out_dir: Path | None = None
) -> tuple[list[tuple[Path, str]], list[Path]]:
    """The files behind ``inputs`` (folders listed) with their unique names, and the
    entries of the folders that were left out."""
    if isinstance(inputs, (str, os.PathLike)):  # one path, not a sequence of characters
        inputs = [inputs]
    files: list[Path] = []
    ignored: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            children, left = _list_folder(path, out_dir)
            ignored += left
            if not children:
                on_error(str(path), ValueError(f"folder {path} holds no image files"))
            files += children
        elif not path.exists():
            on_error(str(path), FileNotFoundError(f"input not found: {item}"))
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
        return [], ignored
    try:
        base = Path(os.path.commonpath([a.parent for a in given]))
    except ValueError:  # different drives (Windows): keep the absolute paths
        return [(f, a.as_posix()) for a, f in given.items()], ignored
    return [(f, a.relative_to(base).as_posix()) for a, f in given.items()], ignored


def _pictures(sources: list[tuple[Path, str]], report: OnError) -> Iterator[MediaItem]:
    """The pictures of the files: one per still image, one per frame of an animation. Any
    error of one file (out of memory on a huge one, a decoder's odd exception on a
    damaged one) is that file's: reported, and the next file is read."""
    for path, name in sources:
        try:
            if path.suffix.lower() in ANIMATION_SUFFIXES or frame_count(path) > 1:
                for i, frame in enumerate(read_frames(path)):
                    yield MediaItem(name, i, frame)
            else:
                yield MediaItem(name, None, read_image(path))
        except (ValueError, OSError) as err:
            report(name, err)
        except MemoryError:
            report(name, ValueError(f"out of memory while reading {path}; free memory, or "
                                    "downscale the picture"))  # fmt: skip
        except Exception as err:  # a decoder's own failure on a crafted or damaged file
            report(name, ValueError(f"cannot read image {path}: {type(err).__name__}: {err}"))


def iter_media(
    inputs: Sequence[str | os.PathLike],
    on_error: OnError | None = None,
    out_dir: str | os.PathLike | None = None,
) -> Iterator[MediaItem]:
    """Yield every picture of image files, folders and animated pictures (their frames).

    Folders are listed non-recursively, sorted, keeping pictures ([`IMAGE_SUFFIXES`][IMAGE_SUFFIXES],
    GIFs); one warning per folder counts what was left out (see the module docstring). A
    file given twice is read once. Names are unique (see the module docstring).

    Args:
        inputs: image files ([`IMAGE_SUFFIXES`][IMAGE_SUFFIXES], `ANIMATION_SUFFIXES`) or
            folders; a single path is one input.
        on_error: called as ``on_error(input, error)`` for an input that cannot be read,
            which is then skipped (an animation that fails part-way is reported after its
            good frames). ``None`` raises the error instead.
        out_dir: the output folder of the run: drawings and ``results.json`` found inside
            it by listing a folder are left out (counted in the folder's warning).

    Yields:
        A [`MediaItem`][MediaItem] per still image or frame.

    Raises:
        FileNotFoundError: for a path that does not exist (without ``on_error``).
        ValueError: for an unknown suffix, an empty folder, an unreadable image or a
            damaged or truncated animation, or a video file, naming it (without
            ``on_error``).
    """

    def report(source: str, err: Exception) -> None:
        if on_error is None:
            raise err
        on_error(source, err)

    sources, _ = _sources(inputs, report, Path(out_dir) if out_dir is not None else None)
    yield from _pictures(sources, report)


def _draw(
    path: Path,
    image: torch.Tensor,
    people: list[dict],
    score_threshold: float,
    keypoint_set,
) -> None:
    """Draw a picture's people into ``path`` (a PNG), at most ``MAX_DRAWING_SIDE`` pixels on
    its longer side; written atomically, so a failure never leaves a partial file."""
    import matplotlib.pyplot as plt

    from cgalib.viz.masks import draw_masks
    from cgalib.viz.poses import draw_people

    h, w = image.shape[-2:]
    scale = min(1.0, MAX_DRAWING_SIDE / max(h, w))
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    # a hair over the pixel count: matplotlib truncates the figure's size to whole pixels
    fig = plt.figure(figsize=((size[1] + 1e-3) / 100, (size[0] + 1e-3) / 100), dpi=100)
    try:
        ax = fig.add_axes([0, 0, 1, 1])
        draw_people(ax, resize_image(image, size), people, score_threshold=score_threshold,
                    extra_box_key="extended_box", keypoint_set=keypoint_set,
                    image_size=(h, w))  # fmt: skip
        draw_masks(ax, people, (h, w), score_threshold=score_threshold, draw_size=size)
        with atomic_open(path, "wb") as f:
            fig.savefig(f, format="png", dpi=100)
    finally:
        plt.close(fig)


def predict_media(
    predictor: nn.Module | Predictor,
    inputs: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    input_size: int | None = None,
    device: str | None = None,
    score_threshold: float = DISPLAY_SCORE_THRESHOLD,
    render: bool = True,
    strict: bool = False,
) -> MediaReport:
    """Run a pose model on images, folders and animations; write results and drawings.

    The output folder is checked to be writable before anything is predicted. Inputs
    that cannot be read, and pictures the model fails on (a ``MemoryError`` on a huge
    photo, say), are skipped with one ``UserWarning`` each (``skipped <input>: <reason>``)
    and listed in the report; the others still run. A model that fails on the first
    three pictures in a row is broken rather than unlucky: its error is raised. Folders'
    entries that are not pictures are counted in one warning per folder (see the module
    docstring).

    What was predicted is never lost: ``results.json`` is written once at the end,
    atomically, even when the run stops early (an error, Ctrl-C), and each drawing is
    written atomically as it is made (a full disk leaves no partial drawing, and stops
    the run with one line naming the drawing). A SIGTERM or SIGINT (``timeout``,
    ``kill``, Docker, Slurm, Ctrl-C) finishes the picture in progress, writes
    ``results.json`` and then raises [`Interrupted`][cgalib.utils.Interrupted], whose
    ``exit_status`` is ``128 + signal`` (a second signal stops at once, still writing the
    results).

    Drawings are at most [`MAX_DRAWING_SIDE`][MAX_DRAWING_SIDE] pixels on their longer side
    (larger pictures drawn scaled down), so drawing a 48-megapixel photo needs little
    memory; results are in the picture's own pixels.

    Args:
        predictor: a model that finds people on its own (e.g. from
            [`cgalib.load_model()`][cgalib.load_model]), wrapped in a [`Predictor`][Predictor] with
            ``input_size`` and ``device``; or a ready [`Predictor`][Predictor] (with its
            detector, for a model that needs boxes; ``input_size`` and ``device`` are then
            its own).
        inputs: image files, folders or animations (see [`iter_media()`][iter_media]).
        out_dir: output folder (created): ``results.json`` (COCO results, each person
            with the ``file_name`` of its picture instead of an ``image_id``, and a
            ``frame`` index for frames of animations) and one drawing per picture at
            [`drawing_name()`][drawing_name] (subfolders mirror the inputs'). It may be an
            input folder: its drawings and results are then left out of later runs.
        input_size: the model's input size (when ``predictor`` is a model; default the
            model's own).
        device: where to run (when ``predictor`` is a model).
        score_threshold: people below it are not drawn (the JSON holds the predictor's
            people: a ``Predictor`` built here leaves out the same ones).
        render: draw the pictures (skeleton and colours of the model's keypoint set).
        strict: stop at the first input that cannot be read or picture the model fails
            on, raising its error (after writing the results so far), instead of
            skipping it.

    Returns:
        A [`MediaReport`][MediaReport]: the ``results.json`` path and the counts.

    Raises:
        OutputError: (an ``OSError``) when ``out_dir`` cannot be written (before anything
            is predicted), or when a drawing cannot be written for lack of space or
            permission (naming it; the results so far are written).
        ValueError: if no input could be read (nothing is written then), for an empty
            ``inputs``, or with ``strict`` for the first bad input.
        FileNotFoundError: with ``strict``, for a missing input.
        Interrupted: after a SIGTERM or SIGINT, once the results are written.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)

    if not inputs:
        raise ValueError("predict_media needs at least one input (image, folder or GIF)")
    if isinstance(predictor, nn.Module):
        predictor = Predictor(
            predictor, device=device, input_size=input_size, score_threshold=score_threshold
        )
    out = check_writable(out_dir, "output folder")
    path = out / RESULTS_NAME
    results: list[dict] = []
    skipped: list[tuple[str, str]] = []
    images = 0
    failures: list[BaseException] = []  # the model's failures before its first success

    def on_error(source: str, err: Exception) -> None:
        if strict:
            note = (
                f" (strict: stopped; the {images} picture(s) before it are in {path})"
                if images
                else " (strict: stopped; nothing was written)"
            )
            kind = FileNotFoundError if isinstance(err, FileNotFoundError) else ValueError
            raise kind(f"{err}{note}") from err
        warnings.warn(f"skipped {source}: {err}", UserWarning, stacklevel=3)
        skipped.append((source, str(err)))

    def on_failure(item: MediaItem, err: Exception) -> None:
        """The model (or drawing) failed on one picture: skip it, unless it always fails."""
        source = item.name if item.frame is None else f"{item.name} frame {item.frame}"
        if isinstance(err, MemoryError):
            h, w = item.image.shape[-2:]
            reason = (f"out of memory while predicting it ({w}x{h} pixels); free memory, or "
                      "downscale the picture")  # fmt: skip
        else:
            reason = f"{type(err).__name__} while predicting it: {err}"
        if strict:
            raise err
        if not images:
            failures.append(err)
            if len(failures) >= _FAILURES_BEFORE_GIVING_UP and all(
                type(f) is type(err) for f in failures
            ):
                message = (f"the model failed on each of the first {len(failures)} pictures "
                           f"with {type(err).__name__} (the last: {source}: {err}); stopping")  # fmt: skip
                try:
                    again = type(err)(message)
                except Exception:  # an exception class that takes other arguments
                    raise err from None
                raise again from err
        warnings.warn(f"skipped {source}: {reason}", UserWarning, stacklevel=3)
        skipped.append((source, reason))

    def on_draw_failure(item: MediaItem, drawing: Path, err: Exception) -> None:
        """The picture is predicted (its people are in the results) but not drawn."""
        source = item.name if item.frame is None else f"{item.name} frame {item.frame}"
        reason = f"not drawn ({drawing}): {type(err).__name__}: {err}; its people are in {path}"
        if strict:
            raise err
        warnings.warn(f"{source}: {reason}", UserWarning, stacklevel=3)
        skipped.append((source, reason))

    def save() -> None:
        if images:
            with atomic_open(path) as f:
                json.dump(results, f)

    bar = ProgressBar(None, "predict", unit="img")
    with stop_requests() as stop:
        try:
            sources, ignored = _sources(inputs, on_error, out)
            for item in _pictures(sources, on_error):
                if stop.requested:  # a signal while this picture was read
                    break
                try:
                    people = predictor.predict(item.image)
                except Exception as err:  # MemoryError, a CUDA out-of-memory, ...
                    on_failure(item, err)
                    continue
                tag = {"file_name": item.name}
                if item.frame is not None:
                    tag["frame"] = item.frame
                results.extend({**tag, **p} for p in people)
                images += 1
                if render:
                    drawing = out / drawing_name(item.name, item.frame)
                    try:
                        _draw(drawing, item.image, people, score_threshold,
                              predictor.keypoint_set)  # fmt: skip
                    except OSError as err:
                        if err.errno in _FULL_DISK:
                            raise OutputError(
                                f"cannot write {drawing}: {describe_os_error(err)}; the "
                                f"{images} picture(s) predicted are in {path}"
                            ) from err
                        on_draw_failure(item, drawing, err)
                    except Exception as err:  # out of memory, a matplotlib error, ...
                        on_draw_failure(item, drawing, err)
                bar.update(1)
                if stop.requested:
                    break
        except BaseException:
            bar.close()
            try:
                save()
            except OSError as err:  # the disk is full: say so, but keep the first error
                warnings.warn(f"could not write {path}: {describe_os_error(err)}",
                              UserWarning, stacklevel=2)  # fmt: skip
            raise
        bar.close()
        save()
        if stop.requested:
            stop.stop(
                f"the {images} picture(s) predicted before it are saved in {path}"
                + (f" ({len(skipped)} skipped)" if skipped else "")
                if images
                else "no picture was predicted yet; nothing was written"
            )
    if not images:
        raise ValueError(
            f"none of the inputs could be read{' and predicted' if failures else ''} "
            f"({len(skipped)} skipped: "
            f"{', '.join(s for s, _ in skipped)}); nothing was written"
        )
    return MediaReport(path, images, len(results), tuple(skipped),
                       tuple(str(p) for p in ignored))  # fmt: skip
