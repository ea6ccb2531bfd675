"""PoseTracker: identities through crossings, gaps within and beyond the patience."""

from __future__ import annotations

import numpy as np
import pytest

from cgalib.video import PoseTracker, synthetic_clip, track_poses, tracking_scores

pytest.importorskip("scipy", reason="tracking needs SciPy: pip install cgalib[video]")


def _noisy(frames, seed, sigma=1.5):
    """Ground truth as predictions: jittered keypoints and boxes, scores instead of flags,
    the identity removed."""
    rng = np.random.default_rng(seed)
    out = []
    for people in frames:
        predicted = []
        for p in people:
            k = np.asarray(p["keypoints"], float).reshape(-1, 3)
            k[:, :2] += rng.normal(0, sigma, k[:, :2].shape)
            k[:, 2] = np.select([k[:, 2] == 2, k[:, 2] == 1], [0.9, 0.4], 0.05)
            box = np.asarray(p["bbox"]) + rng.normal(0, sigma, 4)
            predicted.append({"bbox": box.tolist(), "keypoints": k.ravel().tolist(), "score": 0.8})
        out.append(predicted[::-1] if len(out) % 2 else predicted)  # order carries no identity
    return out


@pytest.fixture(scope="module")
def crossing_clip():
    return synthetic_clip(seed=1, num_frames=40, width=160, height=120, num_people=2)


def test_people_who_cross_keep_their_identities(crossing_clip):
    gt = crossing_clip.people
    boxes = [{p["track_id"]: p["bbox"] for p in f} for f in gt]
    overlapping = [b[0][0] < b[1][0] + b[1][2] and b[1][0] < b[0][0] + b[0][2] for b in boxes]
    swapped = boxes[0][0][0] < boxes[0][1][0], boxes[-1][0][0] < boxes[-1][1][0]
    assert sum(overlapping) >= 5 and swapped == (True, False)  # they do cross
    for seed in range(3):
        tracked = track_poses(_noisy(gt, seed), crossing_clip.times)
        scores = tracking_scores(tracked, gt)
        assert scores.id_switches == 0, seed
        assert scores.idf1 > 0.9
        assert {p["track_id"] for f in tracked for p in f} == {0, 1}


def _walker(x, y=50.0, k=17):
    kps = np.stack([x + np.linspace(-5, 5, k), y + np.linspace(-30, 30, k), np.full(k, 0.9)], 1)
    return {"bbox": [x - 8, y - 35, 16, 70], "keypoints": kps.ravel().tolist(), "score": 0.9}


@pytest.mark.parametrize(("gap", "same_id"), [(3, True), (5, True), (6, False), (9, False)])
def test_a_gap_within_the_patience_keeps_the_id_a_longer_one_does_not(gap, same_id):
    tracker = PoseTracker(patience=5)
    ids, x = [], 20.0
    for f in range(8 + gap + 4):
        x += 3.0  # walks right at 3 px per frame, also while unseen
        hidden = 8 <= f < 8 + gap
        ids += [p["track_id"] for p in tracker.update([] if hidden else [_walker(x)], f / 25)]
    assert ids[:8] == [0] * 8
    assert ids[8:] == ([0] if same_id else [1]) * 4


def test_a_person_coming_back_where_it_left_keeps_its_id():
    tracker = PoseTracker(patience=5)
    path = [100 + 4 * f for f in range(6)] + [None] * 4 + [120 - 4 * f for f in range(5)]
    ids = [p["track_id"] for f, x in enumerate(path)
           for p in tracker.update([] if x is None else [_walker(x)], f / 25)]  # fmt: skip
    assert ids == [0] * 11


def test_people_below_min_score_are_dropped_and_never_start_a_track():
    tracker = PoseTracker(min_score=0.5)
    low = {**_walker(80), "score": 0.2}
    out = tracker.update([_walker(20), low])
    assert [p["track_id"] for p in out] == [0] and tracker.active_ids == [0]


def test_custom_keypoint_sets_track_with_their_own_sigmas():
    tracker = PoseTracker(sigmas=[0.05] * 5)
    a, b = _walker(20, k=5), _walker(60, k=5)
    assert [p["track_id"] for p in tracker.update([a, b], 0.0)] == [0, 1]
    assert [p["track_id"] for p in tracker.update([b, a], 0.04)] == [1, 0]


def test_outputs_are_copies_with_the_input_fields():
    person = {**_walker(20), "box_score": 0.7}
    out = PoseTracker().update([person])
    assert "track_id" not in person and out[0]["box_score"] == 0.7
