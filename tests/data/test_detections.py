"""Person boxes for top-down models: a COCO detection-results file, or the ground truth."""

from __future__ import annotations

import json

import pytest
import torch

from cgalib.data import ground_truth_boxes, load_detections
from cgalib.eval import load_coco
from cgalib.utils.coco_meta import KEYPOINT_NAMES


def _write(path, entries):
    path.write_text(json.dumps(entries))
    return path


def test_detections_per_image_sorted_other_categories_skipped(tmp_path):
    path = _write(tmp_path / "d.json", [
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 20], "score": 0.2},
        {"image_id": 1, "category_id": 1, "bbox": [5, 5, 10, 10], "score": 0.8},
        {"image_id": 1, "category_id": 3, "bbox": [5, 5, 10, 10], "score": 0.9},
        {"image_id": 2, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.01},
    ])  # fmt: skip
    dets = load_detections(path, [1, 2, 3])
    assert set(dets) == {1, 2, 3}
    torch.testing.assert_close(
        dets[1], torch.tensor([[5.0, 5.0, 15.0, 15.0, 0.8], [0.0, 0.0, 10.0, 20.0, 0.2]])
    )
    assert dets[3].shape == (0, 5)
    assert load_detections(path, [1, 2, 3], min_score=0.1)[2].shape == (0, 5)


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}, "entry 1 has no 'image_id'"),
        ({"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}, "entry 1 has no 'score'"),
        ({"image_id": 1, "category_id": 1, "bbox": [0, 0, 1], "score": 1}, r"bbox \[0, 0, 1\]"),
        (
            {"image_id": 1, "category_id": 1, "bbox": [0, 0, -1, 1], "score": 1},
            "width, height >= 0",
        ),
        ({"image_id": 1, "category_id": 1, "bbox": "box", "score": 1}, "bbox 'box'"),
        ({"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": "high"}, "score 'high'"),
        ({"image_id": "a", "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}, "image_id 'a'"),
        ([1, 2, 3], "entry 1 is a list, not an object"),
    ],
)
def test_a_malformed_entry_is_named(tmp_path, entry, message):
    good = {"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}
    path = _write(tmp_path / "d.json", [good, entry])
    with pytest.raises(ValueError, match=message) as err:
        load_detections(path, [1])
    assert str(path) in str(err.value) and "entry 1" in str(err.value)


def test_an_unknown_image_is_named(tmp_path):
    path = _write(tmp_path / "d.json", [
        {"image_id": 999, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}])  # fmt: skip
    with pytest.raises(
        ValueError, match="entry 0 names image 999, which is not in the ground truth"
    ):
        load_detections(path, [1, 2])


def test_files_that_are_not_detection_lists(tmp_path):
    with pytest.raises(FileNotFoundError, match="detections file not found"):
        load_detections(tmp_path / "missing.json", [1])
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="is not valid JSON"):
        load_detections(tmp_path / "bad.json", [1])
    with pytest.raises(ValueError, match="must hold a JSON list"):
        load_detections(_write(tmp_path / "dict.json", {"annotations": []}), [1])


def test_ground_truth_boxes_are_the_labelled_people(tmp_path):
    gt = load_coco({
        "images": [{"id": 1}, {"id": 2}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 20, 30, 40], "iscrowd": 0,
             "keypoints": [1, 1, 2] + [0] * 48, "area": 1},
            {"id": 2, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "iscrowd": 0,
             "keypoints": [0] * 51, "area": 1},
            {"id": 3, "image_id": 1, "category_id": 1, "bbox": [0, 0, 50, 50], "iscrowd": 1,
             "keypoints": [1, 1, 2] + [0] * 48, "area": 1},
        ],
        "categories": [{"id": 1, "name": "person", "keypoints": list(KEYPOINT_NAMES)}],
    })  # fmt: skip
    boxes = ground_truth_boxes(gt)
    torch.testing.assert_close(boxes[1], torch.tensor([[10.0, 20.0, 40.0, 60.0, 1.0]]))
    assert boxes[2].shape == (0, 5)
    assert len(ground_truth_boxes(gt, min_keypoints=0)[1]) == 2
