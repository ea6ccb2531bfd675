import contextlib
import copy
import io
import json

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from cgalib.eval import (
    BOX_METRICS,
    KEYPOINT_METRICS,
    coco_ap,
    coco_keypoint_ap,
    format_metrics,
    load_coco,
)

from helpers import noisy_coco_results


def _pycocotools(path, results, iou_type):
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(path))
        ev = COCOeval(gt, gt.loadRes(copy.deepcopy(results)), iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats


@pytest.mark.parametrize("iou_type", ["keypoints", "bbox"])
def test_identical_to_pycocotools_and_leaves_results_alone(coco_gt, iou_type):
    path, anns = coco_gt
    results = noisy_coco_results(anns, np.random.default_rng(0), sigma=3.0, false_positives=3)
    before = copy.deepcopy(results)
    ours = coco_ap(path, results, iou_type)
    assert results == before  # loadRes writes into the dicts: coco_ap gives it copies
    names = KEYPOINT_METRICS if iou_type == "keypoints" else BOX_METRICS
    assert list(ours) == list(names)
    np.testing.assert_array_equal(list(ours.values()), _pycocotools(path, results, iou_type))
    assert 0 < ours["AP"] < 1


def test_keypoint_ap_is_coco_ap_of_keypoints(coco_gt):
    path, anns = coco_gt
    results = noisy_coco_results(anns, np.random.default_rng(1), sigma=2.0)
    assert coco_keypoint_ap(path, results) == coco_ap(path, results, "keypoints")
    some = [r for r in results if r["image_id"] in (3, 8)]
    assert coco_keypoint_ap(path, some, image_ids=[3, 8]) == coco_ap(path, some, image_ids=[3, 8])


def test_perfect_results_score_one_and_accept_a_coco_object(coco_gt, tmp_path):
    path, anns = coco_gt
    res_file = tmp_path / "results.json"
    res_file.write_text(json.dumps(noisy_coco_results(anns, np.random.default_rng(1), sigma=0.0)))
    gt = load_coco(path)
    metrics = coco_keypoint_ap(gt, res_file)
    assert metrics["AP"] == pytest.approx(1.0)
    assert metrics["AR"] == pytest.approx(1.0)
    boxes = coco_ap(gt, res_file, "bbox")
    assert boxes["AP"] == pytest.approx(1.0)
    assert boxes["AR100"] == pytest.approx(1.0)
    assert boxes["APs"] == -1.0  # no small person in the ground truth


def test_one_hit_and_a_higher_scored_false_positive_by_hand():
    gt = {
        "images": [{"id": 1, "width": 200, "height": 200}],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "iscrowd": 0,
                "bbox": [0, 0, 40, 80],
                "area": 3200,
            }
        ],
        "categories": [{"id": 1, "name": "person"}],
    }
    results = [
        {"image_id": 1, "category_id": 1, "bbox": [100, 100, 40, 80], "score": 0.9},
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 40, 80], "score": 0.8},
    ]
    ap = coco_ap(gt, results, "bbox")
    # COCO's 101-point interpolation: precision 1/2 at every recall level
    assert ap["AP"] == pytest.approx(0.5)
    assert ap["AR100"] == pytest.approx(1.0)


def test_empty_results_and_bad_inputs(coco_gt, tmp_path):
    path, _ = coco_gt
    assert coco_keypoint_ap(path, []) == dict.fromkeys(KEYPOINT_METRICS, 0.0)
    assert coco_ap(path, [], "bbox") == dict.fromkeys(BOX_METRICS, 0.0)
    with pytest.raises(ValueError, match=r"missing from the ground truth: \[99\]"):
        coco_keypoint_ap(
            path, [{"image_id": 99, "category_id": 1, "keypoints": [0] * 51, "score": 1}]
        )
    with pytest.raises(ValueError, match=r"result 0 \(image 3\) has no 'bbox'; every result"):
        coco_ap(
            path, [{"image_id": 3, "category_id": 1, "keypoints": [0] * 51, "score": 1}], "bbox"
        )
    with pytest.raises(ValueError, match="iou_type must be one of"):
        coco_ap(path, [], "boxes")
    with pytest.raises(FileNotFoundError):
        coco_keypoint_ap(tmp_path / "nope.json", [])
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="bad.json is not valid JSON"):
        coco_keypoint_ap(tmp_path / "bad.json", [])
    with pytest.raises(ValueError, match="the dataset dict has no 'images' list"):
        load_coco({"annotations": []})
    with pytest.raises(ValueError, match="the dataset dict: image at index 0 has id None"):
        load_coco({"images": [{"file_name": "a.jpg"}], "annotations": [], "categories": []})


def test_format_metrics_table():
    table = format_metrics({"AP": 0.1234, "AR": 1.0})
    assert table.splitlines()[2] == "| value | 0.123 | 1.000 |"
