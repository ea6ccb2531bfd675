"""CGANet: the registered builders, outputs, losses, switches and errors; its composition of
parts (backbone seam, fixed settings, one box extension); the segmentation builders; a
keypoint set's K and flip map."""

import json
import warnings

import pytest
import torch

from cgalib import (
    CGANet,
    CGANetCriterion,
    CGANetPostprocess,
    KeypointSet,
    create_model,
    create_variant,
    list_models,
)
from cgalib.codecs import decode_roi_heatmaps, roi_keypoint_targets
from cgalib.losses import jitter_boxes
from cgalib.models.checkpoint import load_model, save_model
from cgalib.postprocess import FixedExtendArea, NoExtension, fixed_extend_area
from cgalib.registry import build_config
from cgalib.utils import count_parameters

from helpers import BODY14, TinyBackbone, compose_cganet, people_with_masks, requires_cuda

REQUIRED = [
    "cganet_tnet_d1w64",
    "cganet_tnet_d1w64_cascade",
    "cganet_tnet_d3w96",
    "cganet_tnet_d1w64_roipointer",
]


def _targets(n_images=2, size=256):
    g = torch.Generator().manual_seed(1)
    out = []
    for _ in range(n_images):
        xy = torch.rand(3, 2, generator=g) * size / 2
        wh = 40 + torch.rand(3, 2, generator=g) * size / 3
        boxes = torch.cat([xy, xy + wh], 1)
        kps = torch.rand(3, 17, 2, generator=g) * wh[:, None] + xy[:, None]
        vis = torch.full((3, 17, 1), 2.0)
        vis[0, :5] = 0  # some unlabelled keypoints
        out.append({"boxes": boxes, "keypoints": torch.cat([kps, vis], -1)})
    return out


@pytest.fixture(scope="module")
def small():
    torch.manual_seed(0)
    return create_model("cganet_tnet_d1w16")


def test_required_models_are_registered():
    assert set(REQUIRED) <= set(list_models("cganet_*"))


@pytest.mark.parametrize(
    "name,paper", [("cganet_tnet_d1w64", 20.2e6), ("cganet_tnet_d1w64_cascade", 26.9e6)]
)
def test_parameter_counts_near_the_paper(name, paper):
    assert abs(count_parameters(create_model(name)) / paper - 1) < 0.15


@pytest.mark.parametrize("size", [(256, 256), (192, 320)])
def test_eval_outputs_are_documented_and_finite(small, size):
    small.eval()
    with torch.no_grad():
        out = small(torch.rand(2, 3, *size))
    assert len(out) == 2
    for res in out:
        assert set(res) == {"boxes", "extended_boxes", "scores", "keypoints"}
        assert res["boxes"].shape == (20, 4) and res["keypoints"].shape == (20, 17, 3)
        for v in res.values():
            assert torch.isfinite(v).all()
        s = res["scores"]
        assert (s >= 0).all() and (s <= 1).all() and (s[:-1] >= s[1:]).all()
        assert ((res["keypoints"][..., 2] >= 0) & (res["keypoints"][..., 2] <= 1)).all()
        # extended boxes contain the detected boxes
        assert (res["extended_boxes"][:, :2] <= res["boxes"][:, :2] + 1e-4).all()
        assert (res["extended_boxes"][:, 2:] >= res["boxes"][:, 2:] - 1e-4).all()


def test_train_losses_are_weighted_finite_and_reach_every_parameter():
    torch.manual_seed(0)
    model = create_model("cganet_tnet_d1w16").train()
    with torch.no_grad():  # undo the zero inits that block gradients on the first step
        for p in model.parameters():
            if not p.any():
                p.normal_(0, 0.05)
    losses = model(torch.rand(2, 3, 256, 256), _targets())
    assert set(losses) == {"det", "wh", "offset", "line_x", "line_y", "km"}
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.any()]
    assert not missing


def test_loss_weights_follow_equation_nine(small):
    assert small.criterion.loss_weights == {
        "det": 1.0,
        "wh": 0.1,
        "offset": 1.0,
        "line_x": 1.0,
        "line_y": 1.0,
        "km": 3.0,
        "mask": 1.0,  # the mask loss of the segmentation models (Mask R-CNN's weight)
    }
    torch.manual_seed(0)
    heavy = create_model("cganet_tnet_d1w16", loss_weights={"km": 6.0})
    heavy.load_state_dict(small.state_dict())
    small.train()
    heavy.train()
    x, t = torch.rand(1, 3, 256, 256), _targets(1)
    torch.manual_seed(5)
    a = small(x, t)
    torch.manual_seed(5)
    b = heavy(x, t)
    torch.testing.assert_close(b["km"], 2 * a["km"])
    torch.testing.assert_close(b["det"], a["det"])


def test_batch_without_people_trains(small):
    small.train()
    empty = [{"boxes": torch.zeros(0, 4), "keypoints": torch.zeros(0, 17, 3)}]
    losses = small(torch.rand(1, 3, 256, 256), empty)
    assert losses["km"] == 0 and torch.isfinite(losses["det"])
    sum(losses.values()).backward()


def test_postprocessing_switches(small):
    small.eval()
    x = torch.rand(1, 3, 256, 256)
    with torch.no_grad():
        res = create_variant(small, box_extension="none")(x)[0]
        torch.testing.assert_close(res["extended_boxes"], res["boxes"])
        res = create_variant(small, box_extension="fixed")(x)[0]
        torch.testing.assert_close(res["extended_boxes"], fixed_extend_area(res["boxes"], 0.09))


def test_bad_arguments_are_clear(small):
    with pytest.raises(ValueError, match="box_extension"):
        create_model("cganet_tnet_d1w16", box_extension="huge")
    with pytest.raises(ValueError, match="loss weights"):
        create_model("cganet_tnet_d1w16", loss_weights={"kp": 1.0})
    small.train()
    with pytest.raises(ValueError, match="needs targets"):
        small(torch.rand(1, 3, 256, 256))
    small.eval()
    with pytest.raises(ValueError, match="multiples of 32"):
        small(torch.rand(1, 3, 250, 256))


def test_keypoint_round_trip_through_the_roi_frame(small):
    head = small.keypoint_head
    boxes = torch.tensor([[10.0, 20.0, 110.0, 220.0], [50.5, 5.0, 90.0, 60.0]])
    kps = torch.tensor([[[60.3, 100.7, 2.0]], [[70.0, 40.2, 1.0]]])
    heat, weight = roi_keypoint_targets(kps, boxes, head.output_size, sigma=2.0)
    logits = torch.logit(heat.clamp(1e-4, 1 - 1e-4))
    decoded = decode_roi_heatmaps(logits, boxes)
    cell = (boxes[:, 2:] - boxes[:, :2]) / torch.tensor(head.output_size[::-1])
    assert (cell <= torch.tensor(7.0)).all()
    err = (decoded[:, 0, :2] - kps[:, 0, :2]).abs()
    assert (err <= cell / 2 + 1e-4).all()
    assert weight.tolist() == [[1.0], [1.0]]


def test_save_load_round_trip_is_exact(small, tmp_path):
    small.eval()
    save_model(small, tmp_path / "m.pt", epoch=1)
    loaded = load_model(tmp_path / "m.pt")
    x = torch.rand(1, 3, 256, 256)
    with torch.no_grad():
        a, b = small(x)[0], loaded(x)[0]
    for k in a:
        assert torch.equal(a[k], b[k]), k


@requires_cuda
def test_cpu_cuda_parity(small):
    small.eval()
    x = torch.rand(1, 3, 256, 256)
    with torch.no_grad():
        cpu = small(x)[0]
        gpu = small.cuda()(x.cuda())[0]
    small.cpu()
    torch.testing.assert_close(gpu["scores"].cpu(), cpu["scores"], rtol=1e-3, atol=1e-4)
    torch.testing.assert_close(gpu["boxes"].cpu(), cpu["boxes"], rtol=1e-3, atol=1e-2)


def test_flip_test_keeps_the_output_contract(small):
    """The flipped pass runs end to end and keeps shapes, finiteness and score ranges."""
    small.eval()
    half = torch.rand(1, 3, 256, 128)
    image = torch.cat([half, half.flip(-1)], -1)
    with torch.no_grad():
        plain = small(image)[0]
        flipped = create_variant(small, flip_test=True)(image)[0]
    assert flipped["keypoints"].shape == plain["keypoints"].shape
    assert torch.isfinite(flipped["keypoints"]).all()
    assert ((flipped["keypoints"][..., 2] >= 0) & (flipped["keypoints"][..., 2] <= 1)).all()


def test_input_size_sets_roi_sizes_and_is_remembered():
    model = create_model("cganet_tnet_d1w16", input_size=192)
    assert model.input_rule.side == 192 and model.input_rule.square
    assert model.keypoint_head.roi_sizes[0] == (12, 12)
    assert create_model("cganet_tnet_d1w64").input_rule.size == (512, 512)


# ------------ composition: parts passed in, fixed settings, one box extension, names that are gone
def _tiny_targets(n: int = 2) -> list[dict[str, torch.Tensor]]:
    g = torch.Generator().manual_seed(3)
    out = []
    for _ in range(n):
        xy = torch.rand(2, 2, generator=g) * 60
        boxes = torch.cat([xy, xy + 40 + torch.rand(2, 2, generator=g) * 20], 1)
        kps = torch.rand(2, 17, 2, generator=g) * 40 + xy[:, None]
        out.append({"boxes": boxes, "keypoints": torch.cat([kps, torch.ones(2, 17, 1)], -1)})
    return out


@pytest.mark.parametrize("timm_style", [False, True])
def test_a_backbone_that_only_exposes_feature_info_composes(timm_style):
    torch.manual_seed(0)
    model = compose_cganet(TinyBackbone(timm_style))
    assert model.dense_heads.center.heatmap[0].in_channels == 8  # sized from level 0
    assert model.keypoint_head.in_channels == (8, 12, 16)
    losses = model.train()(torch.rand(2, 3, 128, 128), _tiny_targets())
    assert set(losses) == {"det", "wh", "offset", "line_x", "line_y", "km"}
    sum(losses.values()).backward()
    assert all(p.grad is not None for p in model.backbone.parameters())
    with torch.no_grad():
        out = model.eval()(torch.rand(1, 3, 128, 128))[0]
    assert out["keypoints"].shape == (5, 17, 3) and out["boxes"].shape == (5, 4)


def test_settings_cannot_be_changed_after_construction():
    model = create_model("cganet_tnet_d1w16", input_size=128)
    for name, value in [("flip_test", True), ("input_rule", None), ("keypoint_set", None),
                        ("outputs", ("masks",)), ("max_detections", 5)]:  # fmt: skip
        with pytest.raises(AttributeError, match="has no setter"):
            setattr(model, name, value)
    with pytest.raises(AttributeError):
        model.postprocess.box_extension.ratio = 0.5
    with pytest.raises(AttributeError):
        model.postprocess.ambiguity.beta = 1.0
    assert model.flip_test is False and model.max_detections == 20


def test_inference_and_training_share_one_box_extension():
    model = create_model("cganet_tnet_d1w16", box_extension="fixed", extend_ratio=0.2)
    assert model.criterion.box_extension is model.postprocess.box_extension
    assert isinstance(model.postprocess.box_extension, FixedExtendArea)
    target = {"boxes": torch.tensor([[10.0, 20.0, 50.0, 100.0]]), "keypoints": torch.ones(1, 17, 3)}
    lines = torch.zeros(1, 64, 64)
    torch.manual_seed(7)
    rois, _ = model.criterion.training_rois([target], lines, lines)
    torch.manual_seed(7)
    jittered = jitter_boxes(target["boxes"], 0.15, 0.1)
    torch.testing.assert_close(rois[0], fixed_extend_area(jittered, 0.2))


def test_a_model_without_criterion_infers_but_does_not_train():
    model = compose_cganet(TinyBackbone())
    inference_only = CGANet(
        model.backbone, model.dense_heads, model.keypoint_head, model.postprocess, input_size=128
    )
    with pytest.raises(ValueError, match="no criterion"):
        inference_only.train()(torch.rand(1, 3, 128, 128), _tiny_targets(1))
    with torch.no_grad():
        assert len(inference_only.eval()(torch.rand(1, 3, 128, 128))) == 1


def test_bad_parts_are_clear():
    backbone = TinyBackbone()
    model = compose_cganet(backbone)
    with pytest.raises(TypeError, match="CGANetPostprocess"):
        CGANet(backbone, model.dense_heads, model.keypoint_head, NoExtension())
    with pytest.raises(TypeError, match="BoxExtension"):
        CGANetPostprocess("dichotomy", None)
    with pytest.raises(ValueError, match="multiple of 16"):  # the backbone's largest stride
        CGANet(backbone, model.dense_heads, model.keypoint_head, model.postprocess,
               input_size=100)  # fmt: skip
    with pytest.raises(ValueError, match="unknown loss weights"):
        CGANetCriterion(loss_weights={"kp": 1.0})
    with pytest.raises(ValueError, match="float images in 0..1"):
        model.eval()(torch.zeros(1, 3, 128, 128, dtype=torch.uint8))


def test_the_names_of_older_versions_are_gone():
    with pytest.raises(ModuleNotFoundError):
        import cgalib.targets  # noqa: F401
    model = create_model("cganet_tnet_d1w16", input_size=128)
    for name in ("save", "upgrade_state_dict", "flip_index", "input_size"):
        assert not hasattr(model, name), name
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from cgalib.data import FLIP_INDEX, letterbox  # re-exports, no warning
    assert len(FLIP_INDEX) == 17 and callable(letterbox)


# ---------------------------- segmentation: one mask per box from the same network (paper Table 6)
def test_seg_builder_predicts_one_mask_per_box():
    torch.manual_seed(0)
    model = create_model("cganet_tnet_d1w16_seg", input_size=64)
    assert model.outputs == ("masks",) and model.keypoint_head is None
    assert model.mask_head.num_outputs == 1 and model.num_keypoints == 0
    losses = model.train()(torch.rand(1, 3, 64, 64), people_with_masks(64))
    assert set(losses) == {"det", "wh", "offset", "line_x", "line_y", "mask"}
    sum(losses.values()).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing
    out = model.eval()(torch.rand(2, 3, 64, 64))[0]
    assert "keypoints" not in out and out["masks"].shape == (20, 8, 8)
    assert ((out["masks"] >= 0) & (out["masks"] <= 1)).all()


def test_keypoints_and_masks_in_one_model():
    torch.manual_seed(0)
    model = create_model("cganet_tnet_d1w16", input_size=64, outputs=("keypoints", "masks"))
    assert model.outputs == ("keypoints", "masks")
    losses = model.train()(torch.rand(1, 3, 64, 64), people_with_masks(64))
    assert {"km", "mask"} <= set(losses)
    flipped = CGANet(model.backbone, model.dense_heads, model.keypoint_head, model.postprocess,
                     flip_test=True, input_size=64, mask_head=model.mask_head)  # fmt: skip
    out = flipped.eval()(torch.rand(1, 3, 64, 64))[0]
    assert out["keypoints"].shape == (20, 17, 3) and out["masks"].shape == (20, 8, 8)


def test_keypoint_model_unchanged():
    model = create_model("cganet_tnet_d1w16", input_size=64)
    assert model.outputs == ("keypoints",) and model.mask_head is None
    losses = model.train()(torch.rand(1, 3, 64, 64), people_with_masks(64))
    assert "mask" not in losses and "km" in losses


def test_d1w64_seg_size_is_the_papers():
    model = create_model("cganet_tnet_d1w64_seg")
    params = sum(p.numel() for p in model.parameters()) / 1e6
    assert params == pytest.approx(20.2, rel=0.02)  # paper Table 6: 20.2M


def test_composition_errors():
    model = create_model("cganet_tnet_d1w16_seg", input_size=128)
    with pytest.raises(ValueError, match="keypoint_head, a mask_head or both"):
        CGANet(model.backbone, model.dense_heads, None, model.postprocess)
    kp = create_model("cganet_tnet_d1w16", input_size=128)
    with pytest.raises(ValueError, match="num_outputs=1"):
        CGANet(kp.backbone, kp.dense_heads, None, kp.postprocess, mask_head=kp.keypoint_head)


# -------------------------- a keypoint set: K and the flip map from the set, stored in checkpoints
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
