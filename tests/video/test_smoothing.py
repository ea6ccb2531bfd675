"""One-Euro smoothing: less jitter on still points, bounded lag on a step, time-aware,
low-score keypoints ignored."""

from __future__ import annotations

import numpy as np
import pytest

from cgalib.video import OneEuroFilter, PoseSmoother, keypoint_jitter, smooth_poses


def _person(x, y=50.0, score=0.9, height=100.0, k=17):
    kps = np.stack([np.full(k, x), np.full(k, y), np.full(k, score)], 1)
    return {"track_id": 0, "bbox": [0.0, 0.0, 40.0, height], "keypoints": kps.ravel().tolist()}


def test_the_filter_matches_the_paper_step_by_step():
    """Casiez et al. 2012: alpha = 1 / (1 + tau / dt), tau = 1 / (2 pi f_c)."""
    f = OneEuroFilter(min_cutoff=1.0, beta=0.5, d_cutoff=1.0)
    xs, ts = [0.0, 2.0, 1.0, 4.0], [0.0, 0.1, 0.25, 0.3]
    x_hat, dx_hat, out = xs[0], 0.0, [xs[0]]
    for i in range(1, 4):
        dt = ts[i] - ts[i - 1]
        alpha = lambda fc, dt=dt: 1 / (1 + 1 / (2 * np.pi * fc * dt))  # noqa: E731
        dx_hat = alpha(1.0) * (xs[i] - x_hat) / dt + (1 - alpha(1.0)) * dx_hat
        a = alpha(1.0 + 0.5 * abs(dx_hat))
        x_hat = a * xs[i] + (1 - a) * x_hat
        out.append(x_hat)
    got = [float(f(np.array([x]), t)[0]) for x, t in zip(xs, ts)]
    assert got == pytest.approx(out)


def test_noisy_still_keypoints_jitter_at_least_four_times_less():
    rng = np.random.default_rng(0)
    frames = [[_person(100 + rng.normal(0, 2.0), 50 + rng.normal(0, 2.0))] for _ in range(60)]
    times = [i / 25 for i in range(60)]
    raw = keypoint_jitter(frames)
    smoothed = keypoint_jitter(smooth_poses(frames, times))
    assert raw == pytest.approx(3.07 * 2.0 / 100, rel=0.2)  # sqrt(3 pi) sigma / height
    assert smoothed < raw / 4


@pytest.mark.parametrize("fps", [25.0, 50.0])
def test_a_step_is_followed_within_three_frames_at_25_fps(fps):
    """Defaults (min_cutoff 1 Hz, beta 1): a jump of half the person's height is covered
    to 90% within 0.12 s (3 frames at 25 fps), at any frame rate, because the filter
    reads the frame times."""
    smoother = PoseSmoother()
    n = int(fps)
    xs = [0.0 if i < n // 2 else 50.0 for i in range(n)]
    out = [smoother.update([_person(x)], i / fps)[0]["keypoints"][0] for i, x in enumerate(xs)]
    settled = np.flatnonzero(np.array(out[n // 2 :]) >= 45.0)[0]
    assert settled / fps <= 0.12 + 1e-9
    assert out[n // 2 - 1] == 0.0 and out[n // 2] < 45.0  # smoothed, not passed through


def test_skipped_frames_are_filtered_with_their_real_time_step():
    """The same samples at twice the time step move further towards the input."""
    a, b = PoseSmoother(), PoseSmoother()
    for i, x in enumerate([0.0, 10.0]):
        ya = a.update([_person(x)], i * 0.04)[0]["keypoints"][0]
        yb = b.update([_person(x)], i * 0.08)[0]["keypoints"][0]
    assert 0 < ya < yb < 10


def test_low_score_keypoints_pass_through_and_do_not_drag_the_filter():
    smoother = PoseSmoother(keypoint_threshold=0.3)
    for i in range(10):
        smoother.update([_person(100.0)], i / 25)
    wild = smoother.update([_person(300.0, score=0.1)], 10 / 25)[0]
    assert wild["keypoints"][0] == 300.0  # unfiltered, flagged by its score
    back = smoother.update([_person(100.0)], 11 / 25)[0]
    assert back["keypoints"][0] == pytest.approx(100.0)  # the filter never saw 300


def test_raw_values_are_kept_and_resmoothing_starts_from_them():
    frames = [[_person(x)] for x in (0.0, 10.0, 20.0)]
    times = [0.0, 0.04, 0.08]
    once = smooth_poses(frames, times, min_cutoff=0.5)
    assert [f[0]["keypoints_raw"][0] for f in once] == [0.0, 10.0, 20.0]
    again = smooth_poses(once, times, min_cutoff=0.5)
    assert [f[0]["keypoints"] for f in again] == [f[0]["keypoints"] for f in once]


def test_tracks_are_filtered_separately():
    smoother = PoseSmoother()
    a, b = _person(0.0), {**_person(100.0), "track_id": 1}
    smoother.update([a, b], 0.0)
    out = smoother.update([{**a}, {**b}], 0.04)
    assert [p["keypoints"][0] for p in out] == [0.0, 100.0]
