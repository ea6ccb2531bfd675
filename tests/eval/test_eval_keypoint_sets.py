"""Keypoint AP of other keypoint sets: the set's OKS sigmas reach pycocotools, categories
merge into one class, a model's set decides what a split is read as."""

from __future__ import annotations

import contextlib
import copy
import io
import warnings

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from cgalib import create_model
from cgalib.data import BODY14_CATEGORY
from cgalib.eval import CocoKeypointAP, coco_keypoint_ap, ground_truth_for, load_coco
from cgalib.utils.keypoint_set import DEFAULT_OKS_SIGMA, KeypointSetWarning

K = 14


def _ground_truth(category: dict, seed: int = 0) -> dict:
    """Five images of two or three people with ``K`` keypoints, some unlabelled."""
    rng = np.random.default_rng(seed)
    images, anns = [], []
    for image_id in range(1, 6):
        images.append({"id": image_id, "width": 300, "height": 300})
        for _ in range(int(rng.integers(2, 4))):
            x, y = rng.uniform(10, 140, 2)
            w, h = rng.uniform(40, 150, 2)
            kps = np.stack([rng.uniform(x, x + w, K), rng.uniform(y, y + h, K), np.full(K, 2)], 1)
            kps[rng.random(K) < 0.2] = 0
            anns.append({"id": len(anns) + 1, "image_id": image_id,
                         "category_id": category["id"], "iscrowd": 0, "bbox": [x, y, w, h],
                         "area": w * h, "num_keypoints": int((kps[:, 2] > 0).sum()),
                         "keypoints": kps.flatten().tolist()})  # fmt: skip
    return {"images": images, "annotations": anns, "categories": [category]}


def _results(data: dict, seed: int = 1) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for a in data["annotations"]:
        kps = np.asarray(a["keypoints"], dtype=float).reshape(K, 3)
        kps[:, :2] += rng.normal(0, 4.0, (K, 2))
        kps[:, 2] = 1.0
        out.append({"image_id": a["image_id"], "category_id": a["category_id"],
                    "keypoints": kps.flatten().tolist(), "bbox": a["bbox"],
                    "score": float(rng.uniform(0.2, 1))})  # fmt: skip
    return out


def _cocoeval(data: dict, results: list[dict], sigmas) -> list[float]:
    """pycocotools' keypoint stats with ``sigmas``, without cgalib."""
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = copy.deepcopy(data)
        gt.createIndex()
        ev = COCOeval(gt, gt.loadRes(copy.deepcopy(results)), "keypoints")
        ev.params.kpt_oks_sigmas = np.asarray(sigmas)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats.tolist()


def test_custom_sigmas_score_as_cocoeval_with_those_sigmas():
    data = _ground_truth(BODY14_CATEGORY)
    results = _results(data)
    ours = list(coco_keypoint_ap(data, results).values())
    assert ours == _cocoeval(data, results, BODY14_CATEGORY["sigmas"])
    loose = [0.2] * K
    assert list(coco_keypoint_ap(data, results, sigmas=loose).values()) == _cocoeval(
        data, results, loose
    )
    assert ours != _cocoeval(data, results, loose)  # the sigmas matter
    metric = CocoKeypointAP(data, sigmas=loose)
    metric.update(results, image_ids=range(1, 6))
    assert list(metric.compute().values()) == _cocoeval(data, results, loose)


def test_a_set_without_sigmas_scores_with_the_default_and_warns():
    category = {k: v for k, v in BODY14_CATEGORY.items() if k != "sigmas"}
    data = _ground_truth(category)
    results = _results(data)
    gt = load_coco(data)
    assert gt.sigma_source == "default" and gt.sigmas == (DEFAULT_OKS_SIGMA,) * K
    with pytest.warns(KeypointSetWarning, match="not comparable to published numbers"):
        ours = list(coco_keypoint_ap(gt, results).values())
    assert ours == _cocoeval(data, results, [DEFAULT_OKS_SIGMA] * K)
    with pytest.raises(ValueError, match="13 values for 14 keypoints"):
        coco_keypoint_ap(gt, results, sigmas=[0.1] * 13)


def test_categories_read_together_are_scored_as_one_class():
    cat = {**BODY14_CATEGORY, "id": 3, "name": "cat"}
    dog = {**BODY14_CATEGORY, "id": 4, "name": "dog"}
    data = _ground_truth(cat)
    for a in data["annotations"][::2]:
        a["category_id"] = 4
    data["categories"].append(dog)
    results = [{**r, "category_id": 3} for r in _results(data)]
    gt = load_coco(data, categories=["cat", "dog"])
    assert "categories 'cat', 'dog' (ids 3, 4) scored as one class (category_id 3)" in (
        gt.report.notes
    )
    merged = copy.deepcopy(data)
    for a in merged["annotations"]:
        a["category_id"] = 3
    merged["categories"] = [cat]
    assert list(coco_keypoint_ap(gt, results).values()) == _cocoeval(
        merged, results, cat["sigmas"]
    )


def test_a_model_reads_a_split_as_its_own_set():
    body = {k: v for k, v in BODY14_CATEGORY.items() if k != "sigmas"}
    data = _ground_truth(body)
    model = create_model("cganet_tnet_d1w16", input_size=64, keypoint_set=BODY14_CATEGORY)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the model's sigmas: no default-sigma warning
        gt = ground_truth_for(model, data)
        coco_keypoint_ap(gt, _results(data))
    assert gt.sigmas == tuple(BODY14_CATEGORY["sigmas"]) and gt.sigma_source == "given"
    coco_model = create_model("cganet_tnet_d1w16", input_size=64)
    with pytest.raises(ValueError, match=r"the model predicts 17 keypoints of 'person' \(nose"):
        ground_truth_for(coco_model, data)
    renamed = copy.deepcopy(data)
    renamed["categories"][0]["keypoints"][0] = "shoulder_l"
    with pytest.warns(UserWarning, match="keypoint 0: 'left_shoulder' vs 'shoulder_l'"):
        ground_truth_for(model, renamed)
