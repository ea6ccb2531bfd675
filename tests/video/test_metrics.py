"""Jitter, CLEAR-MOT and IDF1, smoothing lag: known answers, and py-motmetrics on the same inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cgalib.video import keypoint_jitter, oks_matrix, smoothing_lag, tracking_scores

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


SIG1 = [0.25]
"""One keypoint with sigma 0.25 and area 100: OKS ``exp(-d^2 / 50)`` for ``d`` px apart, so
the gate OKS >= 0.5 is ``d <= 5.89``: 0 -> 1.0, 1 -> 0.980, 2 -> 0.923, 3 -> 0.835,
4 -> 0.726, 5 -> 0.607, 7.07 -> 0.368."""


def _q(track, x, y=0.0):
    """A one-keypoint person at ``(x, y)`` (use with ``SIG1``)."""
    return {"track_id": track, "bbox": [x - 5.0, y - 5.0, 10.0, 10.0],
            "keypoints": [float(x), float(y), 2.0], "area": 100.0}  # fmt: skip


def _sequence(frames):
    """``[(truth, predictions)]`` of ``{track_id: x or (x, y)}`` as (predictions, truth)."""

    def people(spec):
        return [_q(t, *(at if isinstance(at, tuple) else (at,))) for t, at in spec.items()]

    return [people(p) for _, p in frames], [people(g) for g, _ in frames]


A, B, C = 0, 1, 2  # identities; tracks are 10, 11, 12
CLOSE = {A: 0, B: 3}  # two people 3 px apart: OKS 0.835, within the gate of each other
SEQUENCES = {
    # The best total OKS pairs A-10 and B-11 (OKS 0.37, below the gate); gating first
    # matches A-11 and B-10 (OKS 0.61 each) and misses nobody.
    "gate_before_assignment": [({A: (0, 0), B: (5, 0)}, {10: (0, 0), 11: (0, 5)})],
    # Frame 2 alone would pair A-11 and B-10 (1 px each, against 2 px); the last matches are
    # still within the gate, so they are kept: no switch.
    "close_pair_keeps_its_tracks": [(CLOSE, {10: 0, 11: 3})] * 2
    + [(CLOSE, {10: 2, 11: 1})]
    + [(CLOSE, {10: 0, 11: 3})] * 2,
    # A close pair appears matched across (A-11, B-10) and stays so; every (person, track)
    # pair is within the gate in all three frames, so IDF1 is 1.
    "close_pair_appearing": [(CLOSE, {10: 2, 11: 1})] + [(CLOSE, {10: 0, 11: 3})] * 2,
    "swap_far_apart": [({A: 0, B: 100}, {10: 0, 11: 100})] * 3
    + [({A: 0, B: 100}, {11: 0, 10: 100})] * 3,
    "miss_false_positive_new_track_after_gap": [
        ({A: 0}, {10: 0, 11: 300}),
        ({A: 0}, {}),
        ({A: 0}, {12: 0}),
        ({A: 0}, {12: 0}),
    ],
    "empty_frames": [({}, {}), ({A: 0}, {10: 1}), ({}, {}), ({}, {10: 50}), ({A: 0}, {10: 0})],
    "all_missed": [({A: 0, B: 50}, {})] * 3,
    "only_false_positives": [({}, {10: 0}), ({}, {10: 1, 11: 40})],
    "fragmented_track": [({A: 0}, {10: 0})] * 2
    + [({A: 0}, {10: 30})] * 2
    + [({A: 0}, {10: 0})] * 2,
    # The latest match (11), 4 px off, is kept over the older track 10 on the spot.
    "latest_match_over_an_older_track": [({A: 0}, {10: 0})] * 2
    + [({A: 0}, {11: 0})]
    + [({A: 0}, {10: 0, 11: 4})] * 2,
    # Track 10 follows A, then B while A is away; when both are back A keeps 10 (carried
    # over) and B, whose latest track is taken, switches to 11.
    "track_taken_over": [({A: 0}, {10: 0})] * 2
    + [({B: 40}, {10: 40})] * 2
    + [({A: 0, B: 40}, {10: 0, 11: 40})] * 2,
    "three_close_people_rotate": [
        ({A: 0, B: 2, C: 4}, {10: 0, 11: 2, 12: 4}),
        ({A: 0, B: 2, C: 4}, {10: 2, 11: 4, 12: 0}),
        ({A: 0, B: 2, C: 4}, {10: 4, 11: 0, 12: 2}),
        ({A: 0, B: 2, C: 4}, {10: 0, 11: 2, 12: 4}),
    ],
    "tied_costs": [({A: 0, B: 0}, {10: 0, 11: 0}), ({A: 0, B: 0}, {11: 0, 12: 0})],
    "late_arrival_next_to_a_pair": [(CLOSE, {10: 0, 11: 3})] * 2
    + [({**CLOSE, C: 6}, {10: 0, 11: 3, 12: 6})] * 2
    + [({**CLOSE, C: 6}, {10: 0, 11: 6, 12: 3})],
    "switch_across_a_gap_in_the_truth": [({A: 0}, {10: 0}), ({}, {10: 0}), ({A: 0}, {11: 0})],
}

EXPECTED = {  # hand-counted: (matches, misses, false positives, switches, fragmentations, IDF1)
    "gate_before_assignment": (2, 0, 0, 0, 0, 1.0),
    "close_pair_keeps_its_tracks": (10, 0, 0, 0, 0, 1.0),
    "close_pair_appearing": (6, 0, 0, 0, 0, 1.0),
    "swap_far_apart": (12, 0, 0, 2, 0, 0.5),
    "miss_false_positive_new_track_after_gap": (3, 1, 1, 1, 1, 2 * 2 / (4 + 4)),
    "fragmented_track": (4, 2, 2, 0, 1, 2 * 4 / (6 + 6)),
    "latest_match_over_an_older_track": (5, 0, 2, 1, 0, 2 * 4 / (5 + 7)),  # IDF1 takes 10
    "track_taken_over": (8, 0, 0, 1, 0, 2 * 6 / (8 + 8)),
    "three_close_people_rotate": (12, 0, 0, 0, 0, 1.0),
    "switch_across_a_gap_in_the_truth": (2, 0, 1, 1, 0, 2 * 1 / (2 + 3)),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_tracking_scores_hand_counted(name):
    pred, gt = _sequence(SEQUENCES[name])
    s = tracking_scores(pred, gt, sigmas=SIG1)
    matches, misses, fps, switches, frags, idf1 = EXPECTED[name]
    assert (s.matches, s.misses, s.false_positives) == (matches, misses, fps)
    assert (s.id_switches, s.fragmentations) == (switches, frags)
    assert s.mota == pytest.approx(1 - (misses + fps + switches) / s.num_gt)
    assert s.idf1 == pytest.approx(idf1)


def test_the_gate_comes_before_the_assignment():
    s = tracking_scores(*_sequence(SEQUENCES["gate_before_assignment"]), sigmas=SIG1)
    assert s.mota == 1.0 and s.misses == 0
    assert s.motp == pytest.approx(1 - np.exp(-25 / 50))  # both pairs 5 px apart


def test_a_close_pair_keeps_its_tracks_and_scores_full_idf1():
    s = tracking_scores(*_sequence(SEQUENCES["close_pair_keeps_its_tracks"]), sigmas=SIG1)
    assert (s.id_switches, s.mota, s.idf1) == (0, 1.0, 1.0)
    s = tracking_scores(*_sequence(SEQUENCES["close_pair_appearing"]), sigmas=SIG1)
    assert (s.id_switches, s.idf1) == (0, 1.0)


def test_a_swap_of_seventeen_keypoint_people_counts_two_switches():
    gt = [[_p(0, 0.0), _p(1, 100.0)] for _ in range(6)]
    pred = [[_p(7, 0.0), _p(8, 100.0)] for _ in range(3)] + [
        [_p(8, 0.0), _p(7, 100.0)] for _ in range(3)
    ]
    s = tracking_scores(pred, gt)
    assert (s.id_switches, s.matches, s.misses, s.false_positives) == (2, 12, 0, 0)
    assert s.mota == pytest.approx(1 - 2 / 12) and s.motp == pytest.approx(0.0, abs=1e-12)
    assert s.idp == pytest.approx(0.5) and s.idf1 == pytest.approx(0.5)


def test_no_ground_truth_gives_motmetrics_ratios():
    s = tracking_scores(*_sequence(SEQUENCES["only_false_positives"]), sigmas=SIG1)
    assert s.mota == -np.inf and np.isnan(s.idr) and np.isnan(s.motp) and s.idp == 0.0


def test_tracking_scores_refuses_bad_input():
    gt = [[_q(0, 0.0)]]
    with pytest.raises(ValueError, match="track_id 3 appears twice"):
        tracking_scores([[_q(3, 0.0), _q(3, 9.0)]], gt, sigmas=SIG1)
    with pytest.raises(ValueError, match="ground truth frame 0, person 0: no 'track_id'"):
        tracking_scores([[_q(3, 0.0)]], [[{"bbox": [0, 0, 1, 1], "keypoints": [0, 0, 2]}]],
                        sigmas=SIG1)  # fmt: skip
    with pytest.raises(ValueError, match="min_oks must be within"):
        tracking_scores([[]], gt, sigmas=SIG1, min_oks=1.5)
    with pytest.raises(ValueError, match="2 frames, the ground truth 1"):
        tracking_scores([[], []], gt, sigmas=SIG1)


# --- the same sequences through py-motmetrics ---------------------------------------------

MOTMETRICS = {  # TrackingScores field -> py-motmetrics metric
    "num_gt": "num_objects", "num_predictions": "num_predictions",
    "matches": "num_detections", "misses": "num_misses",
    "false_positives": "num_false_positives", "id_switches": "num_switches",
    "fragmentations": "num_fragmentations",
    "mota": "mota", "idp": "idp", "idr": "idr", "idf1": "idf1",
}  # fmt: skip


def _motmetrics(pred, gt, sigmas, min_oks):
    """py-motmetrics' scores: its accumulator fed ``1 - OKS``, NaN beyond ``max_d = 1 -
    min_oks``, with its SciPy solver."""
    mm = pytest.importorskip("motmetrics", reason="pip install cgalib[dev] (py-motmetrics)")
    acc = mm.MOTAccumulator(auto_id=True)
    k = len(sigmas)
    with mm.lap.set_default_solver("scipy"):
        for p, g in zip(pred, gt):
            gk = np.array([x["keypoints"] for x in g], float).reshape(len(g), k, 3)
            pk = np.array([x["keypoints"] for x in p], float).reshape(len(p), k, 3)
            area = np.array([x["area"] for x in g], float)
            d = 1.0 - oks_matrix(gk, pk, area, sigmas, gk[..., 2] > 0)
            d[d > 1.0 - min_oks] = np.nan
            acc.update([x["track_id"] for x in g], [x["track_id"] for x in p], d)
        metrics = [*MOTMETRICS.values(), "motp", "num_matches"]
        row = mm.metrics.create().compute(acc, metrics=metrics, name="seq").loc["seq"]
    return row.to_dict()


def _assert_agrees(pred, gt, sigmas=SIG1, min_oks=0.5):
    ours = tracking_scores(pred, gt, sigmas=sigmas, min_oks=min_oks)
    theirs = _motmetrics(pred, gt, sigmas, min_oks)
    for field, metric in MOTMETRICS.items():  # counts and ratios of counts: exactly equal
        np.testing.assert_array_equal(getattr(ours, field), theirs[metric], err_msg=field)
    assert ours.matches - ours.id_switches == theirs["num_matches"]
    np.testing.assert_allclose(ours.motp, theirs["motp"], rtol=1e-12, err_msg="motp")
    return ours


@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_hand_built_sequences_agree_with_motmetrics(name):
    _assert_agrees(*_sequence(SEQUENCES[name]))


def test_seventeen_keypoints_and_another_gate_agree_with_motmetrics():
    from cgalib.utils.coco_meta import OKS_SIGMAS

    rng = np.random.default_rng(5)
    gt = [[_p(0, 0.0), _p(1, 4.0), _p(2, 60.0)] for _ in range(6)]
    tracks = ((7, 8, 9), (8, 7, 9))  # the two close people swap tracks every other frame
    pred = [[_p(t, float(x + rng.normal(0, 1.5))) for t, x in zip(tracks[f % 2], (0, 4, 60))]
            for f in range(6)]  # fmt: skip
    for min_oks in (0.3, 0.5, 0.9):
        _assert_agrees(pred, gt, sigmas=OKS_SIGMAS, min_oks=min_oks)


_SPOT = st.tuples(st.integers(0, 12), st.integers(0, 3))  # a grid: equal distances tie


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.dictionaries(st.integers(0, 3), _SPOT, max_size=4),
            st.dictionaries(st.integers(-1, 3), _SPOT, max_size=4),  # track ids -1 to 3
        ),
        min_size=1,
        max_size=8,
    )
)
def test_random_grid_sequences_agree_with_motmetrics(frames):
    _assert_agrees(*_sequence(frames))


@pytest.mark.parametrize("seed", range(30))
def test_random_walks_with_noise_agree_with_motmetrics(seed):
    """People walking close together, appearing and leaving; a noisy tracker that misses
    people, adds false positives, and now and then swaps or renews track ids."""
    rng = np.random.default_rng(seed)
    frames, n = [], int(rng.integers(2, 5))
    pos = rng.uniform(0, 12, (n, 2))
    alive = [(int(a), int(a + rng.integers(3, 16))) for a in rng.integers(0, 8, n)]
    track = list(range(10, 10 + n))
    next_track = 10 + n
    for f in range(16):
        pos += rng.normal(0, 1.0, pos.shape)
        if rng.random() < 0.15:  # two tracks swap
            i, j = rng.choice(n, 2, replace=False)
            track[i], track[j] = track[j], track[i]
        if rng.random() < 0.1:  # a track is lost and renewed
            track[int(rng.integers(n))], next_track = next_track, next_track + 1
        gt = {i: tuple(pos[i]) for i in range(n) if alive[i][0] <= f < alive[i][1]}
        pred = {track[i]: tuple(pos[i] + rng.normal(0, 2.0, 2))
                for i in gt if rng.random() < 0.85}  # fmt: skip
        for _ in range(int(rng.random() < 0.3)):
            pred[next_track] = tuple(rng.uniform(0, 12, 2))
            next_track += 1
        frames.append((gt, pred))
    _assert_agrees(*_sequence(frames))


@pytest.mark.parametrize("delay", [0.0, 2.0, 3.5])
def test_smoothing_lag_recovers_a_known_delay(delay):
    t = np.arange(40.0)
    x = 30 * np.sin(t / 6)
    late = np.interp(t - delay, t, x)
    ref = [[_p(0, float(v))] for v in x]
    sm = [[_p(0, float(v))] for v in late]
    assert smoothing_lag(sm, ref, max_lag=6) == pytest.approx(delay, abs=0.11)
