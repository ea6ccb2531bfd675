"""The model contract: the input rule, the facts every registered pose model declares, and
the check at public boundaries."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cgalib import KeypointSet, create_model, list_models
from cgalib.models import InputRule, PoseModel, check_outputs, check_pose_model

POSE_MODELS = list_models("cganet_*") + list_models("topdown_*")
SMALL = ["cganet_tnet_d1w16", "cganet_tnet_d1w16_seg", "topdown_tnet_d1w16"]


def test_input_rule_sizes():
    rule = InputRule((256, 192))
    assert rule.size == (256, 192) and rule.side == 256 and rule.multiple == 32
    assert rule.resized(None) is rule
    assert rule.resized(128).size == (128, 128)
    assert rule.resized([160, 96]) == InputRule((160, 96))
    square = InputRule.square_side(512)
    assert square.square and square.size == (512, 512)
    assert InputRule((24, 16), multiple=8).resized((16, 8)).size == (16, 8)


@pytest.mark.parametrize(
    ("size", "message"),
    [
        (100, r"input_size 100x100: every side must be a positive multiple of 32 \(e\.g\. 128x128\)"),
        ((256, 190), r"input_size 256x190: .* \(e\.g\. 256x192\)"),
        (0, "positive multiple of 32"),
        (-64, "positive multiple of 32"),
        (128.0, "must be one side or"),
        ((128, 96, 3), "must be one side or"),
        (True, "must be one side or"),
        ("512", "must be one side or"),
    ],
)
def test_input_rule_refuses_sizes_with_one_line(size, message):
    with pytest.raises(ValueError, match=message):
        InputRule((256, 192)).resized(size)


def test_a_square_rule_takes_one_side():
    with pytest.raises(ValueError, match=r"--input-size 256x192: this model takes one side"):
        InputRule.square_side(512).resized((256, 192), "--input-size")
    with pytest.raises(ValueError, match="needs equal sides"):
        InputRule((256, 192), square=True)


@pytest.mark.parametrize(
    ("side", "picture", "expected"),
    [
        (192, (100, 80), 192),  # a smaller picture is enlarged to the training side
        (192, (192, 192), 192),
        (192, (300, 200), 288),  # its own longer side, to the nearest multiple of 32
        (192, (10, 303), 288),  # 303 / 32 = 9.47: down
        (192, (10, 304), 320),  # 9.5: up
        (192, (384, 384), 384),
        (192, (480, 640), 384),  # at most twice the training side
        (192, (3000, 4000), 384),
        (512, (480, 640), 640),  # a COCO photo at its own size
        (512, (1080, 1920), 1024),
    ],
)
def test_the_side_that_suits_a_picture(side, picture, expected):
    assert InputRule.square_side(side).side_for_picture(*picture) == expected


def test_check_outputs():
    assert check_outputs(("masks", "keypoints")) == ("masks", "keypoints")
    for bad in ((), ("keypoints", "keypoints"), ("boxes",)):
        with pytest.raises(ValueError, match="once each"):
            check_outputs(bad)


class _Minimal(PoseModel):
    """A pose model of one's own: the base stores and checks the facts."""

    needs_boxes = True

    def __init__(self, **kwargs) -> None:
        super().__init__(input_rule=InputRule((64, 48), multiple=16), **kwargs)
        self.conv = nn.Conv2d(3, 1, 1)

    def prediction_names(self):
        return ("keypoints",)

    def predict_batch(self, images):
        self.check_images(images, "person crops")
        return {"keypoints": torch.zeros(len(images), len(self.keypoint_set), 3)}


def test_the_base_class_stores_and_checks_the_facts():
    model = _Minimal(keypoint_set=None)
    assert model.keypoint_set == KeypointSet.coco() and model.num_keypoints == 17
    assert model.outputs == ("keypoints",) and not model.flip_test
    check_pose_model(model, "a caller")
    masks_only = _Minimal(keypoint_set=None, outputs=("masks",))
    assert masks_only.num_keypoints == 0
    with pytest.raises(ValueError, match="once each"):
        _Minimal(keypoint_set=None, outputs=("boxes",))
    with pytest.raises(AttributeError, match="has no setter"):
        model.keypoint_set = None
    assert "input_size=64x48" in repr(model)


def test_check_images_names_the_model_and_the_fix():
    model = _Minimal(keypoint_set=None)
    for images, message in [
        (torch.rand(3, 64, 48), r"_Minimal expects person crops \(B, 3, H, W\), got \(3, 64, 48\)"),
        (torch.zeros(1, 3, 64, 48, dtype=torch.uint8), "float person crops in 0..1, got torch.uint8"),
        (torch.rand(1, 3, 60, 48), r"multiples of 16 \(e\.g\. 64x48\), got 60x48"),
    ]:
        with pytest.raises(ValueError, match=message):
            model.predict_batch(images)


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (nn.Linear(2, 2), "Linear has no keypoint_set"),
        ("a string", "str is not a torch module"),
    ],
)
def test_check_pose_model_says_what_is_missing(model, message):
    with pytest.raises(TypeError, match=f"Predictor needs a pose model .*; {message}"):
        check_pose_model(model, "Predictor")


@pytest.mark.parametrize("name", POSE_MODELS)
def test_every_registered_pose_model_carries_the_contract(name):
    model = create_model(name)
    check_pose_model(model, "test")
    assert model.keypoint_set == KeypointSet.coco()
    assert model.needs_boxes == name.startswith("topdown_")
    assert model.input_rule.square == (not model.needs_boxes)
    expected = ("masks",) if name.endswith("_seg") else ("keypoints",)
    assert model.outputs == expected


@pytest.mark.parametrize("name", SMALL)
def test_predict_batch_returns_its_declared_names(name):
    torch.manual_seed(0)
    model = create_model(name).eval()
    size = model.input_rule.resized(64 if not model.needs_boxes else (64, 32)).size
    with torch.no_grad():
        out = model.predict_batch(torch.rand(2, 3, *size))
    assert tuple(out) == model.prediction_names()
    keypoints = out.get("keypoints")
    if keypoints is not None:
        people = () if model.needs_boxes else (model.postprocess.max_detections,)
        assert keypoints.shape == (2, *people, 17, 3)
