"""Mask AP through cgalib against a direct pycocotools COCOeval call (two people, one
occluding the other)."""

from __future__ import annotations

import contextlib
import copy
import io

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from cgalib.codecs import masks_to_rle
from cgalib.data import PERSON_CATEGORY
from cgalib.eval import BOX_METRICS, coco_ap


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
