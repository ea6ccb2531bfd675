"""TopDownPose's flip test, its fixed settings and what its checkpoint records."""

from __future__ import annotations

import pytest
import torch

from cgalib import (
    KeypointSet,
    TNet,
    TopDownPose,
    create_model,
    create_variant,
    load_model,
    save_model,
)
from cgalib.codecs import decode_roi_heatmaps, roi_keypoint_targets, whole_crop_boxes
from cgalib.postprocess import average_flipped_heatmaps
from cgalib.utils.coco_meta import FLIP_INDEX


def _tiny(**kwargs) -> TopDownPose:
    return TopDownPose(TNet(depth=1, width=16, num_blocks=1, stem_blocks=1), **kwargs).eval()


def test_flip_test_is_the_average_of_the_two_flipped_passes():
    torch.manual_seed(0)
    plain = _tiny()
    with torch.no_grad():  # a head that is not left/right symmetric
        for conv in plain.head.convs:
            conv.weight.normal_(0, 0.5)
    flipped = TopDownPose(plain.backbone, plain.head, flip_test=True).eval()
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        a = plain.heatmaps(x).sigmoid()
        b = plain.heatmaps(x.flip(-1)).sigmoid().flip(-1)[:, list(FLIP_INDEX)]
        expected = (a + b) / 2
        got = flipped.probabilities(x)
        torch.testing.assert_close(got, expected)
        assert not torch.allclose(got, a, atol=1e-3)  # the mirror pass did change something
        torch.testing.assert_close(
            flipped(x), decode_roi_heatmaps(expected, flipped.crop_boxes(x), logits=False)
        )


def test_pixel_centred_heatmaps_need_no_flip_shift():
    """The target of a mirrored crop, flipped back, is the crop's own target: no shift."""
    g = torch.Generator().manual_seed(1)
    w, h = 192, 256
    kps = torch.cat([torch.rand(4, 17, 2, generator=g) * torch.tensor([w - 1.0, h - 1.0]),
                     torch.full((4, 17, 1), 2.0)], -1)  # fmt: skip
    mirrored = kps[:, list(FLIP_INDEX)].clone()
    mirrored[..., 0] = w - 1 - mirrored[..., 0]  # the mirror image's keypoints
    box = whole_crop_boxes(4, (h, w))  # TopDownPose's crop box
    target, _ = roi_keypoint_targets(kps, box, (64, 48))
    target_m, _ = roi_keypoint_targets(mirrored, box, (64, 48))
    exact = average_flipped_heatmaps(target, target_m, FLIP_INDEX, shift=0)
    decoded = decode_roi_heatmaps(exact, box, logits=False)
    alone = decode_roi_heatmaps(target, box, logits=False)
    torch.testing.assert_close(decoded, alone)
    shifted = decode_roi_heatmaps(
        average_flipped_heatmaps(target, target_m, FLIP_INDEX, shift=1), box, logits=False
    )
    # HRNet's one-cell shift would move every keypoint right: two equal peaks a cell apart,
    # decoded 1 to 4 crop pixels right of the truth
    inner = (alone[..., 0] > 4) & (alone[..., 0] < w - 4)  # the border columns differ
    moved = (shifted[..., 0] - alone[..., 0])[inner]
    assert (moved >= 1).all() and (moved <= 4).all()


def test_settings_are_fixed_and_variants_are_built():
    model = create_model("topdown_tnet_d1w16", backbone_kwargs={"num_blocks": 1})
    with pytest.raises(AttributeError):
        model.flip_test = True
    variant = create_variant(model, flip_test=True)
    assert variant.flip_test and not model.flip_test
    torch.testing.assert_close(variant.head.convs[0].weight, model.head.convs[0].weight)


def test_the_flip_map_is_the_keypoint_sets():
    hand = KeypointSet(("wrist", "L_thumb", "R_thumb"), sigmas=(0.03,) * 3)
    model = _tiny(keypoint_set=hand, flip_test=True)
    assert model.keypoint_set.flip_index == (0, 2, 1) and model.flip_test
    with pytest.raises(TypeError, match="unexpected keyword argument 'flip_index'"):
        _tiny(flip_index=[0] * 17)  # the class itself; builders say it in one line


def test_the_checkpoint_records_input_size_and_keypoint_set(tmp_path):
    hand = KeypointSet(("wrist", "L_thumb", "R_thumb"), sigmas=(0.03,) * 3)
    model = create_model(
        "topdown_tnet_d1w16",
        input_size=[160, 128],
        keypoint_set=hand,
        backbone_kwargs={"num_blocks": 1},
    )
    save_model(model, tmp_path / "model.pt")
    loaded = load_model(tmp_path / "model.pt")
    assert loaded.input_rule.size == (160, 128)
    assert loaded.num_keypoints == 3 and loaded.keypoint_set == hand
    assert load_model(tmp_path / "model.pt", flip_test=True).flip_test
    ckpt = torch.load(tmp_path / "model.pt", weights_only=True)
    assert ckpt["build_config"]["kwargs"]["keypoint_set"] == hand.to_dict()
