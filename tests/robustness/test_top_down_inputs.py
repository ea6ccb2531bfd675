"""Robustness of the top-down pipeline: person boxes, crops at the border, annotations read
for crops, and the models given to the predictor (detections files: test_detections.py)."""

from __future__ import annotations

import json

import pytest
import torch

from cgalib import Predictor, TNet, TopDownPose, create_model, save_model
from cgalib.data import CocoKeypoints, PersonCrops, make_synthetic_coco
from cgalib.eval import evaluate_coco

from top_down_helpers import OracleTopDown, crop_queue, write_toy_set

IMAGE = torch.zeros(3, 120, 160, dtype=torch.uint8)


def _one_line(err: pytest.ExceptionInfo) -> str:
    message = str(err.value)
    assert "\n" not in message
    return message


def _tiny_topdown(**kwargs):
    return create_model("topdown_tnet_d1w16", backbone_kwargs={"num_blocks": 1}, **kwargs)


def test_boxes_of_the_wrong_shape():
    """predict() gets person boxes of shape (3, 2) for the second image.

    It fails with one line naming image 1 and the accepted shapes (N, 4) and (N, 5)."""
    predictor = Predictor(OracleTopDown([]), device="cpu")
    with pytest.raises(ValueError) as err:
        predictor.predict([IMAGE, IMAGE], boxes=[torch.zeros(0, 4), torch.zeros(3, 2)])
    assert "boxes of image 1 must be (N, 4) xyxy or (N, 5)" in _one_line(err)


def test_boxes_with_nan():
    """predict() gets a person box with a NaN coordinate.

    It fails with one line naming the image instead of cropping an undefined region."""
    predictor = Predictor(OracleTopDown([]), device="cpu")
    with pytest.raises(ValueError) as err:
        predictor.predict(IMAGE, boxes=torch.tensor([[0.0, 0.0, float("nan"), 9.0]]))
    assert "boxes of image 0 hold non-finite values" in _one_line(err)


def test_no_boxes_and_no_detector():
    """predict() is called without boxes on a predictor built without a detector.

    It fails with one line saying to pass detector=... or boxes=..."""
    with pytest.raises(ValueError) as err:
        Predictor(OracleTopDown([]), device="cpu").predict(IMAGE)
    assert "detector=" in _one_line(err) and "boxes=" in str(err.value)


def test_person_box_touching_the_image_corner():
    """A person box starts at the image's top-left corner, so most of its padded crop lies outside the image.

    The crop is padded with zeros, the keypoints map back to their image pixels exactly,
    and a keypoint predicted outside the image is clipped to the image's edge."""
    box = torch.tensor([[0.0, 0.0, 30.0, 70.0, 1.0]])
    kps = torch.zeros(1, 17, 3)
    kps[0, :, 0], kps[0, :, 1], kps[0, :, 2] = (
        torch.linspace(0, 29, 17),
        torch.linspace(0, 69, 17),
        2,
    )
    queue = crop_queue({0: box}, {0: kps}, (256, 192))
    queue[0][0, :2] = torch.tensor([0.0, 0.0])  # the nose predicted in the crop's corner
    (person,) = Predictor(OracleTopDown(queue), device="cpu").predict(IMAGE, boxes=box)
    got = torch.tensor(person["keypoints"]).reshape(17, 3)
    torch.testing.assert_close(got[1:, :2], kps[0, 1:, :2], atol=1e-3, rtol=0)
    assert got[0, :2].tolist() == [0.0, 0.0]  # outside the image: clipped, not lost


def test_zero_size_detection_box():
    """A detector reports a box of zero width and height.

    The box is cropped as a region of at least one pixel; the person gets a pose and a
    score like any other, and nothing fails."""
    predictor = Predictor(_tiny_topdown(), device="cpu", score_threshold=0)
    (person,) = predictor.predict(IMAGE, boxes=torch.tensor([[50.0, 40.0, 50.0, 40.0, 0.3]]))
    assert len(person["keypoints"]) == 51 and 0 <= person["score"] <= 0.3


def test_top_down_checkpoint_given_as_the_detector(tmp_path):
    """A top-down checkpoint is passed where the detector checkpoint belongs (boxes=topdown.pt).

    Evaluation stops before predicting with one line saying the detector must be a
    model that finds people on its own, such as CGANet."""
    images, ann_file, _ = write_toy_set(tmp_path)
    save_model(_tiny_topdown(), tmp_path / "topdown.pt")
    with pytest.raises(ValueError) as err:
        evaluate_coco(_tiny_topdown(), images, ann_file, boxes=tmp_path / "topdown.pt",
                      device="cpu", progress=False)  # fmt: skip
    assert "finds people on its own (e.g. CGANet); TopDownPose needs" in _one_line(err)


def test_cganet_given_person_boxes():
    """A CGANet (a model that finds people in whole images) is given person boxes to predict from.

    Prediction fails with one line saying the model finds the people itself and to leave
    out the boxes."""
    with pytest.raises(ValueError) as err:
        Predictor(create_model("cganet_tnet_d1w16", input_size=128), device="cpu").predict(
            IMAGE, boxes=[[10.0, 10.0, 50.0, 90.0]]
        )
    assert "CGANet finds the people in whole images itself; leave out boxes" in _one_line(err)


def test_annotation_with_50_keypoint_numbers(tmp_path):
    """An annotation of the training set has a keypoint list of 50 numbers for a 17-keypoint category.

    Loading the set (before any crop is listed) fails with one line naming the annotation
    file, the annotation id and the expected 51 numbers."""
    paths = make_synthetic_coco(tmp_path, num_train=1, num_val=0, size=64, min_height=30)
    data = json.loads(paths["train_ann"].read_text())
    data["annotations"][0]["keypoints"] = data["annotations"][0]["keypoints"][:50]
    paths["train_ann"].write_text(json.dumps(data))
    ann_id = data["annotations"][0]["id"]
    with pytest.raises(ValueError) as err:
        PersonCrops(CocoKeypoints(paths["train_images"], paths["train_ann"]))
    message = _one_line(err)
    assert message.startswith(f"{paths['train_ann']}: annotation {ann_id} has 50 keypoint values")
    assert "expected 51" in message


def test_letterboxed_set_given_for_crops(tmp_path):
    """A CocoKeypoints built with input_size (letterboxed images) is given to PersonCrops.

    It fails with one line saying crops need the original pixels and to build the set
    without input_size."""
    paths = make_synthetic_coco(tmp_path, num_train=1, num_val=0, size=64, min_height=30)
    with pytest.raises(ValueError) as err:
        PersonCrops(CocoKeypoints(paths["train_images"], paths["train_ann"], input_size=64))
    assert "without input_size" in _one_line(err)


def test_keypoint_set_with_a_left_point_but_no_right_one():
    """A top-down model is built for a keypoint set whose names have a left point without its right partner.

    Construction fails with one line naming the unpaired keypoint and how to give the flip
    map, instead of training a flip that maps it to itself."""
    names = {"keypoints": ["nose", "left_eye", "right_eye", "left_ear"]}
    with pytest.raises(ValueError) as err:
        TopDownPose(TNet(depth=1, width=16, num_blocks=1), keypoint_set=names)
    message = _one_line(err)
    assert "left_ear" in message and "flip_index" in message


def test_whole_image_targets_given_to_the_top_down_model():
    """A top-down model is trained with whole-image targets (a list of per-image dicts), as the single model's data pipeline makes them.

    The first step fails with one line saying the model trains on person crops and naming
    PersonCrops, collate_person_crops and TopDownAugmentation."""
    model = _tiny_topdown(input_size=[64, 64]).train()
    targets = [{"boxes": torch.zeros(1, 4), "keypoints": torch.zeros(1, 17, 3)}] * 2
    with pytest.raises(ValueError) as err:
        model(torch.rand(2, 3, 64, 64), targets)
    message = _one_line(err)
    assert "got a list" in message and "PersonCrops" in message
