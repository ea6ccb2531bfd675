"""coco_ap / coco_keypoint_ap: identical to pycocotools on keypoints, boxes and masks, the
OKS sigmas of other keypoint sets, a metrics table."""

import contextlib
import copy
import io
import json

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from cgalib.codecs import masks_to_rle
from cgalib.data import BODY14_CATEGORY, PERSON_CATEGORY
from cgalib.eval import (
    BOX_METRICS,
    KEYPOINT_METRICS,
    CocoKeypointAP,
    coco_ap,
    coco_keypoint_ap,
    format_metrics,
    load_coco,
)
from cgalib.utils.keypoint_set import DEFAULT_OKS_SIGMA, KeypointSetWarning

from helpers import (
    cocoeval_keypoint_stats,
    keypoint_set_ground_truth,
    keypoint_set_results,
    noisy_coco_results,
)

K = 14
"""Keypoints of the body14 set, the other keypoint set scored here."""


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


def _rect(h, w, x0, y0, x1, y1):
    m = np.zeros((h, w), bool)
    m[y0:y1, x0:x1] = True
    return m


def _case():
    """A person in front (B) hides the right half of the one behind (A)."""
    h, w = 80, 100
    front = _rect(h, w, 40, 10, 70, 75)
    behind = _rect(h, w, 15, 5, 55, 70) & ~front  # visible part only
    anns = []
    for i, m in enumerate([behind, front], start=1):
        ys, xs = np.nonzero(m)
        rle = masks_to_rle(m[None])[0]
        anns.append({
            "id": i, "image_id": 1, "category_id": 1, "iscrowd": 0,
            "bbox": [float(xs.min()), float(ys.min()), float(np.ptp(xs) + 1), float(np.ptp(ys) + 1)],
            "area": float(m.sum()), "segmentation": rle, "keypoints": [0] * 51,
            "num_keypoints": 0,
        })  # fmt: skip
    gt = {
        "images": [{"id": 1, "width": w, "height": h, "file_name": "a.png"}],
        "annotations": anns,
        "categories": [PERSON_CATEGORY],
    }
    # predictions: the front person well, the one behind taken with the hidden part (a
    # worse mask) and a false positive
    preds = [front, _rect(h, w, 15, 5, 55, 70), _rect(h, w, 80, 50, 95, 78)]
    results = []
    for m, score in zip(preds, (0.9, 0.8, 0.7)):
        ys, xs = np.nonzero(m)
        box = [float(xs.min()), float(ys.min()), float(np.ptp(xs) + 1), float(np.ptp(ys) + 1)]
        results.append({"image_id": 1, "category_id": 1, "score": score, "bbox": box,
                        "segmentation": masks_to_rle(m[None])[0]})  # fmt: skip
    return gt, results


def _direct(gt: dict, results: list[dict], iou_type: str) -> list[float]:
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = copy.deepcopy(gt)
        coco.createIndex()
        res = copy.deepcopy(results)
        if iou_type == "segm":
            for r in res:
                r.pop("bbox")
        dt = coco.loadRes(res)
        ev = COCOeval(coco, dt, iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return list(ev.stats)


@pytest.mark.parametrize("iou_type", ["segm", "bbox"])
def test_mask_and_box_ap_equal_a_direct_cocoeval(iou_type):
    gt, results = _case()
    ours = coco_ap(gt, results, iou_type)
    direct = _direct(gt, results, iou_type)
    assert list(ours) == list(BOX_METRICS)
    np.testing.assert_allclose(list(ours.values()), direct, atol=1e-12)
    if iou_type == "segm":  # the hidden part makes the mask of the one behind poorer
        assert 0 < ours["AP"] < coco_ap(gt, results, "bbox")["AP"] == 1


def test_mask_ap_uses_the_mask_area_not_the_box_area():
    """pycocotools takes a result's box area when it has a bbox; coco_ap drops the bbox."""
    gt, results = _case()
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = copy.deepcopy(gt)
        coco.createIndex()
        dt = coco.loadRes(copy.deepcopy(results))
    assert dt.anns[2]["area"] == 40 * 65  # the box area
    results[1]["segmentation"] = gt["annotations"][0]["segmentation"]  # not box-shaped
    dt = coco.loadRes(copy.deepcopy(results))
    assert dt.anns[2]["area"] != mask_utils.area(results[1]["segmentation"])
    bare = [{k: v for k, v in r.items() if k != "bbox"} for r in results]
    assert coco_ap(gt, results, "segm") == coco_ap(gt, bare, "segm")



def test_custom_sigmas_score_as_cocoeval_with_those_sigmas():
    data = keypoint_set_ground_truth(BODY14_CATEGORY)
    results = keypoint_set_results(data)
    ours = list(coco_keypoint_ap(data, results).values())
    assert ours == cocoeval_keypoint_stats(data, results, BODY14_CATEGORY["sigmas"])
    loose = [0.2] * K
    assert list(coco_keypoint_ap(data, results, sigmas=loose).values()) == cocoeval_keypoint_stats(
        data, results, loose
    )
    assert ours != cocoeval_keypoint_stats(data, results, loose)  # the sigmas matter
    metric = CocoKeypointAP(data, sigmas=loose)
    metric.update(results, image_ids=range(1, 6))
    assert list(metric.compute().values()) == cocoeval_keypoint_stats(data, results, loose)


def test_a_set_without_sigmas_scores_with_the_default_and_warns():
    category = {k: v for k, v in BODY14_CATEGORY.items() if k != "sigmas"}
    data = keypoint_set_ground_truth(category)
    results = keypoint_set_results(data)
    gt = load_coco(data)
    assert gt.sigma_source == "default" and gt.sigmas == (DEFAULT_OKS_SIGMA,) * K
    with pytest.warns(KeypointSetWarning, match="not comparable to published numbers"):
        ours = list(coco_keypoint_ap(gt, results).values())
    assert ours == cocoeval_keypoint_stats(data, results, [DEFAULT_OKS_SIGMA] * K)
    with pytest.raises(ValueError, match="13 values for 14 keypoints"):
        coco_keypoint_ap(gt, results, sigmas=[0.1] * 13)


@pytest.mark.parametrize(
    "category_id, message",
    [
        ("1", "result 0 \\(image \\d+\\) has category_id '1', a string; write the integer 1"),
        (0, "category_id 0, but the ground truth's person category is 1 \\(ids counted from 0\\?\\)"),
    ],
)
def test_category_ids_as_text_or_counted_from_zero_are_refused(coco_gt, category_id, message):
    path, anns = coco_gt
    results = noisy_coco_results(anns, np.random.default_rng(0), sigma=1.0)
    results[0]["category_id"] = category_id
    with pytest.raises(ValueError, match=message):
        coco_ap(path, results, "keypoints")


def test_a_score_written_as_text_is_named(coco_gt):
    path, anns = coco_gt
    results = noisy_coco_results(anns, np.random.default_rng(0), sigma=1.0)
    results[2]["score"] = "0.9"
    with pytest.raises(ValueError, match=r"result 2 .* not a finite number \(1 such results, "
                       r"e.g. '0.9'\)"):  # fmt: skip
        coco_ap(path, results, "keypoints")


@pytest.mark.parametrize("iou_type", ["keypoints", "bbox"])
def test_scores_outside_0_1_score_as_the_probabilities_they_stand_for(coco_gt, iou_type):
    """AP depends on the order of the scores alone: logits and percentages are accepted."""
    path, anns = coco_gt
    results = noisy_coco_results(anns, np.random.default_rng(3), sigma=3.0, false_positives=3)
    probabilities = np.random.default_rng(4).uniform(0.05, 0.95, len(results))
    for r, p in zip(results, probabilities):
        r["score"] = float(p)
    ap = coco_ap(path, results, iou_type)
    logits = [{**r, "score": float(np.log(r["score"] / (1 - r["score"])))} for r in results]
    percentages = [{**r, "score": 100 * r["score"]} for r in results]
    assert min(r["score"] for r in logits) < 0 and max(r["score"] for r in percentages) > 1
    assert coco_ap(path, logits, iou_type) == ap == coco_ap(path, percentages, iou_type)
