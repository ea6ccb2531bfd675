"""TopDownPose: builders, sizes, shapes, gradients, decoding, errors; the flip test, fixed
settings, a keypoint set and what the checkpoint records; training with the library's loop."""

import csv

import pytest
import torch
from torch import nn

from cgalib import (
    KeypointSet,
    TNet,
    TopDownPose,
    create_model,
    create_variant,
    list_models,
    load_model,
    save_model,
)
from cgalib.codecs import decode_roi_heatmaps, roi_keypoint_targets
from cgalib.data import (
    CocoKeypoints,
    PersonCrops,
    TopDownAugmentation,
    collate_person_crops,
    make_synthetic_coco,
)
from cgalib.engine import train_model
from cgalib.registry import build_config
from cgalib.utils import count_macs, count_parameters
from cgalib.utils.coco_meta import FLIP_INDEX

from helpers import BODY14, requires_cuda


def _centre_points(k: int) -> KeypointSet:
    """``k`` keypoints without sides (each its own mirror), for heads of another ``K``."""
    return KeypointSet(tuple(f"point{i}" for i in range(k)), sigmas=(0.05,) * k)


def _tiny(**kwargs) -> TopDownPose:
    return TopDownPose(TNet(depth=1, width=16, num_blocks=1, stem_blocks=1), **kwargs)


def _keypoints(batch=4, h=64, w=64, k=17, seed=1):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(batch, k, 2, generator=g) * torch.tensor([w - 8.0, h - 8.0]) + 4
    vis = torch.full((batch, k, 1), 2.0)
    vis[0, :3] = 0  # some unlabelled keypoints
    return torch.cat([xy, vis], -1)


def test_builders_are_registered():
    assert list_models("topdown_*") == [
        "topdown_tnet_d1w16",
        "topdown_tnet_d3w64",
        "topdown_tnet_d3w96",
    ]
    assert create_model("topdown_tnet_d1w16").input_rule.size == (128, 96)
    assert create_model("topdown_tnet_d3w64").input_rule.size == (256, 192)
    assert create_model("topdown_tnet_d3w64").needs_boxes


def test_d3w64_size_is_near_the_paper():
    model = create_model("topdown_tnet_d3w64").eval()
    params = count_parameters(model) / 1e6
    assert params == pytest.approx(24.7, rel=0.05)  # paper Table 4: 24.7M
    gmacs = count_macs(model, torch.rand(1, 3, 256, 192)) / 1e9
    assert gmacs == pytest.approx(7.2, rel=0.03)  # paper Table 4: 7.2 GFLOPs


def test_head_is_sized_from_the_backbone_feature_info():
    model = _tiny(keypoint_set=_centre_points(5))
    channels = model.backbone.feature_info.channels()
    assert [c.in_channels for c in model.head.convs] == channels
    assert {c.out_channels for c in model.head.convs} == {5}


def test_shapes_train_and_eval():
    model = _tiny()
    x = torch.rand(2, 3, 256, 192)
    assert model.heatmaps(x).shape == (2, 17, 64, 48)
    losses = model(x, _keypoints(2, 256, 192))
    assert set(losses) == {"km"} and losses["km"].shape == () and torch.isfinite(losses["km"])
    model.eval()
    with torch.no_grad():
        out = model(x)
    assert out.shape == (2, 17, 3)
    assert ((out[..., 2] >= 0) & (out[..., 2] <= 1)).all()
    assert ((out[..., 0] >= 0) & (out[..., 0] <= 192)).all()
    assert ((out[..., 1] >= 0) & (out[..., 1] <= 256)).all()


@pytest.mark.parametrize("depth", [1, 2])
def test_gradient_reaches_every_parameter(depth):
    """The pyramid head reads every level, so no part of the last stage is dead weight."""
    model = TopDownPose(TNet(depth=depth, width=16, num_blocks=1, stem_blocks=1))
    with torch.no_grad():  # undo the zero inits that block gradients on the first step
        for p in model.parameters():
            if not p.any():
                p.normal_(0, 0.05)
    model(torch.rand(2, 3, 64, 64), _keypoints(2))["km"].backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.any()]
    assert missing == []
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())


def test_every_coarse_level_changes_the_heatmaps():
    model = _tiny().eval()
    feats = model.backbone(model.preprocess(torch.rand(1, 3, 64, 64)))
    base = model.head(feats)
    for level in range(1, 4):
        nudged = list(feats)
        nudged[level] = feats[level] + 1.0
        assert not torch.allclose(model.head(nudged), base)


def test_unlabelled_batch_is_a_zero_loss_with_gradients():
    model = _tiny()
    kps = _keypoints(2)
    kps[..., 2] = 0
    loss = model(torch.rand(2, 3, 64, 64), kps)["km"]
    loss.backward()
    assert loss.item() == 0.0 and model.head.convs[0].weight.grad is not None


def test_loss_decreases_on_a_tiny_crop_set():
    torch.manual_seed(0)
    model = _tiny(keypoint_set=_centre_points(4))
    images, kps = torch.rand(2, 3, 64, 64), _keypoints(2, k=4)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    losses = []
    for _ in range(10):
        loss = model(images, kps)["km"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_decode_round_trip_of_the_target_heatmap():
    """Keypoints -> Gaussian targets -> the model's decoding returns them within a cell."""
    model = _tiny().eval()
    kps = _keypoints(3, 256, 192, seed=3)
    images = torch.zeros(3, 3, 256, 192)
    target, weight = roi_keypoint_targets(kps, model.crop_boxes(images), (64, 48))
    model.heatmaps = lambda x: torch.logit(target, eps=1e-6)  # the perfect prediction
    out = model(images)
    labelled = weight > 0
    err = (out[..., :2] - kps[..., :2]).abs()[labelled]
    assert err.max() <= model.output_stride / 2 + 1e-4  # within half a cell per axis
    assert torch.allclose(out[..., 2][labelled], torch.ones(()), atol=1e-4)


def test_bad_inputs_are_clear():
    model = _tiny()
    with pytest.raises(ValueError, match=r"person crops \(B, 3, H, W\)"):
        model(torch.rand(3, 256, 192), _keypoints(1, 256, 192))
    with pytest.raises(ValueError, match="multiples of 32"):
        model.eval()(torch.rand(1, 3, 250, 192))
    with pytest.raises(ValueError, match="float person crops"):
        model(torch.zeros(1, 3, 256, 192, dtype=torch.uint8))
    model.train()
    with pytest.raises(ValueError, match=r"keypoints \(2, 17, 3\)"):
        model(torch.rand(2, 3, 64, 64), torch.rand(2, 17, 2))
    with pytest.raises(ValueError, match="needs keypoints"):
        model(torch.rand(2, 3, 64, 64))


def test_bad_construction_is_clear():
    class Stride8(nn.Module):
        feature_info = TNet(depth=1, width=16).feature_info.__class__((8,), (8,))

    with pytest.raises(ValueError, match="stride-4"):
        TopDownPose(Stride8())
    with pytest.raises(ValueError, match="feature_info"):
        TopDownPose(nn.Identity())
    with pytest.raises(ValueError, match="multiple of 32"):
        _tiny(input_size=(250, 192))


@requires_cuda
def test_cpu_cuda_parity():
    model = _tiny().eval()
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        cpu = model.heatmaps(x)
        gpu = model.cuda().heatmaps(x.cuda()).cpu()
    torch.testing.assert_close(cpu, gpu, atol=1e-3, rtol=1e-3)


# -------------------- the flip test, fixed settings, the keypoint set, what the checkpoint records
def test_flip_test_is_the_average_of_the_two_flipped_passes():
    torch.manual_seed(0)
    plain = _tiny().eval()
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


def test_settings_are_fixed_and_variants_are_built():
    model = create_model("topdown_tnet_d1w16", backbone_kwargs={"num_blocks": 1})
    with pytest.raises(AttributeError):
        model.flip_test = True
    variant = create_variant(model, flip_test=True)
    assert variant.flip_test and not model.flip_test
    torch.testing.assert_close(variant.head.convs[0].weight, model.head.convs[0].weight)


def test_the_flip_map_is_the_keypoint_sets():
    hand = KeypointSet(("wrist", "L_thumb", "R_thumb"), sigmas=(0.03,) * 3)
    model = _tiny(keypoint_set=hand, flip_test=True).eval()
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


def test_the_builder_takes_k_and_the_flip_map_from_the_set(tmp_path):
    net = create_model("topdown_tnet_d1w16", input_size=(64, 32), keypoint_set=BODY14)
    assert net.keypoint_set == BODY14 and net.num_keypoints == 14
    assert {c.out_channels for c in net.head.convs} == {14}
    assert build_config(net)["kwargs"]["keypoint_set"] == BODY14.to_dict()
    assert create_model("topdown_tnet_d1w16").keypoint_set == KeypointSet.coco()
    save_model(net, tmp_path / "model.pt")
    loaded = load_model(tmp_path / "model.pt", flip_test=True).eval()
    assert loaded.keypoint_set == BODY14 and loaded.flip_test
    assert loaded(torch.rand(2, 3, 64, 32)).shape == (2, 14, 3)
    assert create_variant(net, flip_shift=1).keypoint_set == BODY14
    with pytest.raises(ValueError, match="takes no argument 'num_keypoints'"):
        create_model("topdown_tnet_d1w16", keypoint_set=BODY14, num_keypoints=17)


# ------- training with the library's loop (PersonCrops, collate_person_crops, TopDownAugmentation)
def test_train_model_runs_a_few_top_down_steps_and_saves_a_loadable_model(tmp_path):
    paths = make_synthetic_coco(tmp_path / "data", num_train=6, num_val=0, size=96, min_height=40)
    people = PersonCrops(CocoKeypoints(paths["train_images"], paths["train_ann"]))
    torch.manual_seed(0)
    model = create_model(
        "topdown_tnet_d1w16",
        input_size=[64, 64],
        backbone_kwargs={"num_blocks": 1, "stem_blocks": 1},
    )
    augment = TopDownAugmentation(
        crop_size=model.input_rule.size, flip_index=FLIP_INDEX, flip_prob=0.5, seed=0
    )
    out = train_model(
        model, people, collate_person_crops, tmp_path / "run", epochs=2, batch_size=4,
        augment=augment, optimizer="adamw", lr=1e-3, warmup_steps=0, num_workers=0,
    )  # fmt: skip
    rows = list(csv.DictReader((tmp_path / "run" / "metrics.csv").open()))
    assert int(rows[-1]["step"]) == 2 * (len(people) // 4) and float(rows[-1]["km"]) > 0
    loaded = load_model(out)
    assert loaded.input_rule.size == (64, 64) and loaded.keypoint_set.flip_index == FLIP_INDEX
    with torch.no_grad():
        assert loaded(torch.rand(2, 3, 64, 64)).shape == (2, 17, 3)


def test_the_keypoint_decoder_is_a_part_the_checkpoint_records(tmp_path):
    net = create_model("topdown_tnet_d1w16", input_size=(64, 32), backbone_kwargs={"num_blocks": 1})
    dark = {"blur_kernel": 5, "stencil": 2, "border": "clamp", "max_shift": None}
    variant = create_variant(net, keypoint_decoder=dark).eval()
    assert variant.keypoint_decoder.to_dict() == {"refine": "dark", **dark}
    x = torch.rand(2, 3, 64, 32)
    with torch.no_grad():
        probs = variant.probabilities(x)
        expected = decode_roi_heatmaps(probs, variant.crop_boxes(x), logits=False, **dark)
        torch.testing.assert_close(variant(x), expected)
    save_model(variant, tmp_path / "model.pt")
    loaded = load_model(tmp_path / "model.pt")
    assert loaded.keypoint_decoder.to_dict() == variant.keypoint_decoder.to_dict()
    quarter = load_model(tmp_path / "model.pt", keypoint_decoder={"refine": "quarter"})
    assert quarter.keypoint_decoder.refine == "quarter"
    with pytest.raises(ValueError, match="stencil"):
        create_variant(net, keypoint_decoder={"stencil": 5})
