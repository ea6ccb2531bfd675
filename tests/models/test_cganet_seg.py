"""The segmentation builders: one mask per box from the same network (paper Table 6)."""

from __future__ import annotations

import pytest
import torch

from cgalib import create_model
from cgalib.models import CGANet


def _targets(size: int = 128) -> list[dict]:
    f = size // 64  # the layout of a 128 px image, at 64 or 128 px
    masks = torch.zeros(2, size, size, dtype=torch.bool)
    masks[0, 10 * f : 50 * f, 10 * f : 25 * f] = True
    masks[1, 15 * f : 45 * f, 30 * f : 55 * f] = True
    return [
        {
            "boxes": torch.tensor([[10.0, 10.0, 25.0, 50.0], [30.0, 15.0, 55.0, 45.0]]) * f,
            "keypoints": torch.zeros(2, 17, 3),
            "masks": masks,
        }
    ]


def test_seg_builder_predicts_one_mask_per_box():
    torch.manual_seed(0)
    model = create_model("cganet_tnet_d1w16_seg", input_size=64)
    assert model.outputs == ("masks",) and model.keypoint_head is None
    assert model.mask_head.num_outputs == 1 and model.num_keypoints == 0
    losses = model.train()(torch.rand(1, 3, 64, 64), _targets(64))
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
    losses = model.train()(torch.rand(1, 3, 64, 64), _targets(64))
    assert {"km", "mask"} <= set(losses)
    flipped = CGANet(model.backbone, model.dense_heads, model.keypoint_head, model.postprocess,
                     flip_test=True, input_size=64, mask_head=model.mask_head)  # fmt: skip
    out = flipped.eval()(torch.rand(1, 3, 64, 64))[0]
    assert out["keypoints"].shape == (20, 17, 3) and out["masks"].shape == (20, 8, 8)


def test_keypoint_model_unchanged():
    model = create_model("cganet_tnet_d1w16", input_size=64)
    assert model.outputs == ("keypoints",) and model.mask_head is None
    losses = model.train()(torch.rand(1, 3, 64, 64), _targets(64))
    assert "mask" not in losses and "km" in losses


def test_the_mask_loss_reads_the_masks_in_the_training_rois():
    """Logits that are the RoIAligned masks of the very ROIs score ~0; their negation high."""
    from cgalib.codecs import roi_mask_targets
    from cgalib.losses import CGANetCriterion

    crit = CGANetCriterion(jitter_scale=0.1, jitter_shift=0.1)
    targets = _targets()
    outputs = {k: torch.zeros(1, 2 if k in ("wh", "offset") else 1, 32, 32)
               for k in ("heatmap", "wh", "offset", "line_x", "line_y")}  # fmt: skip

    def perfect(sign):
        def logits(rois):
            gt = roi_mask_targets(targets[0]["masks"], torch.cat(rois), (16, 16))
            return [sign * (gt * 2 - 1)[:, None] * 30]
        return logits

    torch.manual_seed(1)
    good = crit(outputs, targets, (128, 128), None, perfect(1))["mask"]
    torch.manual_seed(1)
    bad = crit(outputs, targets, (128, 128), None, perfect(-1))["mask"]
    assert good.item() < 1e-6 and bad.item() > 10


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
