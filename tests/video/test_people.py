"""people_arrays and check_sigmas: a frame's person dicts as arrays, with messages that name
the frame and the person."""

from __future__ import annotations

import numpy as np
import pytest

from cgalib.video._people import check_sigmas, people_arrays


def _person(k=2, **kw):
    return {"keypoints": list(range(3 * k)), "bbox": [1, 2, 3, 4], **kw}


def test_arrays_by_hand_and_a_missing_score_reads_as_one():
    kps, boxes, scores = people_arrays([_person(score=0.25), _person()], 2)
    assert kps.shape == (2, 2, 3) and kps[0].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert boxes.tolist() == [[1, 2, 3, 4]] * 2 and scores.tolist() == [0.25, 1.0]
    assert kps.dtype == boxes.dtype == scores.dtype == np.float64


def test_nested_keypoints_and_no_people():
    kps, _, _ = people_arrays([{"keypoints": [[1, 2, 3], [4, 5, 6]], "bbox": [0, 0, 1, 1]}], 2)
    assert kps[0, 1].tolist() == [4, 5, 6]
    kps, boxes, scores = people_arrays([], 17)
    assert kps.shape == (0, 17, 3) and boxes.shape == (0, 4) and scores.shape == (0,)


@pytest.mark.parametrize(
    ("person", "message"),
    [
        ("nobody", "frame 7, person 1: expected a dict, got str"),
        ({"bbox": [0, 0, 1, 1]}, "frame 7, person 1: no 'keypoints' \\(have \\['bbox'\\]\\)"),
        ({"keypoints": [0] * 6}, "frame 7, person 1: no 'bbox'"),
        (_person(k=3), "'keypoints' has 9 numbers, expected 3 \\* 2 = 6 \\(x, y, score"),
        ({**_person(), "bbox": [0, 0, 1]}, "'bbox' has 3 numbers, expected 4 \\(xywh\\)"),
        ({**_person(), "bbox": [0, 0, float("nan"), 1]}, "holds NaN or inf"),
        ({**_person(), "keypoints": [0, 0, 1, float("inf"), 0, 1]}, "holds NaN or inf"),
    ],
)
def test_bad_people_are_named_by_frame_and_index(person, message):
    with pytest.raises(ValueError, match=message):
        people_arrays([_person(), person], 2, where="frame 7")


def test_sigmas_become_a_positive_float_array_or_an_error():
    sigmas = check_sigmas((0.1, 0.25))
    assert isinstance(sigmas, np.ndarray) and sigmas.dtype == np.float64
    assert sigmas.tolist() == [0.1, 0.25]
    for bad in ([0.1, 0.0], [0.1, -1.0], [0.1, float("nan")], []):
        with pytest.raises(ValueError):
            check_sigmas(bad)
