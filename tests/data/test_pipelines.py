"""training_pipeline: the model's contract picks whole letterboxed images or person crops,
sized by its input rule, flipped with its keypoint set."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from cgalib.data import (
    CocoKeypoints,
    PersonCrops,
    PoseAugmentation,
    TopDownAugmentation,
    TrainingPipeline,
    collate_letterboxed,
    collate_person_crops,
    make_synthetic_coco,
    training_pipeline,
)
from cgalib.registry import create_model

TINY = {"backbone_kwargs": {"num_blocks": 0, "stem_blocks": 0}}


@pytest.fixture(scope="module")
def coco17(tmp_path_factory):
    paths = make_synthetic_coco(tmp_path_factory.mktemp("coco17"), 2, 0, size=96, min_height=40)
    return CocoKeypoints(paths["train_images"], paths["train_ann"])


@pytest.fixture(scope="module")
def body14(tmp_path_factory):
    root = tmp_path_factory.mktemp("body14")
    paths = make_synthetic_coco(root, 2, 0, size=96, min_height=40, keypoints="body14")
    return paths


def test_a_bottom_up_model_trains_on_whole_images_letterboxed_to_its_side(coco17):
    model = create_model("cganet_tnet_d1w16", input_size=64, **TINY)
    pipeline = training_pipeline(model, coco17)
    assert isinstance(pipeline, TrainingPipeline) and pipeline.collate_fn is collate_letterboxed
    assert isinstance(pipeline.dataset, CocoKeypoints) and pipeline.dataset.input_size == 64
    assert coco17.input_size is None  # the given set is unchanged
    augment = pipeline.augment
    assert isinstance(augment, PoseAugmentation) and augment.output_size == 64
    assert augment.flip_index.tolist() == list(model.keypoint_set.flip_index)
    images, targets = pipeline.collate_fn([pipeline.dataset[0], pipeline.dataset[1]])
    out, _ = augment(images, targets)
    assert images.shape == (2, 3, 64, 64) and out.shape == (2, 3, 64, 64)


def test_a_top_down_model_trains_on_person_crops_of_its_size(coco17):
    model = create_model("topdown_tnet_d1w16", input_size=(64, 32), **TINY)
    pipeline = training_pipeline(model, coco17, augment_kwargs={"flip_prob": 1.0})
    assert isinstance(pipeline.dataset, PersonCrops) and pipeline.collate_fn is collate_person_crops
    augment = pipeline.augment
    assert isinstance(augment, TopDownAugmentation) and augment.crop_size == (64, 32)
    assert augment.flip_index == model.keypoint_set.flip_index and augment.flip_prob == 1.0
    assert augment.upper_body == model.keypoint_set.upper_body


def test_the_flip_map_and_upper_body_are_the_models_keypoint_sets(body14):
    people = CocoKeypoints(body14["train_images"], body14["train_ann"])
    keypoints = people.keypoint_set
    model = create_model("topdown_tnet_d1w16", input_size=(64, 32), keypoint_set=keypoints, **TINY)
    augment = training_pipeline(model, people).augment
    assert len(keypoints) == 14 and augment.flip_index == keypoints.flip_index
    assert augment.upper_body == keypoints.upper_body
    bottom_up = create_model("cganet_tnet_d1w16", input_size=64, keypoint_set=keypoints, **TINY)
    flip = training_pipeline(bottom_up, people).augment.flip_index
    assert flip.tolist() == list(keypoints.flip_index)


def test_half_body_crops_of_a_set_without_an_upper_body_are_refused(body14, tmp_path):
    data = json.loads(body14["train_ann"].read_text())
    for category in data["categories"]:
        category.pop("upper_body", None)
        category.pop("lower_body", None)
    ann = tmp_path / "ann.json"
    ann.write_text(json.dumps(data))
    people = CocoKeypoints(body14["train_images"], ann)
    model = create_model(
        "topdown_tnet_d1w16", input_size=(64, 32), keypoint_set=people.keypoint_set, **TINY
    )
    assert training_pipeline(model, people).augment.upper_body  # COCO's default, unused
    with pytest.raises(ValueError) as err:
        training_pipeline(model, people, augment=False, augment_kwargs={"half_body_prob": 0.3})
    assert str(err.value).startswith(
        f"half-body crops need the upper-body keypoints of {ann}'s 14 "
    )
    given = training_pipeline(
        model, people, augment_kwargs={"half_body_prob": 0.3, "upper_body": [0, 1]}
    )
    assert given.augment.upper_body == (0, 1)


def test_without_augmentation_and_on_a_device(coco17):
    model = create_model("cganet_tnet_d1w16", input_size=64, **TINY)
    assert training_pipeline(model, coco17, augment=False).augment is None
    augment = training_pipeline(model, coco17, device=torch.device("cpu")).augment
    assert augment.flip_index.device == torch.device("cpu")


def test_a_module_that_is_not_a_pose_model_is_refused(coco17):
    with pytest.raises(TypeError, match=r"^training_pipeline needs a pose model .*Linear has no"):
        training_pipeline(nn.Linear(2, 2), coco17)
