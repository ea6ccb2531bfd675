"""The video results file: frame records with PoseTrack's scores, written atomically, read
back checked."""

from __future__ import annotations

import json

import pytest

from cgalib.video.results import (
    RESULTS_FORMAT,
    frame_record,
    load_video_results,
    save_video_results,
)


def test_a_frame_record_adds_the_keypoint_scores_and_leaves_the_person_alone():
    person = {"track_id": 3, "keypoints": [1.0, 2.0, 0.5, 3.0, 4.0, 0.25], "bbox": [0, 0, 1, 1]}
    record = frame_record(12, 0.48, [person])
    assert record == {"index": 12, "time": 0.48, "people": [{**person, "scores": [0.5, 0.25]}]}
    assert "scores" not in person
    assert frame_record(0, 0, []) == {"index": 0, "time": 0.0, "people": []}
    assert isinstance(frame_record(1.0, 2, [])["index"], int)


def test_save_then_load_round_trips_into_a_new_folder(tmp_path):
    results = {"format": RESULTS_FORMAT, "complete": True, "frames": [frame_record(0, 0.0, [])]}
    path = save_video_results(tmp_path / "sub" / "clip.poses.json", results)
    assert path == tmp_path / "sub" / "clip.poses.json"
    assert load_video_results(path) == results
    assert [p.name for p in path.parent.iterdir()] == ["clip.poses.json"]  # no temporary left
    assert json.loads(path.read_text())["format"] == "cgalib-video-v1"


def test_files_that_are_not_video_results_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="video results not found: .*missing.json"):
        load_video_results(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ValueError, match=r"broken.json is not JSON .*; is it a video results file"):
        load_video_results(broken)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ValueError, match=r"other.json is not a video results file \(format "
                                         r"'something-else', expected 'cgalib-video-v1'\)"):  # fmt: skip
        load_video_results(other)
    coco = tmp_path / "coco.json"
    coco.write_text(json.dumps([{"image_id": 1}]))
    with pytest.raises(ValueError, match=r"\(format 'list', expected"):
        load_video_results(coco)
