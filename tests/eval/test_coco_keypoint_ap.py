import contextlib
import io
import json

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from cgalib.eval import KEYPOINT_METRICS, coco_keypoint_ap, format_metrics


def _gt(tmp_path, rng):
    images, anns = [], []
    for img_id in (1, 2, 3):
        images.append({"id": img_id, "file_name": f"{img_id}.jpg", "width": 200, "height": 200})
        for _ in range(2):
            x, y = rng.uniform(10, 100, 2)
            w, h = rng.uniform(30, 90, 2)
            kps = np.stack(
                [rng.uniform(x, x + w, 17), rng.uniform(y, y + h, 17), np.full(17, 2)], 1
            )
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": img_id,
                    "category_id": 1,
                    "iscrowd": 0,
                    "bbox": [x, y, w, h],
                    "area": w * h,
                    "num_keypoints": 17,
                    "keypoints": kps.flatten().tolist(),
                }
            )
    data = {
        "images": images,
        "annotations": anns,
        "categories": [
            {"id": 1, "name": "person", "keypoints": [str(i) for i in range(17)], "skeleton": []}
        ],
    }
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(data))
    return path, anns


def _noisy_results(anns, rng, sigma):
    results = []
    for a in anns:
        kps = np.asarray(a["keypoints"], dtype=float).reshape(17, 3)
        kps[:, :2] += rng.normal(0, sigma, (17, 2))
        kps[:, 2] = 1.0
        results.append(
            {
                "image_id": a["image_id"],
                "category_id": 1,
                "keypoints": kps.flatten().tolist(),
                "score": float(rng.uniform(0.2, 1)),
            }
        )
    return results


def test_identical_to_pycocotools(tmp_path):
    rng = np.random.default_rng(0)
    path, anns = _gt(tmp_path, rng)
    results = _noisy_results(anns, rng, sigma=3.0)
    ours = coco_keypoint_ap(path, results)
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(path))
        ev = COCOeval(gt, gt.loadRes(results), "keypoints")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert list(ours) == list(KEYPOINT_METRICS)
    np.testing.assert_array_equal(np.array(list(ours.values())), ev.stats)
    assert 0 < ours["AP"] < 1


def test_perfect_results_score_one_and_accept_a_coco_object(tmp_path):
    rng = np.random.default_rng(1)
    path, anns = _gt(tmp_path, rng)
    res_file = tmp_path / "results.json"
    res_file.write_text(json.dumps(_noisy_results(anns, rng, sigma=0.0)))
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(path))
    metrics = coco_keypoint_ap(gt, res_file)
    assert metrics["AP"] == pytest.approx(1.0)
    assert metrics["AR"] == pytest.approx(1.0)


def test_empty_results_and_bad_inputs(tmp_path):
    path, _ = _gt(tmp_path, np.random.default_rng(2))
    assert coco_keypoint_ap(path, []) == dict.fromkeys(KEYPOINT_METRICS, 0.0)
    with pytest.raises(ValueError, match="missing from the ground truth"):
        coco_keypoint_ap(
            path, [{"image_id": 99, "category_id": 1, "keypoints": [0] * 51, "score": 1}]
        )
    with pytest.raises(FileNotFoundError):
        coco_keypoint_ap(tmp_path / "nope.json", [])
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not a valid COCO"):
        coco_keypoint_ap(tmp_path / "bad.json", [])


def test_format_metrics_table():
    table = format_metrics({"AP": 0.1234, "AR": 1.0})
    assert table.splitlines()[2] == "| value | 0.123 | 1.000 |"
