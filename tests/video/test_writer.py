"""VideoWriter with PyAV: write -> read round trips (frames, size, fps, timestamps), the
default codec, odd sizes, times that must increase (VideoReader's own tests are in
test_reader.py)."""

from __future__ import annotations

import pytest

from cgalib.video import VideoReader, VideoWriter, best_video_codec

from helpers import video_frames, write_video

pytest.importorskip("av", reason="reading and writing video needs PyAV: pip install cgalib[video]")


@pytest.mark.parametrize(("suffix", "codec"), [(".mp4", None), (".mkv", None), (".mp4", "mpeg4")])
def test_round_trip_keeps_frame_count_size_fps_and_content(tmp_path, suffix, codec):
    frames = video_frames(12)
    path = write_video(tmp_path / f"clip{suffix}", frames, fps=30.0, codec=codec)
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


def test_variable_frame_rate_timestamps_survive_a_round_trip(tmp_path):
    times = [0.0, 0.03, 0.09, 0.1, 0.2, 0.21]
    path = write_video(tmp_path / "vfr.mp4", video_frames(6), times=times)
    with VideoReader(path) as video:
        assert [f.time for f in video] == pytest.approx(times, abs=1e-4)


def test_odd_sizes_are_padded_by_one_pixel(tmp_path):
    path = write_video(tmp_path / "odd.mp4", video_frames(3, h=21, w=33))
    with VideoReader(path) as video:
        assert (video.info.width, video.info.height) == (34, 22)


def test_writer_refuses_times_that_do_not_increase(tmp_path):
    with VideoWriter(tmp_path / "x.mp4", 25, 64, 48) as out:
        out.write(video_frames(1)[0], 0.1)
        with pytest.raises(ValueError, match="must increase"):
            out.write(video_frames(1)[0], 0.1)
