"""Encode RGB frames into a video file with PyAV, keeping each frame's timestamp.

H.264 (``libx264``, bundled with PyAV's FFmpeg) is preferred; where it is missing the best
available encoder is used ([`best_video_codec()`][best_video_codec]). Timestamps are written as given, so a
clip processed at every ``N``-th frame still plays at real speed.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from cgalib.video._deps import require

__all__ = ["VIDEO_CODECS", "VideoWriter", "best_video_codec"]

VIDEO_CODECS: tuple[str, ...] = ("libx264", "libopenh264", "mpeg4")
"""Encoders in order of preference: H.264 (x264, then OpenH264), then MPEG-4 part 2, which
every FFmpeg build has."""

_H264_CLOCK = Fraction(1, 90000)  # the MPEG 90 kHz clock: exact for 24, 25, 30, 29.97, 60 fps
_MPEG4_CLOCK = Fraction(1, 30000)  # MPEG-4 part 2 allows denominators up to 65535; exact
# for 25, 29.97, 30, 50, 59.94 and 60 fps


def best_video_codec() -> str:
    """The first encoder of [`VIDEO_CODECS`][VIDEO_CODECS] that the installed FFmpeg provides.

    Returns:
        An encoder name for [`VideoWriter`][VideoWriter] (``"libx264"`` with PyAV's wheels).

    Raises:
        ImportError: without PyAV, saying ``pip install cgalib[video]``.
        RuntimeError: if none is available, naming them.
    """
    av = require("av", "writing video")
    for name in VIDEO_CODECS:
        try:
            av.codec.Codec(name, "w")
        except (av.error.FFmpegError, ValueError):
            continue
        return name
    raise RuntimeError(f"FFmpeg has none of the video encoders {list(VIDEO_CODECS)}")


class VideoWriter:
    """Write RGB frames to a video file (MP4 with H.264 by default).

    Args:
        path: the output file; its suffix picks the container (``.mp4``, ``.mkv``, ...).
            Its folder is created.
        fps: the nominal frame rate (what players show); frame times given to
            [`write()`][write] take precedence.
        width: frame width in pixels.
        height: frame height in pixels.
        codec: an FFmpeg encoder name; ``None`` picks [`best_video_codec()`][best_video_codec].
        quality: x264's constant rate factor (0 lossless .. 51 worst; 18 looks lossless);
            other encoders get an equivalent bit rate of 2 bits per pixel per second times
            ``fps``.

    Odd sizes are padded by one pixel (H.264's 4:2:0 colour needs even sizes), repeating
    the last row or column.

    Raises:
        ImportError: without PyAV, saying ``pip install cgalib[video]``.
        ValueError: for a non-positive size or frame rate.

    Examples:
        >>> with VideoWriter("out.mp4", fps=25, width=64, height=48) as out:  # doctest: +SKIP
        ...     for i in range(10):
        ...         out.write(np.zeros((48, 64, 3), np.uint8), time=i / 25)
    """

    def __init__(
        self,
        path: str | os.PathLike,
        fps: float,
        width: int,
        height: int,
        codec: str | None = None,
        quality: int = 20,
    ) -> None:
        av = require("av", "writing video")
        if width < 1 or height < 1:
            raise ValueError(f"video size must be positive, got {width}x{height}")
        if not fps or fps <= 0:
            raise ValueError(f"fps must be positive, got {fps!r}")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.codec = codec or best_video_codec()
        self.width, self.height, self.fps = width, height, float(fps)
        self.frames_written = 0
        self._last_pts: int | None = None
        self._container = av.open(str(self.path), "w")
        try:
            rate = Fraction(self.fps).limit_denominator(1001)
            stream = self._container.add_stream(self.codec, rate=rate)
            stream.width, stream.height = width + width % 2, height + height % 2
            stream.pix_fmt = "yuv420p"
            self._clock = _H264_CLOCK if "264" in self.codec else _MPEG4_CLOCK
            stream.time_base = self._clock
            stream.codec_context.time_base = self._clock
            if self.codec == "libx264":
                stream.options = {"crf": str(quality), "preset": "veryfast"}
            else:
                stream.bit_rate = int(2 * stream.width * stream.height * self.fps)
        except BaseException:
            self._container.close()
            raise
        self._stream = stream
        self._av = av

    def write(self, image: np.ndarray | torch.Tensor, time: float | None = None) -> None:
        """Encode one frame.

        Args:
            image: RGB ``uint8``, an `(H, W, 3)` array or a `(3, H, W)` tensor.
            time: its timestamp in seconds; ``None`` puts it ``1 / fps`` after the last.

        Raises:
            ValueError: for another size or dtype, or a time not after the last frame's.
        """
        if isinstance(image, torch.Tensor):
            image = image.detach().cpu().permute(1, 2, 0).numpy()
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.shape != (self.height, self.width, 3):
            raise ValueError(
                f"{self.path}: frames must be uint8 ({self.height}, {self.width}, 3) RGB, got "
                f"{image.dtype} {image.shape}"
            )
        if self.width % 2 or self.height % 2:
            image = np.pad(image, ((0, self.height % 2), (0, self.width % 2), (0, 0)), "edge")
        if time is None:
            pts = (
                0 if self._last_pts is None else self._last_pts + round(1 / self.fps / self._clock)
            )
        else:
            pts = round(time / self._clock)
        if self._last_pts is not None and pts <= self._last_pts:
            raise ValueError(
                f"{self.path}: frame times must increase; got {float(pts * self._clock):.6f} s "
                f"after {float(self._last_pts * self._clock):.6f} s"
            )
        frame = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        frame.pts, frame.time_base = pts, self._clock
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self._last_pts = pts
        self.frames_written += 1

    def close(self) -> None:
        """Flush the encoder and finish the file (also done by ``with``, even on errors)."""
        if self._container is None:
            return
        try:
            for packet in self._stream.encode():
                self._container.mux(packet)
        finally:
            self._container.close()
            self._container = None

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"VideoWriter({str(self.path)!r}, {self.width}x{self.height}, fps={self.fps:g}, "
            f"codec={self.codec!r})"
        )
