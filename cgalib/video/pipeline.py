"""Predict, track and smooth the people of a video; write the results and an annotated video.

[`predict_video()`][predict_video] is the entry point behind ``cgalib predict clip.mp4``: frames are
decoded with PyAV ([`VideoReader`][cgalib.video.VideoReader]), predicted in batches by a
[`Predictor`][cgalib.Predictor], tracked ([`PoseTracker`][cgalib.video.PoseTracker]), smoothed
([`PoseSmoother`][cgalib.video.PoseSmoother]), drawn ([`draw_tracks()`][cgalib.video.draw_tracks]) into an
H.264 video next to the results, and written as one JSON per video
(`cgalib.video.results`).

Frames are read as displayed (a phone's portrait video comes upright:
[`VideoReader`][cgalib.video.VideoReader]), so results are in displayed pixels and the annotated
video plays upright; the results record the turn (``video.rotation``). A stream whose
frame size changes midway is predicted frame by frame at each frame's own size (such a
frame's record carries its ``width`` and ``height``), its drawing scaled to the first
size for the annotated video, and one warning counts those frames.
"""

from __future__ import annotations

import os
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch import nn

from cgalib.inference.predictor import Predictor
from cgalib.utils.image import resize_image
from cgalib.utils.progress import ProgressBar
from cgalib.utils.signals import stop_requests
from cgalib.video.reader import VideoFrame, VideoReader, VideoReadError
from cgalib.video.render import draw_tracks
from cgalib.video.results import RESULTS_FORMAT, frame_record, save_video_results
from cgalib.video.smoothing import PoseSmoother
from cgalib.video.tracking import PoseTracker
from cgalib.video.writer import VideoWriter

__all__ = ["output_paths", "predict_video"]


def output_paths(video: str | os.PathLike, out_dir: str | os.PathLike) -> tuple[Path, Path]:
    """Where [`predict_video()`][predict_video] writes: ``out_dir/<file name>.poses.json`` and
    ``.poses.mp4``.

    The input's suffix stays in the names, so ``walk.mkv`` and ``walk.mp4`` never share
    outputs, and an output never has the input's name.

    Examples:
        >>> [p.as_posix() for p in output_paths("clips/walk.mkv", "out")]
        ['out/walk.mkv.poses.json', 'out/walk.mkv.poses.mp4']
    """
    name = Path(video).name
    return Path(out_dir) / f"{name}.poses.json", Path(out_dir) / f"{name}.poses.mp4"


def _batches(frames: Iterator[VideoFrame], size: int) -> Iterator[tuple[list, Exception | None]]:
    """Chunks of ``size`` frames; a read error ends the last chunk instead of losing it."""
    while True:
        chunk: list[VideoFrame] = []
        try:
            for frame in frames:
                chunk.append(frame)
                if len(chunk) == size:
                    break
        except VideoReadError as err:
            yield chunk, err
            return
        if chunk:
            yield chunk, None
        if len(chunk) < size:
            return


def predict_video(
    predictor: Predictor | nn.Module,
    path: str | os.PathLike,
    out_dir: str | os.PathLike,
    every: int = 1,
    max_frames: int | None = None,
    smooth: bool = True,
    tracker: PoseTracker | None = None,
    smoother: PoseSmoother | None = None,
    render: bool = True,
    codec: str | None = None,
    keypoint_threshold: float = 0.2,
    progress: bool = True,
) -> Path:
    """Predict, track and smooth the people of a video; write a results JSON and a video.

    Args:
        predictor: a [`Predictor`][cgalib.Predictor] (with its detector, for a model that
            needs boxes), or a model that finds people on its own (wrapped in a
            ``Predictor`` with its defaults: the model's input size, CUDA when available).
        path: the video file (any container PyAV reads).
        out_dir: the output folder: ``<file name>.poses.json`` (see
            `cgalib.video.results`) and, with ``render``, ``<file name>.poses.mp4``
            ([`output_paths()`][output_paths]); existing ones are replaced.
        every: process every ``every``-th frame (1: all).
        max_frames: stop after this many processed frames (``None``: the whole video).
        smooth: One-Euro smoothing of keypoints and boxes (on by default).
        tracker: a fresh [`PoseTracker`][cgalib.video.PoseTracker] (default: one with the OKS
            sigmas of the model's keypoint set, ``predictor.keypoint_set``); its
            ``min_score`` drops low-scoring people.
        smoother: a fresh [`PoseSmoother`][cgalib.video.PoseSmoother] (default ``PoseSmoother()``
            when ``smooth``); must be ``None`` when ``smooth`` is ``False``.
        render: write the annotated video (skeleton and colours of the model's keypoint
            set).
        codec: its encoder (default [`best_video_codec()`][cgalib.video.best_video_codec]: H.264).
        keypoint_threshold: keypoints scored lower are not drawn.
        progress: show a progress bar (frames per second, people) on stderr.

    Returns:
        The path of the results JSON.

    Raises:
        ImportError: without PyAV or SciPy, saying ``pip install cgalib[video]``.
        FileNotFoundError: if the video does not exist.
        ValueError: for bad arguments or a model without keypoints (before anything is
            written).
        VideoReadError: for a file that is not a video, or that is damaged or truncated.
            Frames processed before the damage are saved first (``"complete": false``),
            and the message says how many and where.
        Interrupted: after a SIGTERM or SIGINT (``timeout``, ``kill``, Docker, Slurm,
            Ctrl-C): the batch in progress is finished, the annotated video closed and the
            results saved (``"complete": false``, the signal in ``error``) first; its
            ``exit_status`` is ``128 + signal``.
    """
    for name, part in (("tracker", tracker), ("smoother", smoother)):
        if part is not None and part.frames_seen:
            raise ValueError(f"{name} has already seen {part.frames_seen} frames; pass a new one")
    if not smooth and smoother is not None:
        raise ValueError("smooth=False with a smoother: pass one or the other")
    if isinstance(predictor, nn.Module):
        predictor = Predictor(predictor)
    outputs = predictor.model.outputs
    if "keypoints" not in outputs:  # tracking and smoothing follow keypoints
        raise ValueError(
            f"predict_video tracks people by their keypoints, but the model predicts only "
            f"{', '.join(outputs)}; predict the video's frames as pictures (a GIF or images), "
            "or use a model with keypoints (outputs=('keypoints', 'masks'))"
        )
    keypoint_set = predictor.keypoint_set
    tracker = tracker or PoseTracker(sigmas=keypoint_set.sigmas)
    smoother = smoother or (PoseSmoother() if smooth else None)
    json_path, video_path = output_paths(path, out_dir)
    reader = VideoReader(path)  # checks the file before anything is written
    try:
        total = reader.expected_frames(every, max_frames)  # checks every and max_frames
    except BaseException:
        reader.close()
        raise
    frames = reader.frames(every, max_frames)
    info = reader.info
    results = {
        "format": RESULTS_FORMAT,
        "video": {
            "file": Path(path).name,
            "width": info.width,
            "height": info.height,
            "fps": info.fps,
            "num_frames": info.num_frames,
            "duration": info.duration,
            "codec": info.codec,
            "rotation": info.rotation,
            "mirrored": info.mirrored,
        },
        "annotated_video": None,
        "annotated_codec": None,
        "settings": {
            "every": every,
            "max_frames": max_frames,
            "input_size": list(predictor.input_size_for(info.height, info.width)),
            "tracker": repr(tracker),
            "smoother": repr(smoother) if smoother else None,
        },
        "complete": False,
        "error": None,
        "frames": [],
    }
    writer = None
    size = (info.height, info.width)
    other_sizes: Counter[tuple[int, int]] = Counter()  # frames of another size than the first
    bar = ProgressBar(total, Path(path).name, unit="frame", enabled=progress)
    with stop_requests() as stop:
        try:
            if render:
                fps = (info.fps or 25.0) / every
                writer = VideoWriter(video_path, fps, info.width, info.height, codec=codec)
                results["annotated_video"] = video_path.name
                results["annotated_codec"] = writer.codec
            read_error: VideoReadError | None = None
            for chunk, error in _batches(frames, predictor.batch_size):
                read_error = error or read_error
                predictions = predictor.predict([f.image for f in chunk]) if chunk else []
                for frame, people in zip(chunk, predictions):
                    people = tracker.update(people, frame.time)
                    if smoother is not None:
                        people = smoother.update(people, frame.time)
                    record = frame_record(frame.index, frame.time, people)
                    frame_size = tuple(frame.image.shape[-2:])
                    if frame_size != size:
                        other_sizes[frame_size] += 1
                        record = {**record, "width": frame_size[1], "height": frame_size[0]}
                    results["frames"].append(record)
                    if writer is not None:
                        drawing = draw_tracks(frame.image, people, keypoint_threshold,
                                              keypoint_set)  # fmt: skip
                        writer.write(_fit(drawing, size), frame.time)
                    bar.update(1, people=len(people))
                if stop.requested:
                    break
            if stop.requested:
                results["error"] = (
                    f"Interrupted: stopped by {stop.signal_name} after "
                    f"{len(results['frames'])} frames"
                )
            elif read_error is not None:
                n = len(results["frames"])
                results["error"] = f"VideoReadError: {read_error}"
                raise VideoReadError(
                    f"{read_error}; the {n} frames processed before it are saved in {json_path}"
                    + (f" and {video_path}" if writer is not None else ""),
                    read_error.path,
                    read_error.frames_read,
                )
            else:
                results["complete"] = True
        except BaseException as err:
            results["error"] = results["error"] or f"{type(err).__name__}: {err}"
            raise
        finally:
            bar.close()
            reader.close()
            _warn_other_sizes(path, other_sizes, len(results["frames"]), size, writer)
            try:
                if writer is not None:
                    writer.close()
            finally:  # the results are saved even if finishing the video fails
                save_video_results(json_path, results)
        stop.stop(
            f"the {len(results['frames'])} frames processed before it are saved in {json_path}"
            + (f" and {video_path}" if writer is not None else "")
        )
    return json_path


def _fit(drawing: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A drawn `(H, W, 3)` frame scaled to the annotated video's ``size`` (H, W) if need be."""
    if drawing.shape[:2] == size:
        return drawing
    image = torch.from_numpy(np.array(drawing)).permute(2, 0, 1)  # a writable copy
    return resize_image(image, size).permute(1, 2, 0).numpy()


def _warn_other_sizes(
    path, other: Counter, frames: int, size: tuple[int, int], writer: VideoWriter | None
) -> None:
    """One warning for the frames of a size other than the first's (a stream whose
    resolution changes midway)."""
    if not other:
        return
    sizes = ", ".join(f"{w}x{h}" for h, w in sorted(other))
    scaled = f"; the annotated video shows them scaled to {size[1]}x{size[0]}" if writer else ""
    warnings.warn(
        f"{path}: {sum(other.values())} of {frames} frames are {sizes}, not {size[1]}x{size[0]} "
        f"(the frame size changes midway): each frame's results are in its own pixels (its "
        f"'width' and 'height' in the results){scaled}",
        UserWarning,
        stacklevel=3,
    )
