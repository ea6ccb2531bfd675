"""One evaluation loop for every model kind: a top-down model's boxes from the GT, a file or
a detector; the images checked as training checks them; a model's keypoint set decides
what a split is read as (ground_truth_for)."""

from __future__ import annotations

import copy
import json
import warnings

import pytest
import torch
from PIL import Image

from cgalib import Predictor, create_model, load_model, save_model
from cgalib.data import BODY14_CATEGORY
from cgalib.eval import (
    KEYPOINT_METRICS,
    coco_ap,
    coco_keypoint_ap,
    evaluate_coco,
    ground_truth_for,
    predict_coco,
)

from helpers import keypoint_set_ground_truth, keypoint_set_results
from top_down_helpers import OracleTopDown, ground_truth_queue, write_toy_set


def test_a_perfect_model_on_ground_truth_boxes_scores_ap_1(tmp_path):
    images, ann_file, anns = write_toy_set(tmp_path)
    oracle = OracleTopDown(ground_truth_queue(ann_file, (256, 192)))
    metrics, results = evaluate_coco(
        oracle, images, ann_file, boxes="gt", device="cpu", batch_size=4, progress=False
    )
    assert oracle.seen == len(oracle.queue) == sum(a["num_keypoints"] > 0 for a in anns)
    assert metrics["AP"] == pytest.approx(1.0) and metrics["AR"] == pytest.approx(1.0)
    assert {r["image_id"] for r in results} == {a["image_id"] for a in anns}


def test_a_detections_file_gives_the_boxes(tmp_path):
    images, ann_file, anns = write_toy_set(tmp_path)
    # the ground-truth boxes as a detector's output, one weak stray box added at the end
    dets = [
        {"image_id": a["image_id"], "category_id": 1, "bbox": a["bbox"], "score": 0.9}
        for a in anns
        if a["num_keypoints"] > 0
    ]
    dets.append({"image_id": 34, "category_id": 1, "bbox": [5, 5, 40, 80], "score": 0.01})
    dets.append({"image_id": 3, "category_id": 18, "bbox": [5, 5, 40, 80], "score": 0.99})  # a dog
    path = tmp_path / "dets.json"
    path.write_text(json.dumps(dets))
    queue = ground_truth_queue(ann_file, (256, 192))
    queue.append(torch.zeros(17, 3))  # the stray box (image 34, the last image)
    oracle = OracleTopDown(queue)
    metrics, results = evaluate_coco(oracle, images, ann_file, boxes=path, device="cpu",
                                     progress=False)  # fmt: skip
    assert oracle.seen == len(queue)  # the dog was skipped
    assert metrics["AP"] == pytest.approx(1.0)
    assert sum(r["image_id"] == 34 for r in results) == 1


def test_a_detector_checkpoint_gives_the_boxes(tmp_path):
    images, ann_file, _ = write_toy_set(tmp_path)
    detector = create_model("cganet_tnet_d1w16", input_size=128, max_detections=3)
    save_model(detector, tmp_path / "cganet.pt")
    model = create_model("topdown_tnet_d1w16", backbone_kwargs={"num_blocks": 1})
    metrics, results = evaluate_coco(
        model, images, ann_file, boxes=tmp_path / "cganet.pt", device="cpu", progress=False
    )
    assert set(metrics) >= {"AP", "AP50", "AP75"}
    assert len(results) == 3 * 6  # three boxes on each of the six images
    assert all(len(r["keypoints"]) == 51 for r in results)


def test_unknown_box_sources_are_clear(tmp_path):
    images, ann_file, _ = write_toy_set(tmp_path)
    model = OracleTopDown([])
    with pytest.raises(FileNotFoundError, match="no such file"):
        evaluate_coco(model, images, ann_file, boxes="nope.json", progress=False)
    with pytest.raises(ValueError, match="boxes must be 'gt'"):
        evaluate_coco(model, images, ann_file, boxes=3, progress=False)


def test_a_ready_predictor_brings_its_detector(tmp_path):
    images, ann_file, _ = write_toy_set(tmp_path)
    detector = create_model("cganet_tnet_d1w16", input_size=128, max_detections=2)
    model = create_model("topdown_tnet_d1w16", backbone_kwargs={"num_blocks": 1})
    predictor = Predictor(model, detector=detector, device="cpu", score_threshold=0)
    _, results = evaluate_coco(predictor, images, ann_file, progress=False)
    assert len(results) == 2 * 6
    with pytest.raises(TypeError, match="leave out batch_size"):
        evaluate_coco(predictor, images, ann_file, batch_size=2, progress=False)


def test_where_boxes_do_not_belong_or_are_missing(tmp_path):
    images, ann_file, _ = write_toy_set(tmp_path)
    cganet = create_model("cganet_tnet_d1w16", input_size=128)
    with pytest.raises(ValueError, match="CGANet finds the people in whole images itself; leave "
                                         "out boxes"):  # fmt: skip
        evaluate_coco(cganet, images, ann_file, boxes="gt", progress=False)
    with pytest.raises(ValueError, match="OracleTopDown needs person boxes: give boxes='gt'"):
        evaluate_coco(OracleTopDown([]), images, ann_file, progress=False)


def test_an_image_resized_after_annotation_is_an_error_not_a_zero(tmp_path):
    """Evaluation reads images as training does: a file whose size is not the annotated one
    would score every person in the wrong place; it stops, naming the file."""
    images, ann_file, anns = write_toy_set(tmp_path)
    name = next(p for p in sorted(images.iterdir()))
    Image.new("RGB", (160, 160)).save(name)  # annotated 320x320
    cganet = create_model("cganet_tnet_d1w16", input_size=128)
    with pytest.raises(ValueError, match=rf"image {name} is 160x160 as displayed .* annotation "
                                         "says 320x320"):  # fmt: skip
        evaluate_coco(cganet, images, ann_file, device="cpu", progress=False)


def test_a_model_reads_a_split_as_its_own_set():
    body = {k: v for k, v in BODY14_CATEGORY.items() if k != "sigmas"}
    data = keypoint_set_ground_truth(body)
    model = create_model("cganet_tnet_d1w16", input_size=64, keypoint_set=BODY14_CATEGORY)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the model's sigmas: no default-sigma warning
        gt = ground_truth_for(model, data)
        coco_keypoint_ap(gt, keypoint_set_results(data))
    assert gt.sigmas == tuple(BODY14_CATEGORY["sigmas"]) and gt.sigma_source == "given"
    coco_model = create_model("cganet_tnet_d1w16", input_size=64)
    with pytest.raises(ValueError, match=r"the model predicts 17 keypoints of 'person' \(nose"):
        ground_truth_for(coco_model, data)
    renamed = copy.deepcopy(data)
    renamed["categories"][0]["keypoints"][0] = "shoulder_l"
    with pytest.warns(UserWarning, match="keypoint 0: 'left_shoulder' vs 'shoulder_l'"):
        ground_truth_for(model, renamed)


def test_evaluate_coco_scores_its_results_as_pycocotools_does(tiny):
    ann = tiny / "data" / "annotations" / "person_keypoints_val.json"
    model = load_model(tiny / "run" / "model.pt")
    kwargs = {"input_size": 128, "device": "cpu", "batch_size": 2, "progress": False}
    metrics, results = evaluate_coco(model, tiny / "data" / "val", ann, box_ap=True, **kwargs)
    assert results == predict_coco(model, tiny / "data" / "val", ann, **kwargs)
    boxes = {f"box_{k}": v for k, v in coco_ap(ann, results, "bbox").items()}
    assert metrics == {**coco_keypoint_ap(ann, results), **boxes}
    assert list(evaluate_coco(model, tiny / "data" / "val", ann, **kwargs)[0]) == list(
        KEYPOINT_METRICS
    )
    with pytest.raises(TypeError, match="batch"):
        evaluate_coco(model, tiny / "data" / "val", ann, batch=2)


def test_evaluation_keeps_every_candidate(tmp_path):
    """evaluate_coco of a model scores every candidate (COCO ranks them), although a default
    Predictor would leave the low-scored ones out; a ready Predictor that leaves people out
    is scored as given, with a warning saying its AP is lower than the model's."""
    images, ann_file, _ = write_toy_set(tmp_path)
    torch.manual_seed(0)
    model = create_model("cganet_tnet_d1w16", input_size=128, max_detections=5)
    _, results = evaluate_coco(model, images, ann_file, device="cpu", progress=False)
    assert len(results) == 5 * 6
    assert min(r["score"] for r in results) < 0.3
    with pytest.warns(UserWarning, match=r"leaves out people scored below 0.3, which COCO AP"):
        _, shown = evaluate_coco(Predictor(model, device="cpu"), images, ann_file,
                                 progress=False)  # fmt: skip
    assert len(shown) == sum(r["score"] >= 0.3 for r in results)
