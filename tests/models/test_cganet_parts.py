"""CGANet as a composition of parts: the backbone seam, fixed settings, variants, one box
extension for inference and training, the names that are gone."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from cgalib import (
    CGANet,
    CGANetCriterion,
    CGANetPostprocess,
    DenseHeads,
    FeatureInfo,
    ROIGuider,
    create_model,
    create_variant,
    load_model,
    save_model,
)
from cgalib.losses import jitter_boxes
from cgalib.postprocess import (
    AmbiguityAlleviation,
    DichotomyExtendArea,
    FixedExtendArea,
    NoExtension,
    fixed_extend_area,
)


class TinyBackbone(nn.Module):
    """Not TNet: three strided convolutions that only expose ``feature_info``."""

    def __init__(self, timm_style: bool = False) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            [
                nn.Conv2d(3, 8, 3, stride=4, padding=1),
                nn.Conv2d(8, 12, 3, stride=2, padding=1),
                nn.Conv2d(12, 16, 3, stride=2, padding=1),
            ]
        )
        levels = [(8, 4), (12, 8), (16, 16)]
        if timm_style:  # what timm models hold: a list of dicts
            self.feature_info = [{"num_chs": c, "reduction": s} for c, s in levels]
        else:
            self.feature_info = FeatureInfo([c for c, _ in levels], [s for _, s in levels])

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = []
        for conv in self.convs:
            x = torch.relu(conv(x))
            out.append(x)
        return out


def _compose(backbone: nn.Module, extension=None) -> CGANet:
    info = FeatureInfo.of(backbone)
    extension = extension if extension is not None else DichotomyExtendArea()
    head = ROIGuider(info.channels(), info.reduction(), input_size=128, channels=(8, 16, 32),
                     head_channels=8)  # fmt: skip
    return CGANet(
        backbone,
        DenseHeads(info.channels(0), 8),
        head,
        CGANetPostprocess(extension, AmbiguityAlleviation(), max_detections=5),
        CGANetCriterion(extension),
        input_size=128,
    )


def _targets(n: int = 2) -> list[dict[str, torch.Tensor]]:
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
    model = _compose(TinyBackbone(timm_style))
    assert model.dense_heads.center.heatmap[0].in_channels == 8  # sized from level 0
    assert model.keypoint_head.in_channels == (8, 12, 16)
    losses = model.train()(torch.rand(2, 3, 128, 128), _targets())
    assert set(losses) == {"det", "wh", "offset", "line_x", "line_y", "km"}
    sum(losses.values()).backward()
    assert all(p.grad is not None for p in model.backbone.parameters())
    with torch.no_grad():
        out = model.eval()(torch.rand(1, 3, 128, 128))[0]
    assert out["keypoints"].shape == (5, 17, 3) and out["boxes"].shape == (5, 4)


def test_feature_info_has_timms_accessors():
    info = FeatureInfo([8, 12], [4, 8])
    assert info.channels() == [8, 12] and info.reduction() == [4, 8]
    assert info.channels(1) == 12 and info.reduction(0) == 4
    assert info.get_dicts(keys=["num_chs"]) == [{"num_chs": 8}, {"num_chs": 12}]
    assert len(info) == 2 and list(info)[1] == {"level": 1, "num_chs": 12, "reduction": 8}
    with pytest.raises(ValueError, match="one stride per level"):
        FeatureInfo([8, 12], [4])
    with pytest.raises(ValueError, match="has no feature_info"):
        FeatureInfo.of(nn.Identity())


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


def test_training_rois_skip_unlabelled_and_empty_people():
    crit = CGANetCriterion(NoExtension(), jitter_scale=0.0, jitter_shift=0.0)
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [5.0, 5.0, 5.0, 20.0], [1.0, 1.0, 9.0, 9.0]])
    kps = torch.ones(3, 17, 3)
    kps[2, :, 2] = 0  # nobody labelled
    lines = torch.zeros(1, 8, 8)
    rois, keypoints = crit.training_rois([{"boxes": boxes, "keypoints": kps}], lines, lines)
    assert rois[0].tolist() == [[0.0, 0.0, 10.0, 10.0]] and keypoints.shape == (1, 17, 3)


def test_create_variant_copies_the_weights_into_a_checked_new_model():
    torch.manual_seed(0)
    base = create_model("cganet_tnet_d1w16", input_size=128).eval()
    variant = create_variant(base, box_extension="none", flip_test=True)
    assert variant is not base and variant.flip_test and not base.flip_test
    assert isinstance(variant.postprocess.box_extension, NoExtension)
    assert variant.build_config["kwargs"]["box_extension"] == "none"
    x = torch.rand(1, 3, 128, 128)
    with torch.no_grad():
        _, dense_a = base.forward_dense(x)
        _, dense_b = variant.forward_dense(x)
    for key in dense_a:
        assert torch.equal(dense_a[key], dense_b[key])
    with pytest.raises(ValueError, match="box_extension must be dichotomy, fixed or none"):
        create_variant(base, box_extension="huge")
    with pytest.raises(ValueError, match="does not fit"):
        create_variant(base, head_channels=16)  # changes the dense heads' shapes
    with pytest.raises(ValueError, match="records no builder"):
        create_variant(_compose(TinyBackbone()))


def test_load_model_overrides(tmp_path):
    torch.manual_seed(0)
    model = create_model("cganet_tnet_d1w16", input_size=128)
    save_model(model, tmp_path / "m.pt")
    flipped = load_model(tmp_path / "m.pt", flip_test=True)
    assert flipped.flip_test and not model.flip_test
    for key, value in model.state_dict().items():
        assert torch.equal(flipped.state_dict()[key], value), key


def test_a_model_without_criterion_infers_but_does_not_train():
    model = _compose(TinyBackbone())
    inference_only = CGANet(
        model.backbone, model.dense_heads, model.keypoint_head, model.postprocess, input_size=128
    )
    with pytest.raises(ValueError, match="no criterion"):
        inference_only.train()(torch.rand(1, 3, 128, 128), _targets(1))
    with torch.no_grad():
        assert len(inference_only.eval()(torch.rand(1, 3, 128, 128))) == 1


def test_bad_parts_are_clear():
    backbone = TinyBackbone()
    model = _compose(backbone)
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
