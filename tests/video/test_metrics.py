"""Jitter, identity switches and smoothing lag, on sequences with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from cgalib.video import keypoint_jitter, smoothing_lag, tracking_scores

pytest.importorskip("scipy", reason="tracking needs SciPy: pip install cgalib[video]")


def _p(track, x, y=0.0, h=10.0, k=17, score=1.0):
    kps = np.stack([x + np.arange(k), np.full(k, y), np.full(k, score)], 1)
    return {"track_id": track, "bbox": [x, y, 5.0, h], "keypoints": kps.ravel().tolist(),
            "area": 50.0}  # fmt: skip


def test_jitter_is_the_mean_acceleration_over_height():
    xs = [0.0, 1.0, 3.0, 6.0, 6.0]  # accelerations 1, 1, -3 px/frame^2
    frames = [[_p(0, x)] for x in xs]
    assert keypoint_jitter(frames) == pytest.approx((1 + 1 + 3) / 3 / 10)


def test_jitter_skips_gaps_low_scores_and_unlabelled_keypoints():
    frames = [[_p(0, 0.0)], [_p(0, 1.0)], [], [_p(0, 50.0)], [_p(0, 51.0)], [_p(0, 52.0)]]
    frames[1][0]["keypoints"][2] = 0.0  # keypoint 0 unlabelled in frame 1
    assert keypoint_jitter(frames) == 0.0  # only frames 3-5 count: constant speed
    with pytest.raises(ValueError, match="three consecutive frames"):
        keypoint_jitter(frames[:3])


def test_a_swap_of_two_tracks_counts_two_switches():
    gt = [[_p(0, 0.0), _p(1, 100.0)] for _ in range(6)]
    pred = [[_p(7, 0.0), _p(8, 100.0)] for _ in range(3)] + [
        [_p(8, 0.0), _p(7, 100.0)] for _ in range(3)
    ]
    s = tracking_scores(pred, gt)
    assert (s.id_switches, s.matches, s.misses, s.false_positives) == (2, 12, 0, 0)
    assert s.mota == pytest.approx(1 - 2 / 12)
    assert s.idp == pytest.approx(0.5) and s.idf1 == pytest.approx(0.5)


def test_misses_false_positives_and_a_new_id_after_a_gap():
    gt = [[_p(0, 0.0)] for _ in range(4)]
    pred = [[_p(5, 0.0), _p(6, 300.0)], [], [_p(9, 0.0)], [_p(9, 0.0)]]
    s = tracking_scores(pred, gt)
    assert (s.num_gt, s.num_predictions, s.matches) == (4, 4, 3)
    assert (s.misses, s.false_positives, s.id_switches) == (1, 1, 1)
    assert s.idr == pytest.approx(2 / 4) and s.idp == pytest.approx(2 / 4)  # track 9 wins
    assert s.mota == pytest.approx(1 - 3 / 4)


@pytest.mark.parametrize("delay", [0.0, 2.0, 3.5])
def test_smoothing_lag_recovers_a_known_delay(delay):
    t = np.arange(40.0)
    x = 30 * np.sin(t / 6)
    late = np.interp(t - delay, t, x)
    ref = [[_p(0, float(v))] for v in x]
    sm = [[_p(0, float(v))] for v in late]
    assert smoothing_lag(sm, ref, max_lag=6) == pytest.approx(delay, abs=0.11)
