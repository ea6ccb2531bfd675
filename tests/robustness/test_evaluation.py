"""Bad evaluation input: ground truth checked as training checks it, results checked before
pycocotools sees them (cgalib.eval: load_coco, coco_ap, CocoKeypointAP, evaluate_coco)."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re

import numpy as np
import pytest
import torch
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from cgalib.data import AnnotationError
from cgalib.eval import CocoKeypointAP, coco_ap, coco_keypoint_ap, evaluate_coco, load_coco

from helpers import StandInModel, noisy_coco_results, write_toy_coco_keypoints

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


class _MustNotRun(StandInModel):
    """A model that fails the test if anything is predicted with it."""

    def predict_batch(self, *args, **kwargs):
        raise AssertionError("a prediction ran before the input was checked")


@pytest.fixture
def toy(tmp_path):
    """The toy ground truth of ``helpers``: ``(path, its dict, perfect results)``."""
    path = tmp_path / "gt.json"
    anns = write_toy_coco_keypoints(path)
    perfect = noisy_coco_results(anns, np.random.default_rng(0), sigma=0.0)
    return path, json.loads(path.read_text()), perfect


@pytest.fixture
def split(tmp_path):
    """A 2-image synthetic validation split at 64 px: ``(image folder, annotation file)``."""
    from cgalib.data import make_synthetic_coco

    paths = make_synthetic_coco(tmp_path / "data", num_train=0, num_val=2, size=64, min_height=16)
    return paths["val_images"], paths["val_ann"]


def _raw_ap(data, results):
    """pycocotools' keypoint AP without cgalib's checks."""
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = copy.deepcopy(data)
        gt.createIndex()
        ev = COCOeval(gt, gt.loadRes(copy.deepcopy(results)), "keypoints")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats[0]


def _refused_everywhere(path, images_dir=None, error=AnnotationError):
    """Every entry point refuses the ground truth, before any prediction; the message."""
    messages = set()
    for call in (
        lambda: coco_keypoint_ap(path, []),
        lambda: CocoKeypointAP(path),
        lambda: evaluate_coco(_MustNotRun(), images_dir or path.parent, path, progress=False),
    ):
        with pytest.raises(error) as err:
            call()
        messages.add(str(err.value))
    assert len(messages) == 1
    message = messages.pop()
    assert "\n" not in message and str(path) in message
    return message


def test_ground_truth_without_annotations(toy):
    """The ground-truth file has no 'annotations' list.

    Every entry point (coco_keypoint_ap, CocoKeypointAP, evaluate_coco) refuses it before
    predicting, naming the file and the missing list, instead of returning -1 everywhere."""
    path, data, _ = toy
    del data["annotations"]
    path.write_text(json.dumps(data))
    assert "has no 'annotations' list" in _refused_everywhere(path)


def test_ground_truth_with_an_empty_image_list(toy):
    """The ground-truth file's 'images' list is empty.

    Every entry point refuses it before predicting: "has an empty 'images' list", instead
    of AP 0.000."""
    path, data, _ = toy
    data["images"] = []
    path.write_text(json.dumps(data))
    assert "has an empty 'images' list" in _refused_everywhere(path)


def test_ground_truth_of_another_category(toy):
    """The ground truth's only category is "dog", with person-like keypoint annotations.

    Every entry point refuses it: "has no categories named 'person'", listing the
    categories, instead of scoring dogs as people."""
    path, data, _ = toy
    data["categories"][0]["name"] = "dog"
    path.write_text(json.dumps(data))
    assert "has no categories named 'person' (categories: ['dog'])" in _refused_everywhere(path)


def test_ground_truth_with_nobody_labelled(toy):
    """No person in the ground truth has a labelled keypoint.

    Keypoint AP refuses it ("no person with a labelled keypoint ... would be -1"); person
    box AP still scores the boxes."""
    path, data, perfect = toy
    for ann in data["annotations"]:
        ann["keypoints"] = [0] * 51
    path.write_text(json.dumps(data))
    assert "no person with a labelled keypoint" in _refused_everywhere(path)
    assert coco_ap(path, perfect, "bbox")["AP"] == 1.0


def test_annotation_id_zero(toy):
    """The ground truth numbers its annotations from 0, as other tools' files do.

    Evaluation renumbers them 1..N in a copy (pycocotools takes an id of 0 for "no match"
    and scores perfect predictions 0.88 instead of 1.0) and says so in the report's notes;
    perfect predictions score exactly 1.0 and the file is unchanged."""
    path, data, perfect = toy
    for ann in data["annotations"]:
        ann["id"] -= 1
    path.write_text(json.dumps(data))
    before = path.read_bytes()
    assert _raw_ap(data, perfect) < 0.95
    assert coco_keypoint_ap(path, perfect)["AP"] == 1.0
    metric = CocoKeypointAP(path, iou_types=("keypoints", "bbox"))
    metric.update(perfect, image_ids=sorted({i["id"] for i in data["images"]}))
    stats = metric.compute()
    assert stats["AP"] == 1.0 and stats["box_AP"] == 1.0
    assert any("renumbered" in note for note in metric.coco_gt.report.notes)
    assert path.read_bytes() == before


def test_ground_truth_keypoint_list_of_wrong_length(toy):
    """One ground-truth keypoint list holds 50 numbers instead of 51.

    Every entry point refuses the file naming the annotation id and the expected 51
    values, instead of an IndexError from inside pycocotools."""
    path, data, _ = toy
    data["annotations"][3]["keypoints"].pop()
    path.write_text(json.dumps(data))
    assert "annotation 4 has 50 keypoint values, expected 51" in _refused_everywhere(path)


def test_ground_truth_with_nan(toy):
    """A ground-truth keypoint coordinate is NaN.

    Every entry point refuses the file naming the annotation id: "has a keypoint that is
    not a finite number"."""
    path, data, _ = toy
    data["annotations"][0]["keypoints"][0] = float("nan")
    path.write_text(json.dumps(data))
    assert "annotation 1 has a keypoint that is not a finite number" in _refused_everywhere(path)


def test_ground_truth_with_duplicate_ids(toy):
    """Two ground-truth annotations share an id.

    Every entry point refuses the file: "annotation 1 is listed twice", instead of
    pycocotools scoring one person twice and the other never."""
    path, data, _ = toy
    data["annotations"][1]["id"] = 1
    path.write_text(json.dumps(data))
    assert "annotation 1 is listed twice (at index 0 and 1)" in _refused_everywhere(path)


def test_ground_truth_with_an_orphan_annotation(toy):
    """A ground-truth annotation names an image that is not in 'images'.

    Every entry point refuses the file naming the annotation id and its image_id."""
    path, data, _ = toy
    data["annotations"][0]["image_id"] = 4
    path.write_text(json.dumps(data))
    assert "annotation 1 has image_id 4, which is not in 'images'" in _refused_everywhere(path)


def test_ground_truth_people_that_training_drops(toy):
    """One ground-truth person has a zero-area box.

    Evaluation leaves that person out, as training does, with a one-line warning counting
    the reason; the other people are scored (perfect predictions: 1.0)."""
    path, data, perfect = toy
    data["annotations"][0]["bbox"][2] = 0
    path.write_text(json.dumps(data))
    n = len(data["annotations"])
    with pytest.warns(UserWarning, match=rf"1 of {n} people are left out .*\(zero-area box: 1"):
        assert coco_keypoint_ap(path, perfect[1:])["AP"] == 1.0


def test_ground_truth_num_keypoints_disagreeing(toy):
    """A ground-truth person with no labelled keypoint says num_keypoints 5.

    Evaluation counts num_keypoints from the keypoint list (pycocotools trusts the field
    and counts the person as missed) and says so in the report's notes."""
    path, data, perfect = toy
    data["annotations"].append(
        {"id": 99, "image_id": 34, "category_id": 1, "iscrowd": 0, "bbox": [9, 9, 40, 80],
         "area": 3200, "num_keypoints": 5, "keypoints": [0] * 51}
    )  # fmt: skip
    path.write_text(json.dumps(data))
    assert _raw_ap(data, perfect) < 1.0
    assert coco_keypoint_ap(path, perfect)["AP"] == 1.0
    assert "num_keypoints of 1 annotations disagreed" in load_coco(path).report.notes[0]


def test_ground_truth_without_iscrowd_and_area(toy):
    """The ground truth's annotations have neither 'iscrowd' nor 'area'.

    Evaluation fills iscrowd 0 and the box's area in its copy (pycocotools raises a
    KeyError) and notes the filled areas; perfect predictions score 1.0."""
    path, data, perfect = toy
    for ann in data["annotations"]:
        del ann["iscrowd"], ann["area"]
    path.write_text(json.dumps(data))
    assert coco_keypoint_ap(path, perfect)["AP"] == 1.0
    assert load_coco(path).report.notes == (
        f"area taken from the box of {len(data['annotations'])} annotations",
    )


def test_results_with_keypoint_lists_of_wrong_length(toy):
    """A result's keypoint list holds 48 numbers.

    coco_keypoint_ap and CocoKeypointAP.update refuse the results naming the result
    index, its image and the expected 51 values."""
    path, _, perfect = toy
    perfect[2]["keypoints"] = perfect[2]["keypoints"][:48]
    where = f"result 2 (image {perfect[2]['image_id']}) has 48 keypoint values, expected 51"
    with pytest.raises(ValueError, match=rf"^{re.escape(where)}"):
        coco_keypoint_ap(path, perfect)
    with pytest.raises(ValueError, match=rf"^{re.escape(where)}"):
        CocoKeypointAP(path).update(perfect)


def test_results_of_another_category(toy):
    """A result has category_id 2 while the person category is 1.

    Scoring refuses it naming the result and the category id to use, instead of leaving
    the result out silently."""
    path, _, perfect = toy
    perfect[0]["category_id"] = 2
    with pytest.raises(
        ValueError, match=r"result 0 .* category_id 2, but the ground truth's person category is 1"
    ):
        coco_keypoint_ap(path, perfect)


def test_results_with_nan(toy):
    """A diverged model produced NaN keypoints in one result.

    Scoring refuses the results naming the result, its image and the count of such
    results, and says to check the model's outputs."""
    path, _, perfect = toy
    perfect[4]["keypoints"][7] = float("nan")
    with pytest.raises(
        ValueError,
        match=r"result 4 \(image \d+\) has a keypoints value that is not a finite number \(1 such",
    ):
        coco_keypoint_ap(path, perfect)


def test_results_of_an_unknown_image(toy):
    """A result names image 99, which the ground truth does not have.

    Scoring refuses it: "results name images missing from the ground truth: [99]"."""
    path, _, perfect = toy
    perfect[0]["image_id"] = 99
    with pytest.raises(ValueError, match=r"missing from the ground truth: \[99\]"):
        coco_keypoint_ap(path, perfect)


def test_results_with_and_without_boxes(toy):
    """Some results carry a bbox and some do not.

    Keypoint AP takes every result's area from its keypoints (pycocotools would decide by
    the first result and fail with a KeyError): the same AP as with no boxes at all."""
    path, _, perfect = toy
    noisy = noisy_coco_results(
        json.loads(path.read_text())["annotations"], np.random.default_rng(3), 4.0
    )
    mixed = [dict(r) for r in noisy]
    for r in mixed[1::2]:
        del r["bbox"]
    without = [{k: v for k, v in r.items() if k != "bbox"} for r in noisy]
    assert coco_keypoint_ap(path, mixed) == coco_keypoint_ap(path, without)


def test_results_file_that_is_not_json(toy, tmp_path):
    """The results file was cut off while writing.

    Scoring fails with one line naming the results file and "is not valid JSON"."""
    path, _, perfect = toy
    res = tmp_path / "results.json"
    res.write_text(json.dumps(perfect)[:300])
    with pytest.raises(ValueError, match=r"results file .*results.json is not valid JSON"):
        coco_keypoint_ap(path, res)


def test_image_ids_not_in_the_ground_truth(toy):
    """coco_keypoint_ap is asked to score image ids 3 and 4, and 4 is not in the ground truth.

    It refuses: "image_ids not in the ground truth: [4]", instead of scoring nothing
    there."""
    path, _, perfect = toy
    with pytest.raises(ValueError, match=r"image_ids not in the ground truth: \[4\]"):
        coco_keypoint_ap(path, perfect, image_ids=[3, 4])


def test_an_image_file_missing_before_evaluation(split):
    """One image of the evaluation split is missing from its folder.

    evaluate_coco raises FileNotFoundError before the first prediction, with the count of
    missing images, the first path and its image id."""
    images_dir, ann = split
    (images_dir / "000001.jpg").unlink()
    with pytest.raises(
        FileNotFoundError, match=r"1 of 2 images listed in .*/000001.jpg \(image 2\)"
    ):
        evaluate_coco(_MustNotRun(), images_dir, ann, progress=False)


def test_person_category_with_another_id(split):
    """The ground truth's person category has id 3, not COCO's 1.

    Predictions carry category_id 3 (read from the file) and are scored; before, every
    result said 1 and the whole split scored 0 or -1."""
    from cgalib.registry import create_model

    images_dir, ann = split
    data = json.loads(ann.read_text())
    data["categories"][0]["id"] = 3
    for a in data["annotations"]:
        a["category_id"] = 3
    data["images"] = data["images"][:1]
    data["annotations"] = [
        a for a in data["annotations"] if a["image_id"] == data["images"][0]["id"]
    ]
    ann.write_text(json.dumps(data))
    torch.manual_seed(0)
    model = create_model("cganet_tnet_d1w16", input_size=64)
    metrics, results = evaluate_coco(
        model, images_dir, ann, input_size=64, device="cpu", progress=False
    )
    assert results and {r["category_id"] for r in results} == {3}
    assert metrics == coco_keypoint_ap(ann, results)
    perfect = [
        {"image_id": a["image_id"], "category_id": 3, "keypoints": a["keypoints"], "score": 1.0}
        for a in data["annotations"]
    ]
    assert coco_keypoint_ap(ann, perfect)["AP"] == 1.0
