"""The evaluation copy of a ground truth: renumbered ids, dropped people, filled fields,
points at (0, 0) unlabelled, categories read together as one class, the training
warnings."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from cgalib.data import BODY14_CATEGORY, ORIGIN_POINTS, AnnotationError, AnnotationWarning
from cgalib.eval import CocoGroundTruth, coco_ap, coco_keypoint_ap, load_coco

from helpers import (
    cocoeval_keypoint_stats,
    keypoint_set_ground_truth,
    keypoint_set_results,
    noisy_coco_results,
    write_toy_coco_keypoints,
)


def _raw_pycocotools(data, results, iou_type="keypoints"):
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = copy.deepcopy(data)
        gt.createIndex()
        ev = COCOeval(gt, gt.loadRes(copy.deepcopy(results)), iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats[0]


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    path = tmp_path_factory.mktemp("gt") / "gt.json"
    anns = write_toy_coco_keypoints(path)
    perfect = noisy_coco_results(anns, np.random.default_rng(0), sigma=0.0)
    return json.loads(path.read_text()), perfect


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_any_annotation_ids_score_perfect_predictions_one(toy, data):
    """pycocotools takes a ground-truth id of 0 for "no match"; any unique ids work here."""
    gt, perfect = copy.deepcopy(toy[0]), toy[1]
    n = len(gt["annotations"])
    ids = data.draw(st.lists(st.integers(-(10**9), 10**9), min_size=n, max_size=n, unique=True))
    for ann, new in zip(gt["annotations"], ids):
        ann["id"] = new
    before = copy.deepcopy(gt)
    assert coco_keypoint_ap(gt, perfect)["AP"] == 1.0
    assert coco_ap(gt, perfect, "bbox")["AP"] == 1.0
    assert gt == before  # the caller's dict is unchanged
    notes = load_coco(gt).report.notes
    assert any("renumbered" in note for note in notes) == any(i < 1 for i in ids)


def test_id_zero_is_what_pycocotools_gets_wrong(toy):
    gt, perfect = copy.deepcopy(toy[0]), toy[1]
    for ann in gt["annotations"]:
        ann["id"] -= 1  # 0..N-1, as some converters write them
    assert _raw_pycocotools(gt, perfect) < 0.95
    assert coco_keypoint_ap(gt, perfect)["AP"] == 1.0


def test_clean_files_are_scored_as_pycocotools_scores_them(toy):
    gt, _ = toy
    results = noisy_coco_results(
        gt["annotations"], np.random.default_rng(1), sigma=4.0, false_positives=3
    )
    assert coco_keypoint_ap(gt, results)["AP"] == _raw_pycocotools(gt, results)
    assert load_coco(gt).report.notes == ()


def test_the_copy_keeps_person_annotations_and_leaves_the_source_alone(toy):
    gt = copy.deepcopy(toy[0])
    gt["categories"].append({"id": 2, "name": "dog"})
    gt["annotations"].append({"id": 999, "image_id": 3, "category_id": 2, "bbox": [0, 0, 5, 5]})
    source = COCO()
    source.dataset = gt
    with contextlib.redirect_stdout(io.StringIO()):
        source.createIndex()
    before = copy.deepcopy(gt)
    prepared = load_coco(source)
    assert isinstance(prepared, CocoGroundTruth) and load_coco(prepared) is prepared
    assert prepared.getCatIds() == [1] and 999 not in prepared.anns
    assert prepared.report.other == 1 and "annotations of other categories" in repr(prepared)
    perfect = noisy_coco_results(toy[0]["annotations"], np.random.default_rng(0), sigma=0.0)
    assert coco_keypoint_ap(prepared, perfect)["AP"] == 1.0
    assert gt == before and "ignore" not in source.anns[1]  # pycocotools wrote into copies


def test_missing_iscrowd_area_and_keypoints_are_filled(toy):
    gt, perfect = copy.deepcopy(toy[0]), toy[1]
    for ann in gt["annotations"]:
        del ann["iscrowd"], ann["area"], ann["num_keypoints"]
    gt["annotations"].append({"id": 500, "image_id": 34, "category_id": 1, "bbox": [1, 1, 30, 40]})
    prepared = load_coco(gt)
    assert prepared.anns[500]["keypoints"] == [0] * 51 and prepared.anns[500]["area"] == 1200.0
    n = len(gt["annotations"])
    assert prepared.report.notes == (f"area taken from the box of {n} annotations",)
    assert coco_keypoint_ap(gt, perfect)["AP"] == 1.0  # person 500 has no keypoint: ignored


def test_num_keypoints_is_counted_from_the_keypoints(toy):
    gt, perfect = copy.deepcopy(toy[0]), toy[1]
    gt["annotations"].append(
        {"id": 500, "image_id": 34, "category_id": 1, "iscrowd": 0, "bbox": [1, 1, 30, 40],
         "area": 1200, "num_keypoints": 5, "keypoints": [0] * 51}
    )  # fmt: skip
    assert _raw_pycocotools(gt, perfect) < 1.0  # pycocotools trusts num_keypoints: a miss
    assert coco_keypoint_ap(gt, perfect)["AP"] == 1.0
    assert "num_keypoints of 1 annotations disagreed" in load_coco(gt).report.notes[0]


def test_dropped_people_are_left_out_with_a_warning(toy):
    gt, perfect = copy.deepcopy(toy[0]), toy[1]
    n = len(gt["annotations"])
    gt["annotations"][0]["bbox"][3] = 0
    with pytest.warns(
        UserWarning, match=rf"1 of {n} people are left out .*zero-area box: 1, e.g. annotation 1"
    ):
        prepared = load_coco(gt)
    assert 1 not in prepared.anns and prepared.report.kept == n - 1
    others = [r for r in perfect if r is not perfect[0]]
    with pytest.warns(UserWarning):
        assert coco_keypoint_ap(gt, others)["AP"] == 1.0


def test_what_a_ground_truth_cannot_score(toy):
    gt = copy.deepcopy(toy[0])
    for ann in gt["annotations"]:
        ann["keypoints"] = [0] * 51
    with pytest.raises(AnnotationError, match="no person with a labelled keypoint .* would be -1"):
        coco_keypoint_ap(gt, toy[1])
    assert coco_ap(gt, toy[1], "bbox")["AP"] == 1.0  # boxes are still scored
    more = len(gt["annotations"]) - 1
    with pytest.raises(
        AnnotationError, match=rf"annotation 1 \(and {more} more\) has no segmentation"
    ):
        coco_ap(gt, [], "segm")
    gt["annotations"] = []
    with pytest.raises(AnnotationError, match="no person to score against .* bbox AP would be -1"):
        coco_ap(gt, toy[1], "bbox")


def test_files_are_read_by_the_one_reader(toy, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"^annotation file not found: .*nope.json$"):
        load_coco(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"images": [\n  {"id": 1,}\n]}')
    with pytest.raises(AnnotationError, match=r"bad.json is not valid JSON: .*line 2 column"):
        load_coco(bad)
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(toy[0]))
    from_file, from_dict = load_coco(path).report, load_coco(toy[0]).report
    assert from_file.source == str(path) and from_dict.source == "the dataset dict"
    assert dataclasses.replace(from_dict, source=str(path)) == from_file


def test_image_info_files_load_for_prediction_only(toy):
    info = {k: v for k, v in copy.deepcopy(toy[0]).items() if k != "annotations"}
    with pytest.raises(AnnotationError, match="has no 'annotations' list"):
        load_coco(info)
    gt = load_coco(info, require_annotations=False)  # what predict_coco reads test-dev with
    assert gt.category_id == 1 and len(gt.imgs) == len(info["images"]) and not gt.anns
    with pytest.raises(AnnotationError, match="no person with a labelled keypoint"):
        coco_keypoint_ap(gt, [])


def test_categories_read_together_are_scored_as_one_class():
    cat = {**BODY14_CATEGORY, "id": 3, "name": "cat"}
    dog = {**BODY14_CATEGORY, "id": 4, "name": "dog"}
    data = keypoint_set_ground_truth(cat)
    for a in data["annotations"][::2]:
        a["category_id"] = 4
    data["categories"].append(dog)
    results = [{**r, "category_id": 3} for r in keypoint_set_results(data)]
    gt = load_coco(data, categories=["cat", "dog"])
    assert "categories 'cat', 'dog' (ids 3, 4) scored as one class (category_id 3)" in (
        gt.report.notes
    )
    merged = copy.deepcopy(data)
    for a in merged["annotations"]:
        a["category_id"] = 3
    merged["categories"] = [cat]
    assert list(coco_keypoint_ap(gt, results).values()) == cocoeval_keypoint_stats(
        merged, results, cat["sigmas"]
    )


def test_points_at_the_origin_are_unlabelled_in_the_copy(toy):
    """CVAT's and Label Studio's unlabelled points, (0, 0, 2), are read as training reads
    them: (0, 0, 0) in the copy, num_keypoints counted without them, a note and a warning;
    the same predictions score exactly as on the clean file."""
    clean, perfect = toy
    dirty = copy.deepcopy(clean)
    converted = []
    for ann in dirty["annotations"]:
        k = ann["keypoints"]
        for j in range(0, len(k), 3):
            if k[j + 2] == 0:
                k[j : j + 3] = [0, 0, 2]
                converted.append(ann["id"])
    before = copy.deepcopy(dirty)
    with pytest.warns(
        AnnotationWarning, match=rf"^the dataset dict: {len(converted)} keypoints at"
    ):
        gt = load_coco(dirty)
    assert dirty == before
    assert gt.report.converted == {ORIGIN_POINTS: tuple(sorted(set(converted)))}
    assert gt.report.notes[0].startswith(f"{len(converted)} keypoints at (0, 0) marked labelled")
    reference = load_coco(clean)
    for ann, ref in zip(gt.dataset["annotations"], reference.dataset["annotations"]):
        assert ann["keypoints"] == ref["keypoints"]
        assert ann["num_keypoints"] == ref["num_keypoints"]
    results = noisy_coco_results(clean["annotations"], np.random.default_rng(1), sigma=4.0)
    assert coco_keypoint_ap(gt, results) == coco_keypoint_ap(reference, results)
    assert coco_keypoint_ap(clean, perfect)["AP"] == 1.0


def test_training_warnings_are_given_by_evaluation_too(toy):
    """A suspect box is the same AnnotationWarning line from load_coco as from training."""
    data = copy.deepcopy(toy[0])
    data["annotations"][0]["bbox"][2] += 400  # past the 320-pixel edge
    with pytest.warns(AnnotationWarning) as caught:
        gt = load_coco(data)
    assert [str(w.message) for w in caught] == list(gt.report.warnings())
    n = len(data["annotations"])
    assert (
        f"1 of {n} kept people have a box past the image edge, e.g. annotation 1"
        in (gt.report.warnings()[0])
    )
