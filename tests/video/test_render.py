"""draw_tracks: skeleton, keypoints, a box and an id label in the track's colour."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import ImageColor

from cgalib.video import TRACK_COLORS, draw_tracks


def _person(track=2):
    kps = np.stack([np.linspace(20, 40, 17), np.linspace(15, 60, 17), np.full(17, 0.9)], 1)
    return {"track_id": track, "bbox": [10.0, 10.0, 40.0, 60.0], "keypoints": kps.ravel().tolist()}


def test_box_in_the_track_colour_and_the_input_untouched():
    frame = np.zeros((80, 100, 3), np.uint8)
    out = draw_tracks(frame, [_person(2)])
    assert not frame.any() and out.shape == frame.shape
    colour = ImageColor.getrgb(TRACK_COLORS[2])
    assert tuple(out[70, 30]) == colour  # bottom edge of the box
    assert tuple(out[40, 10]) == colour  # left edge
    assert not out[75:, :].any()  # nothing below the box


def test_tensor_frames_and_hidden_keypoints():
    frame = torch.zeros(3, 80, 100, dtype=torch.uint8)
    person = _person()
    person["keypoints"][2::3] = [0.0] * 17
    out = draw_tracks(frame, [person])
    inside = out[12:68, 12:48]
    assert not inside.any()  # no keypoint drawn, only the box


def test_a_keypoint_count_other_than_the_names_is_refused():
    person = {"track_id": 0, "bbox": [0, 0, 5, 5], "keypoints": [1.0, 1.0, 1.0] * 5}
    with pytest.raises(ValueError, match="5 keypoints, but 17 names"):
        draw_tracks(np.zeros((8, 8, 3), np.uint8), [person])
