"""CGANet built for a keypoint set: K and the flip map from the set, stored in checkpoints."""

from __future__ import annotations

import json

import pytest
import torch

from cgalib import CGANet, KeypointSet, create_model, create_variant, load_model, save_model
from cgalib.data import BODY14_CATEGORY
from cgalib.registry import build_config

BODY14 = KeypointSet.from_category(BODY14_CATEGORY)


def _small(**kwargs):
    return create_model("cganet_tnet_d1w16", input_size=64, **kwargs)


def test_the_builder_takes_k_and_the_flip_map_from_the_set():
    net = _small(keypoint_set=BODY14).eval()
    assert net.keypoint_set == BODY14 and net.num_keypoints == 14
    assert net.keypoint_head.num_outputs == 14
    assert build_config(net)["kwargs"]["keypoint_set"] == BODY14.to_dict()  # recorded as JSON
    json.dumps(build_config(net))
    flipped = create_variant(net, flip_test=True)
    with torch.no_grad():
        out = flipped(torch.rand(1, 3, 64, 64))[0]
    assert out["keypoints"].shape[1:] == (14, 3)


def test_coco_is_the_default_set_of_17_keypoints():
    net = _small()
    assert net.keypoint_set == KeypointSet.coco() and net.keypoint_head.num_outputs == 17
    assert "keypoint_set" not in build_config(net)["kwargs"]  # COCO's is the builder default


def test_a_checkpoint_round_trip_keeps_the_set(tmp_path):
    net = _small(keypoint_set=BODY14.to_dict())
    save_model(net, tmp_path / "model.pt")
    loaded = load_model(tmp_path / "model.pt", pose_model=True)
    assert loaded.keypoint_set == BODY14 and loaded.keypoint_set.sigmas == BODY14.sigmas
    assert loaded.keypoint_set.flip_index == BODY14.flip_index
    torch.testing.assert_close(loaded.state_dict(), net.state_dict())


def test_the_set_is_the_only_carrier_of_k_and_the_flip_map():
    for removed in ({"num_keypoints": 17}, {"flip_index": list(range(17))}):
        with pytest.raises(ValueError, match=f"takes no argument '{next(iter(removed))}'"):
            _small(**removed)
    coco = _small()
    with pytest.raises(ValueError, match="keypoint head outputs 17 keypoints but the keypoint_set "
                                         "has 14 keypoints"):  # fmt: skip
        CGANet(coco.backbone, coco.dense_heads, coco.keypoint_head, coco.postprocess,
               keypoint_set=BODY14)  # fmt: skip
    with pytest.raises(AttributeError):
        coco.keypoint_set = BODY14
