"""VideoReader: every-N and max frames with the original indices and times, damaged files
that never read short silently, frames read once."""

from __future__ import annotations

import pytest

from cgalib.video import VideoReader, VideoReadError

from helpers import video_frames, write_video

pytest.importorskip("av", reason="reading and writing video needs PyAV: pip install cgalib[video]")


def test_every_and_max_frames_keep_the_original_index_and_time(tmp_path):
    path = write_video(tmp_path / "clip.mp4", video_frames(10), fps=25.0)
    with VideoReader(path) as video:
        assert video.expected_frames(every=3) == 4
        got = [(f.index, round(f.time, 3)) for f in video.frames(every=3, max_frames=3)]
    assert got == [(0, 0.0), (3, 0.12), (6, 0.24)]


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".webm"])
@pytest.mark.parametrize("keep", [0.5, 0.97])
def test_a_truncated_file_never_reads_short_silently(tmp_path, suffix, keep):
    codec = "libvpx-vp9" if suffix == ".webm" else None
    path = write_video(tmp_path / f"clip{suffix}", video_frames(30), codec=codec)
    data = path.read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(data[: int(len(data) * keep)])
    try:
        with VideoReader(cut) as video:
            n = sum(1 for _ in video.frames())
    except VideoReadError as err:
        assert str(cut) in str(err) and err.frames_read < 30
    else:  # only the container's trailing index was cut: every frame is there
        assert n == 30


def test_frames_can_be_read_once_per_reader(tmp_path):
    path = write_video(tmp_path / "clip.mp4", video_frames(3))
    with VideoReader(path) as video:
        list(video.frames())
        with pytest.raises(RuntimeError, match="once"):
            list(video.frames())
