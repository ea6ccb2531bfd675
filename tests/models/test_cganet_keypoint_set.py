"""CGANet built for a keypoint set: K and the flip map from the set, stored in checkpoints."""

from __future__ import annotations

import json

import pytest
import torch

from cgalib import CGANet, KeypointSet, create_model, create_variant, load_model, save_model
from cgalib.data import BODY14_CATEGORY

BODY14 = KeypointSet.from_category(BODY14_CATEGORY)


def _small(**kwargs):
    return create_model("cganet_tnet_d1w16", input_size=64, **kwargs)


def test_the_builder_takes_k_and_the_flip_map_from_the_set():
    net = _small(keypoint_set=BODY14).eval()
    assert net.keypoint_set == BODY14 and net.num_keypoints == 14
    assert net.flip_index == BODY14.flip_index
    assert net.build_config["kwargs"]["keypoint_set"] == BODY14.to_dict()  # recorded as JSON
    json.dumps(net.build_config)
    flipped = create_variant(net, flip_test=True)
    with torch.no_grad():
        out = flipped(torch.rand(1, 3, 64, 64))[0]
    assert out["keypoints"].shape[1:] == (14, 3)


def test_coco_is_the_default_set_of_17_keypoints():
    assert _small().keypoint_set == KeypointSet.coco()
    assert _small(num_keypoints=5).keypoint_set is None
    assert _small(num_keypoints=17, flip_index=list(range(17))).keypoint_set is None


def test_a_checkpoint_round_trip_keeps_the_set(tmp_path):
    net = _small(keypoint_set=BODY14.to_dict())
    save_model(net, tmp_path / "model.pt")
    loaded = load_model(tmp_path / "model.pt", expect=CGANet)
    assert loaded.keypoint_set == BODY14 and loaded.keypoint_set.sigmas == BODY14.sigmas
    assert loaded.flip_index == BODY14.flip_index
    torch.testing.assert_close(loaded.state_dict(), net.state_dict())


def test_settings_that_contradict_the_set_are_refused():
    with pytest.raises(ValueError, match="num_keypoints=17 but the keypoint_set has 14"):
        _small(keypoint_set=BODY14, num_keypoints=17)
    with pytest.raises(ValueError, match="differs from the keypoint_set's"):
        _small(keypoint_set=BODY14, flip_index=list(range(14)))
    coco = _small()
    with pytest.raises(ValueError, match="keypoint_set has 14 keypoints but the keypoint head 17"):
        CGANet(coco.backbone, coco.dense_heads, coco.keypoint_head, coco.postprocess,
               keypoint_set=BODY14)  # fmt: skip
    with pytest.raises(AttributeError, match="fixed at construction"):
        coco.keypoint_set = BODY14
