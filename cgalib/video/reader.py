"""Decode a video file with PyAV: RGB frames with their index and timestamp, never a short read.

Any container and codec the bundled FFmpeg reads works (MP4, MKV, WebM, MOV, AVI, ...).
Each frame keeps its presentation timestamp in seconds (``pts * time_base``), so
variable-frame-rate clips and ``every``-th-frame processing keep real times.

**As displayed.** Phones store portrait (or upside-down) video sideways and tell players
to turn it: a display matrix (MP4, MOV) or the older ``rotate`` metadata tag. Frames are
turned (and mirrored, for a mirrored matrix) to the picture players show, as photos are
by their EXIF orientation ([`cgalib.utils.read_image()`][cgalib.utils.read_image]), so every
result is in displayed pixels; [`VideoInfo`][VideoInfo] gives the displayed size and the
turn.

A damaged or truncated file raises [`VideoReadError`][VideoReadError] naming the file and how many
frames were decoded before the damage: a decoding error, fewer frames than the container
declares, or (for containers that declare no frame count) frames ending more than half a
frame before the duration it declares all count as damage.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from cgalib.video._deps import require

__all__ = ["VideoFrame", "VideoInfo", "VideoReadError", "VideoReader"]


class VideoReadError(ValueError):
    """A file that is not a readable video, or whose video ends before it says it does.

    Args:
        message: the one-line message; it names the file.
        path: the file.
        frames_read: frames decoded before the damage was found (0 if none).
    """

    def __init__(self, message: str, path: str | os.PathLike, frames_read: int = 0) -> None:
        super().__init__(message)
        self.path = Path(path)
        self.frames_read = frames_read


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about its first video stream.

    Attributes:
        path: the file.
        width: frame width in pixels, as displayed (the stored height for a quarter turn).
        height: frame height in pixels, as displayed.
        fps: the average frame rate (frames per second), ``None`` if the file gives none.
        num_frames: the frame count the container declares, ``None`` if it declares none
            (MKV and WebM usually do not).
        duration: the stream's duration in seconds, ``None`` if unknown.
        start_time: the timestamp of the first frame in seconds (often 0).
        codec: the codec name (``"h264"``, ``"vp9"``, ...).
        rotation: degrees (0, 90, 180 or 270) the stored frames are turned clockwise to be
            displayed, by the display matrix or the ``rotate`` tag (a portrait phone video:
            90); frames come turned.
        mirrored: whether the display matrix mirrors the stored frames left to right
            (before the turn); frames come mirrored.
    """

    path: Path
    width: int
    height: int
    fps: float | None
    num_frames: int | None
    duration: float | None
    start_time: float
    codec: str
    rotation: int = 0
    mirrored: bool = False


class VideoFrame(NamedTuple):
    """One decoded frame.

    Attributes:
        index: its position in the stream, 0-based, in presentation order (frames skipped
            by ``every`` still count).
        time: its presentation timestamp in seconds (``pts * time_base``).
        image: RGB ``uint8`` `(3, H, W)` tensor, as [`cgalib.utils.to_rgb_tensor()`][cgalib.utils.to_rgb_tensor]
            returns.
    """

    index: int
    time: float
    image: torch.Tensor


def _check_every(every: int, max_frames: int | None) -> None:
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ValueError(f"every must be a positive integer (1 = every frame), got {every!r}")
    if max_frames is not None and (
        isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 1
    ):
        raise ValueError(f"max_frames must be a positive integer or None, got {max_frames!r}")


def _tag_seconds(value: str | None) -> float | None:
    """``"00:01:02.500000000"`` (Matroska's per-track ``DURATION`` tag) in seconds."""
    match = re.fullmatch(r"(\d+):(\d+):(\d+(?:\.\d*)?)", value or "")
    if not match:
        return None
    h, m, s = match.groups()
    return int(h) * 3600 + int(m) * 60 + float(s)


def _matrix_orientation(matrix: np.ndarray) -> tuple[float, bool]:
    """``(clockwise degrees, mirrored)`` of an FFmpeg display matrix (nine int32, 16.16).

    The matrix maps a stored pixel ``(x, y)`` (y down) to ``(a x + c y, b x + d y)``; a
    mirror (negative determinant) is taken as a left-right flip before the turn.
    """
    a, b, c, d = (float(v) / 65536 for v in (matrix[0], matrix[1], matrix[3], matrix[4]))
    mirrored = a * d - b * c < 0
    if mirrored:
        a, b = -a, -b
    return math.degrees(math.atan2(b, a)) % 360, mirrored


def _orientation(av, path: Path, stream) -> tuple[int, bool]:
    """The turn and mirror of a video stream: the display matrix of its first frame (where
    FFmpeg puts the container's), else the ``rotate`` tag; ``(0, False)`` without either."""
    degrees, mirrored = None, False
    try:
        with av.open(str(path)) as probe:
            for frame in probe.decode(probe.streams.video[0]):  # the stream VideoReader reads
                for data in frame.side_data:
                    if getattr(data.type, "name", str(data.type)).endswith("DISPLAYMATRIX"):
                        degrees, mirrored = _matrix_orientation(
                            np.frombuffer(memoryview(data), np.int32)
                        )
                break
    except (av.error.FFmpegError, ValueError, IndexError):
        pass  # a damaged file: frames() says so
    if degrees is None:
        tags = {k.lower(): v for k, v in stream.metadata.items()}
        try:
            degrees = float(tags.get("rotate", 0)) % 360
        except ValueError:
            degrees = 0.0
    quarter = round(degrees / 90) % 4
    if abs(degrees - 90 * round(degrees / 90)) > 1:
        warnings.warn(
            f"{path}: its display turns the picture by {degrees:.1f} degrees, not a multiple "
            "of 90; frames are read as stored",
            UserWarning,
            stacklevel=3,
        )
        return 0, mirrored
    return 90 * quarter, mirrored


def _display(image: np.ndarray, rotation: int, mirrored: bool) -> np.ndarray:
    """A stored `(H, W, 3)` frame as displayed: mirrored left to right, then turned."""
    if mirrored:
        image = image[:, ::-1]
    if rotation:
        image = np.rot90(image, k=-(rotation // 90))  # rot90 turns counter-clockwise
    return image


class VideoReader:
    """Open a video file and iterate over its frames, upright as displayed.

    Args:
        path: the video file.

    Raises:
        ImportError: without PyAV, saying ``pip install cgalib[video]``.
        FileNotFoundError: if ``path`` does not exist.
        VideoReadError: if it is not a video FFmpeg can read, or has no video stream.

    Examples:
        >>> with VideoReader("clip.mp4") as video:  # doctest: +SKIP
        ...     print(video.info.fps)
        ...     for frame in video.frames(every=2, max_frames=10):
        ...         print(frame.index, frame.time, frame.image.shape)
    """

    def __init__(self, path: str | os.PathLike) -> None:
        av = require("av", "reading video")
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"video not found: {self.path}")
        if self.path.is_dir():
            raise VideoReadError(f"{self.path} is a folder, not a video file", self.path)
        try:
            self._container = av.open(str(self.path))
        except av.error.FFmpegError as err:
            raise VideoReadError(
                f"cannot read video {self.path}: not a video file FFmpeg can read, or damaged "
                f"({err.strerror or err})",
                self.path,
            ) from None
        streams = self._container.streams
        if not streams.video:
            kinds = sorted({s.type for s in streams}) or ["none"]
            self._container.close()
            raise VideoReadError(
                f"cannot read video {self.path}: it has no video stream (streams: "
                f"{', '.join(kinds)}); the file may be truncated or not a video",
                self.path,
            )
        self._stream = streams.video[0]
        self._stream.thread_type = "AUTO"
        self._started = False
        s = self._stream
        rate = s.average_rate or s.guessed_rate or s.base_rate
        tb = float(s.time_base) if s.time_base else None
        duration = s.duration * tb if s.duration and tb else None
        if duration is None:
            duration = _tag_seconds(s.metadata.get("DURATION"))
        if duration is None and len(streams) == 1 and self._container.duration:
            duration = self._container.duration / 1e6  # microseconds, of the only stream
        start = s.start_time * tb if s.start_time is not None and tb else 0.0
        rotation, mirrored = _orientation(av, self.path, s)
        width, height = s.codec_context.width, s.codec_context.height
        if rotation in (90, 270):
            width, height = height, width
        self.info = VideoInfo(
            path=self.path,
            width=width,
            height=height,
            fps=float(rate) if rate else None,
            num_frames=s.frames or None,
            duration=duration,
            start_time=start,
            codec=s.codec_context.name,
            rotation=rotation,
            mirrored=mirrored,
        )

    def expected_frames(self, every: int = 1, max_frames: int | None = None) -> int | None:
        """How many frames [`frames()`][frames] will yield, if the container says; else ``None``.

        Args:
            every: yield every ``every``-th frame.
            max_frames: stop after this many yielded frames.
        """
        _check_every(every, max_frames)
        n = self.info.num_frames
        if n is None and self.info.duration and self.info.fps:
            n = round(self.info.duration * self.info.fps)
        if n is None:
            return max_frames
        n = -(-n // every)
        return min(n, max_frames) if max_frames else n

    def frames(self, every: int = 1, max_frames: int | None = None) -> Iterator[VideoFrame]:
        """Decode the frames, yielding every ``every``-th one (0, every, 2 every, ...).

        Args:
            every: keep one frame in ``every`` (all are decoded; only kept ones are
                converted to RGB).
            max_frames: stop after yielding this many frames (``None``: to the end).

        Yields:
            [`VideoFrame`][VideoFrame] ``(index, time, image)``, the image upright as
            displayed (turned and mirrored as ``info`` says). A stream whose frame size
            changes midway yields each frame at its own size.

        Raises:
            ValueError: for an ``every`` or ``max_frames`` that is not a positive integer.
            VideoReadError: when decoding fails, when the stream ends before the frame count
                or duration the container declares, or when no frame decodes; the message
                names the file and the number of frames decoded.
            RuntimeError: when called a second time (a reader decodes once).
        """
        _check_every(every, max_frames)
        if self._started:
            raise RuntimeError(
                f"the frames of {self.path} can be read once per VideoReader; open a new one"
            )
        self._started = True
        av = require("av", "reading video")
        info = self.info
        fps = info.fps
        decoded, kept, last_time, last_end = 0, 0, None, None
        try:
            for frame in self._container.decode(self._stream):
                time = frame.time if frame.time is not None else decoded / (fps or 1.0)
                if last_time is not None and time <= last_time:
                    raise VideoReadError(
                        f"{self.path}: frame {decoded} has timestamp {time:.6f} s, not after "
                        f"frame {decoded - 1}'s {last_time:.6f} s; the timestamps are damaged "
                        "(remuxing, e.g. ffmpeg -i in -c copy out.mp4, often repairs them)",
                        self.path,
                        decoded,
                    )
                last_time = time
                duration = getattr(frame, "duration", None)  # PyAV >= 13
                last_end = time + (
                    float(duration * frame.time_base)
                    if duration and frame.time_base
                    else 1.0 / (fps or 1.0)
                )
                index = decoded
                decoded += 1
                if index % every:
                    continue
                rgb = frame.to_ndarray(format="rgb24")
                rgb = np.ascontiguousarray(_display(rgb, info.rotation, info.mirrored))
                yield VideoFrame(index, float(time), torch.from_numpy(rgb).permute(2, 0, 1))
                kept += 1
                if max_frames is not None and kept >= max_frames:
                    return
        except av.error.FFmpegError as err:
            raise VideoReadError(
                f"{self.path}: the video is damaged after frame {decoded}: decoding failed "
                f"({err.strerror or err}); {decoded} frames were read",
                self.path,
                decoded,
            ) from None
        self._check_complete(decoded, last_time, last_end)

    def _check_complete(
        self, decoded: int, last_time: float | None, last_end: float | None
    ) -> None:
        """Refuse a stream that ended early: the container declared more frames or time.

        A declared frame count (MP4, MOV) is checked exactly; otherwise a declared duration
        (Matroska, WebM) is compared with ``last_end``, the end of the last frame (its
        timestamp plus its duration), with half a frame of slack, so that one missing
        frame is caught and rounding is not.
        """
        info = self.info
        if decoded == 0:
            raise VideoReadError(
                f"{self.path}: no video frame could be decoded; the file is truncated or damaged",
                self.path,
            )
        if info.num_frames and decoded < info.num_frames:
            raise VideoReadError(
                f"{self.path}: truncated or damaged video: {decoded} of the "
                f"{info.num_frames} frames it declares could be decoded",
                self.path,
                decoded,
            )
        if not info.num_frames and info.duration and last_end is not None:
            slack = 0.5 / (info.fps or 25.0) + 1e-3
            if last_end < info.start_time + info.duration - slack:
                raise VideoReadError(
                    f"{self.path}: truncated or damaged video: the {decoded} decoded frames "
                    f"end at {last_end:.3f} s, the file declares {info.duration:.3f} s",
                    self.path,
                    decoded,
                )

    def __iter__(self) -> Iterator[VideoFrame]:
        return self.frames()

    def close(self) -> None:
        """Close the file (also done by ``with``)."""
        self._container.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        i = self.info
        turn = f", rotation={i.rotation}" if i.rotation else ""
        turn += ", mirrored" if i.mirrored else ""
        return (
            f"VideoReader({str(i.path)!r}, {i.width}x{i.height}{turn}, fps={i.fps}, "
            f"frames={i.num_frames}, codec={i.codec!r})"
        )
