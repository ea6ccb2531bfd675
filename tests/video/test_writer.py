"""Reading and writing video with PyAV: round trips, timestamps, every-N, damaged files."""

from __future__ import annotations

import numpy as np
import pytest

from cgalib.video import VideoReader, VideoReadError, VideoWriter, best_video_codec

pytest.importorskip("av", reason="reading and writing video needs PyAV: pip install cgalib[video]")


def _frames(n, h=48, w=64):
    """Frames that differ (a bright column moving right), so decoding order is checkable."""
    out = []
    for i in range(n):
        a = np.full((h, w, 3), 40, np.uint8)
        a[:, 4 * i % w : 4 * i % w + 4] = 230
        out.append(a)
    return out


def _write(path, frames, fps=25.0, times=None, codec=None):
    with VideoWriter(path, fps, frames[0].shape[1], frames[0].shape[0], codec=codec) as out:
        for i, f in enumerate(frames):
            out.write(f, None if times is None else times[i])
    return path


@pytest.mark.parametrize(("suffix", "codec"), [(".mp4", None), (".mkv", None), (".mp4", "mpeg4")])
def test_round_trip_keeps_frame_count_size_fps_and_content(tmp_path, suffix, codec):
    frames = _frames(12)
    path = _write(tmp_path / f"clip{suffix}", frames, fps=30.0, codec=codec)
    with VideoReader(path) as video:
        info = video.info
        read = list(video.frames())
    assert (info.width, info.height) == (64, 48)
    assert info.fps == pytest.approx(30.0, rel=1e-3)
    assert len(read) == 12 and [f.index for f in read] == list(range(12))
    assert [f.time for f in read] == pytest.approx([i / 30 for i in range(12)], abs=1e-3)
    for f, original in zip(read, frames):  # lossy, but the moving column stays in place
        assert f.image.shape == (3, 48, 64)
        column = f.image.float().mean((0, 1)).argmax().item()
        assert original[0, column, 0] == 230


def test_h264_is_the_default_codec():
    assert best_video_codec() == "libx264"


def test_every_and_max_frames_keep_the_original_index_and_time(tmp_path):
    path = _write(tmp_path / "clip.mp4", _frames(10), fps=25.0)
    with VideoReader(path) as video:
        assert video.expected_frames(every=3) == 4
        got = [(f.index, round(f.time, 3)) for f in video.frames(every=3, max_frames=3)]
    assert got == [(0, 0.0), (3, 0.12), (6, 0.24)]


def test_variable_frame_rate_timestamps_survive_a_round_trip(tmp_path):
    times = [0.0, 0.03, 0.09, 0.1, 0.2, 0.21]
    path = _write(tmp_path / "vfr.mp4", _frames(6), times=times)
    with VideoReader(path) as video:
        assert [f.time for f in video] == pytest.approx(times, abs=1e-4)


def test_odd_sizes_are_padded_by_one_pixel(tmp_path):
    path = _write(tmp_path / "odd.mp4", _frames(3, h=21, w=33))
    with VideoReader(path) as video:
        assert (video.info.width, video.info.height) == (34, 22)


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".webm"])
@pytest.mark.parametrize("keep", [0.5, 0.97])
def test_a_truncated_file_never_reads_short_silently(tmp_path, suffix, keep):
    codec = "libvpx-vp9" if suffix == ".webm" else None
    path = _write(tmp_path / f"clip{suffix}", _frames(30), codec=codec)
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
    path = _write(tmp_path / "clip.mp4", _frames(3))
    with VideoReader(path) as video:
        list(video.frames())
        with pytest.raises(RuntimeError, match="once"):
            list(video.frames())


def test_writer_refuses_times_that_do_not_increase(tmp_path):
    with VideoWriter(tmp_path / "x.mp4", 25, 64, 48) as out:
        out.write(_frames(1)[0], 0.1)
        with pytest.raises(ValueError, match="must increase"):
            out.write(_frames(1)[0], 0.1)
