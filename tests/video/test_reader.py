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


def _oriented_clip(path, degrees, hflip, vflip):
    """A 4-frame clip stored 48 x 32 (W x H) with a distinct block in three corners, its
    display matrix set by PyAV (``degrees`` counter-clockwise, then the flips)."""
    import numpy as np

    av = pytest.importorskip("av")
    stored = np.zeros((32, 48, 3), np.uint8)
    stored[:8, :8] = (255, 0, 0)
    stored[:8, -8:] = (0, 255, 0)
    stored[-8:, :8] = (0, 0, 255)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 48, 32, "yuv420p"
        stream.set_display_rotation(degrees, hflip=hflip, vflip=vflip)
        frame = av.VideoFrame.from_ndarray(stored, format="rgb24")
        for packet in [*stream.encode(frame), *stream.encode()]:
            out.mux(packet)
    return stored


def _displayed_by_the_matrix(stored, degrees, hflip, vflip):
    """The displayed picture by FFmpeg's definition, point by point: the display matrix
    maps a stored pixel centre (x, y) to (a x + c y, b x + d y), then the picture is moved
    to positive coordinates."""
    import math

    import numpy as np

    r = math.radians(degrees)  # av_display_rotation_set(matrix, -degrees): [c, -s; s, c]
    a, b, c, d = round(math.cos(r)), round(-math.sin(r)), round(math.sin(r)), round(math.cos(r))
    if hflip:  # av_display_matrix_flip: hflip negates the first column, vflip the second
        a, c = -a, -c
    if vflip:
        b, d = -b, -d
    h, w = stored.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w]
    u, v = a * xs + c * ys, b * xs + d * ys
    u, v = u - u.min(), v - v.min()
    out = np.zeros((v.max() + 1, u.max() + 1, 3), np.uint8)
    out[v, u] = stored[ys, xs]
    return out


@pytest.mark.parametrize("degrees", [0, 90, 180, 270])
@pytest.mark.parametrize(("hflip", "vflip"), [(False, False), (True, False), (False, True)])
def test_every_display_orientation_reads_as_ffmpeg_displays_it(tmp_path, degrees, hflip, vflip):
    import numpy as np

    stored = _oriented_clip(tmp_path / "clip.mp4", degrees, hflip, vflip)
    expected = _displayed_by_the_matrix(stored, degrees, hflip, vflip)
    with VideoReader(tmp_path / "clip.mp4") as video:
        assert (video.info.height, video.info.width) == expected.shape[:2]
        image = next(iter(video)).image.permute(1, 2, 0).numpy()
    corners = [(slice(None, 8), slice(None, 8)), (slice(None, 8), slice(-8, None)),
               (slice(-8, None), slice(None, 8)), (slice(-8, None), slice(-8, None))]  # fmt: skip
    for rows, cols in corners:  # each corner block in its colour (lossy codec: roughly)
        got = image[rows, cols][2:-2, 2:-2].astype(int).mean((0, 1))
        assert np.abs(got - expected[rows, cols][2:-2, 2:-2].mean((0, 1))).max() < 40


def test_a_turn_that_is_not_a_quarter_is_warned_and_frames_read_as_stored(tmp_path):
    _oriented_clip(tmp_path / "clip.mp4", 30, False, False)
    with pytest.warns(UserWarning, match=r"clip\.mp4: its display turns the picture by 330\.0"):
        video = VideoReader(tmp_path / "clip.mp4")
    with video:
        assert (video.info.width, video.info.height, video.info.rotation) == (48, 32, 0)
