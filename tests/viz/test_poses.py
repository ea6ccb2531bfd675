"""Drawing people: limb and keypoint colours by body side, what is drawn for whom, and the
keypoint-count check."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from cgalib.utils.keypoint_set import KeypointSet  # noqa: E402
from cgalib.viz.poses import (  # noqa: E402
    LIMB_COLORS,
    check_people_keypoints,
    draw_people,
    keypoint_colors,
    limb_colors,
    limb_side,
)

ARM = KeypointSet(("neck", "left_elbow", "left_wrist", "right_elbow", "right_wrist"),
                  sigmas=(0.05,) * 5, skeleton=((0, 1), (1, 2), (0, 3), (3, 4)))  # fmt: skip


def test_a_limb_is_on_a_side_when_both_ends_are():
    names = ["nose", "left_eye", "left_ear", "right_eye"]
    assert limb_side(names, 1, 2) == "left"
    assert limb_side(names, 1, 3) == "center" and limb_side(names, 0, 1) == "center"
    assert limb_side(["right_hip", "right_knee"], 0, 1) == "right"


def test_colours_by_side_unless_the_set_gives_them():
    blue, orange, green = LIMB_COLORS["left"], LIMB_COLORS["right"], LIMB_COLORS["center"]
    assert keypoint_colors(ARM) == [green, blue, blue, orange, orange]
    assert limb_colors(ARM) == [green, blue, green, orange]
    coco = KeypointSet.coco()
    assert len(limb_colors(coco)) == len(coco.skeleton) == 19
    painted = KeypointSet(("a", "b"), sigmas=(0.1, 0.1), skeleton=((0, 1),),
                          colors=("red", "blue"), limb_colors=("black",))  # fmt: skip
    assert keypoint_colors(painted) == ["red", "blue"] and limb_colors(painted) == ["black"]


def test_people_with_another_keypoint_count_are_refused_by_index():
    people = [{"keypoints": [0] * 15}, {"keypoints": [0] * 51}]
    check_people_keypoints(people[:1], ARM)
    check_people_keypoints([{"bbox": [0, 0, 1, 1]}, {"keypoints": []}], ARM)  # none: a mask model
    with pytest.raises(ValueError, match=r"person 1: 17 keypoints, but 5 names; pass the keypoint"):
        check_people_keypoints(people, ARM)
    with pytest.raises(ValueError, match=r"person 0: 3.33333 keypoints, but 5 names"):
        check_people_keypoints([{"keypoints": [0] * 10}], ARM)


def _draw(people, **kw):
    fig, ax = plt.subplots()
    draw_people(ax, torch.zeros(3, 20, 30, dtype=torch.uint8), people, keypoint_set=ARM, **kw)
    return fig, ax


def test_what_is_drawn_for_each_person():
    person = {
        "keypoints": [5, 5, 0.9, 10, 5, 0.9, 15, 5, 0.1, 5, 10, 0.9, 5, 15, 0.9],  # unsure left wrist
        "bbox": [2, 3, 10, 8], "score": 0.8, "extended_box": [1, 2, 14, 13],
    }  # fmt: skip
    fig, ax = _draw([person, {**person, "score": 0.1}], extra_box_key="extended_box", title="t")
    try:
        assert ax.get_title() == "t" and len(ax.images) == 1
        # the limbs whose two ends pass the threshold: all but the left forearm
        assert [tuple(line.get_ydata()) for line in ax.lines] == [(5, 5), (5, 10), (10, 15)]
        assert [line.get_color() for line in ax.lines] == limb_colors(ARM)[:1] + limb_colors(ARM)[2:]
        assert len(ax.collections) == 4  # one marker per sure keypoint
        boxes = [p for p in ax.patches if isinstance(p, Rectangle)]
        assert [(b.get_x(), b.get_y(), b.get_width(), b.get_height()) for b in boxes] == [
            (2, 3, 10, 8), (1, 2, 13, 11),
        ]  # fmt: skip
        assert boxes[1].get_linestyle() == "--"
        assert [t.get_text() for t in ax.texts] == ["0.80"]  # the second person is below 0.2
    finally:
        plt.close(fig)


def test_box_keys_can_be_switched_off_and_people_without_keypoints_get_a_box():
    fig, ax = _draw([{"bbox": [1, 1, 5, 5]}, {"keypoints": [1, 1, 1] * 5, "bbox": [1, 1, 2, 2]}],
                    box_key=None)  # fmt: skip
    try:
        assert len(ax.patches) == 0 and len(ax.texts) == 0 and len(ax.lines) == 4
    finally:
        plt.close(fig)
    fig, ax = _draw([{"bbox": [1, 1, 5, 5]}])
    try:
        assert len(ax.patches) == 1 and len(ax.lines) == 0 and len(ax.texts) == 0  # no score, no label
    finally:
        plt.close(fig)


def test_ground_truth_visibility_flags_with_a_threshold_of_one_half():
    person = {"keypoints": [5, 5, 2, 10, 5, 1, 15, 5, 0, 5, 10, 2, 5, 15, 2]}
    fig, ax = _draw([person], keypoint_threshold=0.5)
    try:
        assert len(ax.collections) == 4 and len(ax.lines) == 3
    finally:
        plt.close(fig)


def test_images_of_every_kind_show_the_same_pixels():
    rgb = np.random.default_rng(0).integers(0, 255, (6, 8, 3), np.uint8)
    shown = []
    for image in (rgb, torch.from_numpy(rgb).permute(2, 0, 1), rgb.astype(np.float32) / 255):
        fig, ax = plt.subplots()
        draw_people(ax, image, [])
        shown.append(np.asarray(ax.images[0].get_array()))
        plt.close(fig)
    assert all(np.array_equal(s, rgb) for s in shown)


def test_a_box_past_the_border_is_cut_there_and_the_picture_keeps_its_axes():
    """A dashed extended box (and a score label) reaching past the picture used to widen the
    axes, shrinking the photo inside white margins; the axes now span the picture exactly."""
    person = {"keypoints": [5, 5, 0.9] * 5, "bbox": [-6, -4, 30, 40], "score": 0.8,
              "extended_box": [-10, -8, 40, 50]}  # fmt: skip
    fig, ax = _draw([person], extra_box_key="extended_box")
    try:
        image = np.asarray(ax.images[0].get_array())
        h, w = image.shape[:2]
        assert ax.get_xlim() == (-0.5, w - 0.5) and ax.get_ylim() == (h - 0.5, -0.5)
        assert all(t.get_clip_on() for t in ax.texts)
        fig.canvas.draw()
        pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3]
        x0, y0, x1, y1 = np.round(ax.get_window_extent().extents).astype(int)
        inside = pixels[pixels.shape[0] - y1 + 2 : pixels.shape[0] - y0 - 2, x0 + 2 : x1 - 2]
        assert (inside == 255).all(axis=-1).mean() < 0.05  # no white margin inside the axes
    finally:
        plt.close(fig)
