"""Bad video input: files that are not videos or end early, missing extras, malformed per-frame
results, runs that stop midway (cgalib.video: VideoReader, predict_video, PoseTracker,
PoseSmoother, VideoWriter, load_video_results)."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import torch

from cgalib.inference import Predictor
from cgalib.video import (
    PoseSmoother,
    PoseTracker,
    VideoReader,
    VideoReadError,
    VideoWriter,
    load_video_results,
    predict_video,
    track_poses,
)

from helpers import StandInModel

av = pytest.importorskip("av", reason="video tests need PyAV: pip install cgalib[video]")
pytest.importorskip("scipy", reason="video tests need SciPy: pip install cgalib[video]")


class _Model(StandInModel):
    """A stand-in pose model: one person per image; raises on call ``fail_on`` (1-based)."""

    def __init__(self, fail_on: int | None = None):
        super().__init__()
        self.calls, self.fail_on = 0, fail_on

    def predict_batch(self, images):
        self.calls += 1
        if self.calls == self.fail_on:
            raise RuntimeError("CUDA out of memory (simulated)")
        return super().predict_batch(images)

    def person(self, image):
        return [10.0, 10.0, 30.0, 40.0], 0.9, torch.tensor([[15.0, 20.0, 0.9]]).repeat(17, 1)


def _predictor(fail_on=None):
    return Predictor(_Model(fail_on), device="cpu", input_size=64, batch_size=2)


def _video(path, n=12, size=(64, 48), codec=None):
    w, h = size
    with VideoWriter(path, 25, w, h, codec=codec) as out:
        for i in range(n):
            frame = np.full((h, w, 3), 30, np.uint8)
            frame[:, 4 * i % w :][:, :4] = 220
            out.write(frame)
    return path


def _person(k=17, x=10.0):
    return {"bbox": [x, 0.0, 10.0, 20.0], "keypoints": [x, 5.0, 0.9] * k, "score": 0.9}


def _one_line(err) -> str:
    message = str(err.value)
    assert "\n" not in message
    return message


def test_text_file_named_like_a_video(tmp_path):
    """A text file renamed clip.mp4.

    Opening fails with one line naming the file and saying it is not a video FFmpeg can read,
    or damaged."""
    path = tmp_path / "clip.mp4"
    path.write_text("not a video\n" * 20)
    with pytest.raises(VideoReadError) as err:
        VideoReader(path)
    message = _one_line(err)
    assert str(path) in message and "not a video file FFmpeg can read" in message


def test_empty_video_file(tmp_path):
    """An empty (0-byte) clip.mp4.

    Opening fails with one line naming the file (not a video FFmpeg can read, or damaged)."""
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"")
    with pytest.raises(VideoReadError) as err:
        VideoReader(path)
    assert str(path) in _one_line(err)


def test_missing_video_file(tmp_path):
    """A video path that does not exist.

    FileNotFoundError "video not found: <path>"; nothing is written to the output folder."""
    with pytest.raises(FileNotFoundError, match="video not found: .*nope.mp4"):
        predict_video(_predictor(), tmp_path / "nope.mp4", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_folder_given_as_video(tmp_path):
    """A folder passed where a video file is expected.

    VideoReadError "<folder> is a folder, not a video file"."""
    with pytest.raises(VideoReadError, match="is a folder, not a video file"):
        VideoReader(tmp_path)


def test_mp4_cut_before_its_index(tmp_path):
    """An MP4 download cut short, so the index at the end of the file is missing.

    Opening or decoding fails with one line naming the file (no video stream, or no frame
    could be decoded); no frame is returned silently."""
    data = _video(tmp_path / "full.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(VideoReadError) as err:
        with VideoReader(cut) as video:
            list(video.frames())
    assert str(cut) in _one_line(err)


def test_mkv_cut_midway(tmp_path):
    """A Matroska clip cut midway: the frames before the cut still decode.

    Reading fails at the end with one line naming the file, how many frames decoded and
    the duration the file declares; err.frames_read holds the count."""
    data = _video(tmp_path / "full.mkv", n=20).read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: int(len(data) * 0.8)])
    with pytest.raises(VideoReadError) as err:
        with VideoReader(cut) as video:
            list(video.frames())
    message = _one_line(err)
    assert str(cut) in message and "truncated or damaged" in message and "declares" in message
    assert 0 < err.value.frames_read < 20 and f"{err.value.frames_read} decoded" in message


def test_prediction_on_a_video_cut_midway(tmp_path):
    """predict_video on a Matroska clip cut midway.

    The frames decoded before the cut are predicted and saved (clip.mkv.poses.json with
    "complete": false and the error, clip.mkv.poses.mp4 with those frames), then VideoReadError
    names the file, the frames processed and where they are saved."""
    data = _video(tmp_path / "full.mkv", n=20).read_bytes()
    cut = tmp_path / "clip.mkv"
    cut.write_bytes(data[: int(len(data) * 0.8)])
    with pytest.raises(VideoReadError) as err:
        predict_video(_predictor(), cut, tmp_path / "out", progress=False)
    message = _one_line(err)
    saved = load_video_results(tmp_path / "out" / "clip.mkv.poses.json")
    n = len(saved["frames"])
    assert 0 < n < 20 and not saved["complete"] and "truncated" in saved["error"]
    assert f"the {n} frames processed before it are saved in" in message
    with VideoReader(tmp_path / "out" / "clip.mkv.poses.mp4") as video:
        assert video.info.num_frames == n


def test_model_fails_midway_through_a_video(tmp_path):
    """The model raises (e.g. out of GPU memory) on the second batch of a video.

    The error propagates unchanged; the frames of the first batch are saved first
    (clip.mp4.poses.json with "complete": false and the error text, and clip.mp4.poses.mp4)."""
    video = _video(tmp_path / "clip.mp4", n=6)
    with pytest.raises(RuntimeError, match="out of memory"):
        predict_video(_predictor(fail_on=2), video, tmp_path / "out", progress=False)
    saved = json.loads((tmp_path / "out" / "clip.mp4.poses.json").read_text())
    assert [f["index"] for f in saved["frames"]] == [0, 1] and not saved["complete"]
    assert saved["error"] == "RuntimeError: CUDA out of memory (simulated)"
    with VideoReader(tmp_path / "out" / "clip.mp4.poses.mp4") as out:
        assert out.info.num_frames == 2


def test_two_videos_with_the_same_name_and_another_suffix(tmp_path):
    """clip.mp4 and clip.mkv predicted into the same output folder.

    Each keeps its own outputs (clip.mp4.poses.json/.mp4 and clip.mkv.poses.json/.mp4): the
    suffix stays in the names, so neither overwrites the other or an input."""
    for suffix in (".mp4", ".mkv"):
        video = _video(tmp_path / f"clip{suffix}", n=2 if suffix == ".mp4" else 3)
        predict_video(_predictor(), video, tmp_path, progress=False)
    frames = {s: len(load_video_results(tmp_path / f"clip{s}.poses.json")["frames"])
              for s in (".mp4", ".mkv")}  # fmt: skip
    assert frames == {".mp4": 2, ".mkv": 3}
    assert (tmp_path / "clip.mp4.poses.mp4").is_file() and (
        tmp_path / "clip.mkv.poses.mp4"
    ).is_file()


@pytest.mark.parametrize(("kwargs", "name"), [({"every": 0}, "every"),
                                              ({"max_frames": 0}, "max_frames")])  # fmt: skip
def test_every_or_max_frames_not_positive(tmp_path, kwargs, name):
    """--every 0 or --max-frames 0.

    ValueError naming the argument ("every must be a positive integer ...") before anything
    is written."""
    video = _video(tmp_path / "clip.mp4", n=2)
    with pytest.raises(ValueError, match=f"{name} must be a positive integer"):
        predict_video(_predictor(), video, tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


def test_pyav_not_installed(tmp_path, monkeypatch):
    """cgalib installed without the video extra, so PyAV is missing.

    Reading or writing video raises ImportError in one line: "reading video needs PyAV (av),
    which is not installed: pip install cgalib[video]"."""
    monkeypatch.setitem(sys.modules, "av", None)
    with pytest.raises(ImportError) as err:
        VideoReader(tmp_path / "clip.mp4")
    assert _one_line(err) == (
        "reading video needs PyAV (av), which is not installed: pip install cgalib[video]"
    )
    with pytest.raises(ImportError, match=r"writing video needs PyAV .*cgalib\[video\]"):
        VideoWriter(tmp_path / "out.mp4", 25, 8, 8)


def test_scipy_not_installed(monkeypatch):
    """cgalib installed without the video extra, so SciPy is missing.

    Tracking raises ImportError in one line: "tracking needs scipy, which is not installed:
    pip install cgalib[video]"."""
    monkeypatch.setitem(sys.modules, "scipy.optimize", None)
    tracker = PoseTracker()
    tracker.update([_person()])  # the first frame needs no assignment
    with pytest.raises(ImportError, match=r"^tracking needs scipy, .*pip install cgalib\[video\]$"):
        tracker.update([_person()])


def test_keypoint_list_of_the_wrong_length(tmp_path):
    """A person in frame 2 whose keypoint list has 50 numbers for the 17 COCO keypoints.

    Tracking fails with one line naming the frame, the person and the expected 51 numbers."""
    bad = {**_person(), "keypoints": [1.0] * 50}
    with pytest.raises(ValueError) as err:
        track_poses([[_person()], [_person()], [_person(), bad]])
    assert _one_line(err).startswith("frame 2, person 1: 'keypoints' has 50 numbers, expected")
    assert "3 * 17 = 51" in str(err.value)


def test_custom_keypoint_set_with_the_coco_sigmas():
    """Per-frame results of a 5-keypoint set tracked with the default (COCO) sigmas.

    ValueError naming frame 0, person 0, the 15 numbers found and 51 expected, and saying
    to pass sigmas of the keypoint set's length."""
    with pytest.raises(ValueError, match="pass sigmas of the keypoint set's length"):
        PoseTracker().update([_person(k=5)])
    assert PoseTracker(sigmas=[0.05] * 5).update([_person(k=5)])[0]["track_id"] == 0


def test_person_without_a_box():
    """A per-frame person dict without a "bbox".

    ValueError "frame 0, person 0: no 'bbox' (have [...])", listing the keys it has."""
    with pytest.raises(ValueError, match=r"frame 0, person 0: no 'bbox' \(have \['keypoints'"):
        PoseTracker().update([{"keypoints": [0.0] * 51}])


def test_frame_times_that_go_backwards():
    """Frame times given to the tracker or the smoother that do not increase.

    ValueError naming the frame and both times (tracker), or the frame, the track and
    both times (smoother)."""
    tracker = PoseTracker()
    tracker.update([_person()], 0.5)
    with pytest.raises(ValueError, match="frame 1: time 0.4 is not after the previous frame's 0.5"):
        tracker.update([_person()], 0.4)
    smoother = PoseSmoother()
    smoother.update([{**_person(), "track_id": 3}], 0.5)
    with pytest.raises(ValueError, match="frame 1, track 3: times must increase: 0.5 after 0.5"):
        smoother.update([{**_person(), "track_id": 3}], 0.5)


def test_smoothing_people_that_were_never_tracked():
    """People without a track_id given to the smoother.

    ValueError "frame 0, person 0: no 'track_id'; track the people first
    (cgalib.video.PoseTracker)"."""
    with pytest.raises(ValueError, match="no 'track_id'; track the people first"):
        PoseSmoother().update([_person()], 0.0)


def test_tracker_reused_for_a_second_video(tmp_path):
    """One PoseTracker passed to predict_video for two videos in turn.

    The second call raises ValueError "tracker has already seen 3 frames; pass a new one"
    before reading the video, so tracks never leak from one video into the next."""
    video = _video(tmp_path / "clip.mp4", n=3)
    tracker = PoseTracker()
    predict_video(_predictor(), video, tmp_path / "a", tracker=tracker, progress=False)
    with pytest.raises(ValueError, match="tracker has already seen 3 frames; pass a new one"):
        predict_video(_predictor(), video, tmp_path / "b", tracker=tracker, progress=False)
    assert not (tmp_path / "b").exists()


def test_frame_of_another_size_written_to_a_video(tmp_path):
    """A frame of another size (or a float image) written to a VideoWriter.

    ValueError naming the output file, the expected uint8 (H, W, 3) shape and what was given;
    the frames written before stay in the file."""
    with VideoWriter(tmp_path / "out.mp4", 25, 64, 48) as out:
        out.write(np.zeros((48, 64, 3), np.uint8))
        with pytest.raises(ValueError, match=r"out.mp4: frames must be uint8 \(48, 64, 3\) RGB"):
            out.write(np.zeros((40, 64, 3), np.uint8))
    with VideoReader(tmp_path / "out.mp4") as video:
        assert video.info.num_frames == 1


def test_odd_frame_size(tmp_path):
    """Frames of an odd size (33 x 21), which H.264's 4:2:0 colour cannot hold.

    The annotated video is padded by one pixel (34 x 22), repeating the last column and row."""
    video = _video(tmp_path / "clip.mp4", n=2, size=(33, 21), codec="mpeg4")
    with VideoReader(video) as v:
        assert (v.info.width, v.info.height) == (34, 22)


def test_loading_a_file_that_is_not_video_results(tmp_path):
    """load_video_results given a COCO results list instead of a video results file.

    ValueError naming the file and the format found and expected ("cgalib-video-v1")."""
    path = tmp_path / "results.json"
    path.write_text("[]")
    with pytest.raises(ValueError, match=r"results.json is not a video results file \(format "
                                         r"'list', expected 'cgalib-video-v1'\)"):  # fmt: skip
        load_video_results(path)


def _phone_clip(path, rotate: int, n=4, mirrored=False, tag=False):
    """A clip stored 64 x 32 (W x H) with a white 8 x 8 block at its stored top left, whose
    display turns it ``rotate`` degrees clockwise: by the display matrix phones write, or
    (``tag``) by the older ``rotate`` metadata tag (Matroska keeps it)."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 32, "yuv420p"
        if tag:
            stream.metadata["rotate"] = str(rotate)
        else:
            stream.set_display_rotation(-rotate, hflip=mirrored)  # PyAV: counter-clockwise
        for i in range(n):
            image = np.zeros((32, 64, 3), np.uint8)
            image[:8, :8] = 255
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


class _Brightest(StandInModel):
    """One person, every keypoint at the brightest pixel of the input."""

    def person(self, image):
        y, x = divmod(int(image.sum(0).flatten().argmax()), image.shape[-1])
        return [x, y, x + 1.0, y + 1.0], 0.9, torch.tensor([[float(x), float(y), 0.9]] * 17)


@pytest.mark.parametrize(("rotate", "corner"), [(90, "top right"), (270, "bottom left"),
                                                (180, "bottom right")])  # fmt: skip
def test_phone_video_with_rotation_metadata(tmp_path, rotate, corner):
    """A phone video recorded upright (portrait) or upside down: its pixels are stored
    sideways (64 x 32) and a display matrix tells players to turn them 90, 270 or 180
    degrees.

    Frames come upright as displayed (32 x 64 for a quarter turn), so results are in the
    displayed pixels (the stored top-left block is found at the displayed top right, bottom
    left or bottom right); the annotated video is written upright with no turn of its own;
    the results JSON records the turn (video.rotation)."""
    clip = _phone_clip(tmp_path / "phone.mp4", rotate)
    with VideoReader(clip) as video:
        size = (video.info.width, video.info.height)
        image = next(iter(video)).image
    quarter = rotate in (90, 270)
    assert size == ((32, 64) if quarter else (64, 32)) and image.shape[1:] == size[::-1]
    predictor = Predictor(_Brightest(), device="cpu", input_size=64)
    results = load_video_results(predict_video(predictor, clip, tmp_path / "out", progress=False))
    assert results["video"]["rotation"] == rotate and results["video"]["width"] == size[0]
    x, y = results["frames"][0]["people"][0]["keypoints"][:2]
    w, h = size
    expected = {"top right": (w - 8, 0), "bottom left": (0, h - 8), "bottom right": (w - 8, h - 8)}
    x0, y0 = expected[corner]
    assert x0 <= x < x0 + 8 and y0 <= y < y0 + 8
    with VideoReader(tmp_path / "out" / "phone.mp4.poses.mp4") as drawn:
        assert (drawn.info.width, drawn.info.height, drawn.info.rotation) == (*size, 0)


def test_video_with_the_older_rotate_tag(tmp_path):
    """A clip whose turn is given by the older `rotate` metadata tag (rotate=90) rather than
    a display matrix, as some converters and Matroska files carry it.

    The tag is obeyed like the matrix: frames upright, 32 x 64, rotation 90 in the info."""
    clip = _phone_clip(tmp_path / "phone.mkv", 90, tag=True)
    with VideoReader(clip) as video:
        assert (video.info.width, video.info.height, video.info.rotation) == (32, 64, 90)
        image = next(iter(video)).image
    assert image.shape == (3, 64, 32) and image[:, :8, -8:].float().mean() > 200


def test_mirrored_selfie_video(tmp_path):
    """A front-camera clip whose display matrix mirrors it left to right (no turn).

    Frames come mirrored as displayed: the stored top-left block is at the displayed top
    right, and the info says mirrored=True."""
    clip = _phone_clip(tmp_path / "selfie.mp4", 0, mirrored=True)
    with VideoReader(clip) as video:
        assert video.info.mirrored and video.info.rotation == 0
        image = next(iter(video)).image
    assert image[:, :8, -8:].float().mean() > 200 and image[:, :8, :8].float().mean() < 50


class _SignalsVideo(_Model):
    def __init__(self, signum):
        super().__init__()
        self.signum = signum

    def predict_batch(self, images):
        out = super().predict_batch(images)
        if self.calls == 2:
            import os

            os.kill(os.getpid(), self.signum)
        return out


@pytest.mark.usefixtures("default_stop_signals")
@pytest.mark.parametrize("name", ["SIGTERM", "SIGINT"])
def test_signal_while_a_video_is_predicted(tmp_path, name):
    """SIGTERM (timeout, kill, Docker, Slurm) or SIGINT (Ctrl-C) while the second batch of
    a 12-frame video is predicted.

    The batch in progress is finished, the annotated video is closed (playable, those 4
    frames) and the results JSON saved ("complete": false, the error naming the signal);
    then cgalib.utils.Interrupted is raised with exit status 128 + the signal."""
    import signal

    from cgalib.utils import Interrupted

    signum = getattr(signal, name)
    clip = _video(tmp_path / "clip.mp4", n=12)
    predictor = Predictor(_SignalsVideo(signum), device="cpu", input_size=64, batch_size=2)
    with pytest.raises(Interrupted, match=rf"stopped by {name}; .*4 frames") as err:
        predict_video(predictor, clip, tmp_path / "out", progress=False)
    assert err.value.exit_status == 128 + signum
    saved = load_video_results(tmp_path / "out" / "clip.mp4.poses.json")
    assert len(saved["frames"]) == 4 and not saved["complete"] and name in saved["error"]
    with VideoReader(tmp_path / "out" / "clip.mp4.poses.mp4") as video:
        assert video.info.num_frames == 4


def _resolution_change(path, first=(64, 48), then=(96, 64), n=(5, 4)):
    """An MPEG-TS clip whose resolution changes after ``n[0]`` frames (two recordings joined
    byte by byte, as `cat a.ts b.ts` or a stream switching quality does)."""
    parts = []
    for k, ((w, h), count, start) in enumerate(zip((first, then), n, (0, n[0]))):
        part = path.with_name(f"part{k}.ts")
        with VideoWriter(part, 25, w, h, codec="mpeg4") as out:
            for i in range(count):
                frame = np.full((h, w, 3), 30, np.uint8)
                frame[h // 2 :, w // 2 :] = 230  # the bright quarter at the bottom right
                out.write(frame, time=(start + i) / 25)
        parts.append(part.read_bytes())
    path.write_bytes(b"".join(parts))
    return path


def test_video_whose_resolution_changes_midway(tmp_path):
    """A video whose frame size changes from 64 x 48 to 96 x 64 after 5 frames (joined
    recordings, a stream that switched quality).

    All 9 frames are predicted, each in its own pixels (a frame of another size carries
    its width and height in the results); the annotated video shows the later frames
    scaled to the first size; one warning counts the frames of another size. The output
    file is not blamed and no frame is lost."""
    clip = _resolution_change(tmp_path / "joined.ts")
    predictor = Predictor(_Brightest(), device="cpu", input_size=64, batch_size=2)
    with pytest.warns(UserWarning, match=r"joined\.ts: 4 of 9 frames are 96x64, not 64x48"):
        path = predict_video(predictor, clip, tmp_path / "out", progress=False)
    frames = load_video_results(path)["frames"]
    assert len(frames) == 9 and "width" not in frames[0] and frames[5]["width"] == 96
    x, y = frames[5]["people"][0]["keypoints"][:2]
    assert x >= 48 and y >= 32  # in the 96 x 64 frame's own pixels
    with VideoReader(tmp_path / "out" / "joined.ts.poses.mp4") as video:
        assert (video.info.width, video.info.height, video.info.num_frames) == (64, 48, 9)
