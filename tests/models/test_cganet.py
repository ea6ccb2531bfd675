import pytest
import torch

from cgalib import create_model, create_variant, list_models
from cgalib.codecs import decode_roi_heatmaps, roi_keypoint_targets
from cgalib.models.checkpoint import load_model, save_model
from cgalib.postprocess import average_flipped_outputs, fixed_extend_area
from cgalib.utils import count_parameters

from helpers import requires_cuda

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


def test_flip_test_averages_with_the_mirrored_pass(small):
    a = {
        k: torch.randn(1, c, 4, 6)
        for k, c in (("heatmap", 1), ("line_x", 1), ("line_y", 1), ("wh", 2), ("offset", 2))
    }
    mirrored = {k: v.flip(-1) for k, v in a.items()}
    avg = average_flipped_outputs(a, mirrored)
    for k in ("heatmap", "line_x", "line_y", "wh"):
        torch.testing.assert_close(avg[k], a[k], atol=1e-4, rtol=1e-4)
    assert avg["offset"] is a["offset"]


def test_input_size_sets_roi_sizes_and_is_remembered():
    model = create_model("cganet_tnet_d1w16", input_size=192)
    assert model.input_rule.side == 192 and model.input_rule.square
    assert model.keypoint_head.roi_sizes[0] == (12, 12)
    assert create_model("cganet_tnet_d1w64").input_rule.size == (512, 512)
