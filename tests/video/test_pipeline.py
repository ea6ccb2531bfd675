"""predict_video: frames through the Predictor, tracker and smoother into a JSON and a video."""

from __future__ import annotations

import json

import pytest
import torch

from cgalib import create_model
from cgalib.inference import Predictor
from cgalib.video import (
    PoseTracker,
    VideoReader,
    load_video_results,
    output_paths,
    predict_video,
    synthetic_clip,
)

from helpers import BODY14, StandInModel

pytest.importorskip("av", reason="reading and writing video needs PyAV: pip install cgalib[video]")
pytest.importorskip("scipy", reason="tracking needs SciPy: pip install cgalib[video]")


class _OnePersonModel(StandInModel):
    """A stand-in pose model: one person per image at a fixed place (input pixels), scored
    0.9, drifting right by a pixel per call so that smoothing has something to do."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def person(self, image):
        x = 10.0 + self.calls
        self.calls += 1
        return [x, 10.0, x + 20, 40.0], 0.9, torch.tensor([[x + 5, 20.0, 0.9]]).repeat(17, 1)


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    path = tmp_path_factory.mktemp("clip") / "walk.mp4"
    return synthetic_clip(num_frames=7, width=64, height=48, num_people=1).write(path)


def _predictor(batch_size=3):
    return Predictor(_OnePersonModel(), device="cpu", input_size=64, batch_size=batch_size)


def test_results_json_and_annotated_video(video, tmp_path, capsys):
    path = predict_video(_predictor(), video, tmp_path / "out")
    assert (path, tmp_path / "out" / "walk.mp4.poses.mp4") == output_paths(video, tmp_path / "out")
    assert path.name == "walk.mp4.poses.json"
    data = load_video_results(path)
    with VideoReader(video) as r:
        times = [f.time for f in r.frames()]
    assert data["complete"] and data["error"] is None
    assert [f["index"] for f in data["frames"]] == list(range(7))
    assert [f["time"] for f in data["frames"]] == times  # timestamps survive into the JSON
    people = [p for f in data["frames"] for p in f["people"]]
    assert [p["track_id"] for p in people] == [0] * 7
    assert all(len(p["scores"]) == 17 and len(p["keypoints_raw"]) == 51 for p in people)
    assert people[-1]["keypoints"][0] < people[-1]["keypoints_raw"][0]  # smoothed: lags
    assert data["annotated_codec"] == "libx264" and data["video"]["fps"] == pytest.approx(25)
    with VideoReader(tmp_path / "out" / data["annotated_video"]) as r:
        assert (r.info.width, r.info.height, r.info.num_frames) == (64, 48, 7)
    assert "frame/s" in capsys.readouterr().err


def test_every_and_max_frames(video, tmp_path):
    path = predict_video(_predictor(), video, tmp_path, every=2, max_frames=3, render=True)
    data = json.loads(path.read_text())
    assert [(f["index"], f["time"]) for f in data["frames"]] == [(0, 0.0), (2, 0.08), (4, 0.16)]
    with VideoReader(tmp_path / "walk.mp4.poses.mp4") as r:
        assert [round(f.time, 3) for f in r.frames()] == [0.0, 0.08, 0.16]


def test_smoothing_off_and_a_tracker_of_ones_own(video, tmp_path):
    tracker = PoseTracker(patience=2, min_score=0.95)  # drops the 0.9 person
    path = predict_video(_predictor(), video, tmp_path, smooth=False, tracker=tracker,
                         render=False, progress=False)  # fmt: skip
    data = load_video_results(path)
    assert data["settings"]["smoother"] is None and "patience=2" in data["settings"]["tracker"]
    assert all(f["people"] == [] for f in data["frames"]) and len(data["frames"]) == 7
    assert data["annotated_video"] is None and not (tmp_path / "walk.mp4.poses.mp4").exists()


def test_a_model_is_wrapped_in_a_predictor(video, tmp_path):
    path = predict_video(_OnePersonModel(), video, tmp_path, render=False, progress=False)
    data = load_video_results(path)
    assert data["settings"]["input_size"] == [512, 512] and len(data["frames"]) == 7


def test_a_14_joint_top_down_predictor_tracks_and_draws_a_video(tmp_path):
    """predict_video with a Predictor of a 14-joint top-down model: the tracker scores with the
    set's 14 sigmas (COCO's 17 would be refused) and the drawings use its skeleton."""
    pytest.importorskip("av")
    from cgalib.video import load_video_results, predict_video, synthetic_clip

    video = synthetic_clip(num_frames=3, width=64, height=48, num_people=1).write(
        tmp_path / "clip.mp4"
    )
    detector = create_model("cganet_tnet_d1w16", input_size=64, max_detections=2)
    net = create_model("topdown_tnet_d1w16", input_size=(64, 32), keypoint_set=BODY14)
    with torch.no_grad():  # confident untrained models, so the tracker keeps their people
        detector.dense_heads.center.heatmap[-1].bias.fill_(5.0)
        net.head.convs[0].bias.fill_(5.0)
    predictor = Predictor(net, detector=detector, device="cpu", score_threshold=0)
    path = predict_video(predictor, video, tmp_path / "out", render=True, progress=False)
    results = load_video_results(path)
    assert results["settings"]["input_size"] == [64, 32] and results["complete"]
    people = [p for f in results["frames"] for p in f["people"]]
    assert people and all(len(p["keypoints"]) == 3 * 14 for p in people)
    assert results["annotated_video"] is not None
