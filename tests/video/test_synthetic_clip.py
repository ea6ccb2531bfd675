"""The synthetic moving-crowd clip: deterministic, scripted events, consistent ground truth."""

from __future__ import annotations

import numpy as np
import pytest

from cgalib.video import synthetic_clip


@pytest.fixture(scope="module")
def clip():
    return synthetic_clip(seed=0, num_frames=30, width=128, height=96, num_people=4, gap_frames=2)


def test_the_same_seed_gives_the_same_clip(clip):
    again = synthetic_clip(seed=0, num_frames=30, width=128, height=96, num_people=4, gap_frames=2)
    other = synthetic_clip(seed=1, num_frames=30, width=128, height=96, num_people=4, gap_frames=2)
    assert all(np.array_equal(a, b) for a, b in zip(clip.frames, again.frames))
    assert clip.people == again.people
    assert not np.array_equal(clip.frames[0], other.frames[0])


def test_frames_times_and_identities(clip):
    assert clip.size == (128, 96) and len(clip.frames) == 30
    assert clip.frames[0].dtype == np.uint8 and clip.frames[0].shape == (96, 128, 3)
    assert clip.times == pytest.approx([i / 25 for i in range(30)])
    assert {p["track_id"] for p in clip.people[0]} == {0, 1, 2, 3}
    for people in clip.people:
        for p in people:
            assert len(p["keypoints"]) == 51 and set(p["keypoints"][2::3]) <= {0, 1, 2}


@pytest.mark.parametrize("gap", [1, 2, 5])
def test_the_leaving_person_is_outside_for_gap_frames_and_comes_back(gap):
    clip = synthetic_clip(num_frames=30, width=128, height=96, num_people=3, gap_frames=gap)
    assert len(clip.out_frames) == gap
    assert clip.out_frames == tuple(range(clip.out_frames[0], clip.out_frames[0] + gap))
    present = [any(p["track_id"] == 2 for p in f) for f in clip.people]
    assert present[0] and present[-1]
    assert not any(present[f] for f in clip.out_frames)


def test_the_first_two_people_cross(clip):
    def x(f, pid):
        (box,) = [p["bbox"] for p in clip.people[f] if p["track_id"] == pid]
        return box[0] + box[2] / 2

    assert x(0, 0) < x(0, 1) and x(-1, 0) > x(-1, 1)


def test_ground_truth_keypoints_lie_on_the_drawn_person(clip):
    """Every visible keypoint lies inside its person's box of visible pixels (give or
    take the limb's half width)."""
    for people in clip.people:
        for p in people:
            k = np.asarray(p["keypoints"]).reshape(17, 3)
            x, y, w, h = p["bbox"]
            vis = k[k[:, 2] == 2]
            assert ((vis[:, 0] >= x - 3) & (vis[:, 0] <= x + w + 3)).all()
            assert ((vis[:, 1] >= y - 3) & (vis[:, 1] <= y + h + 3)).all()
