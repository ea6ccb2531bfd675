"""ONNX export: onnxruntime against eager PyTorch on inputs other than the traced one."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cgalib import create_model, create_variant
from cgalib.export import export_onnx
from cgalib.postprocess import alleviate_ambiguity, heatmap_nms

from helpers import ONNX_SIZE, distinct_cganet, run_onnx, synthetic_images

ort = pytest.importorskip("onnxruntime")

SIZE = ONNX_SIZE
#: Smallest eager gap between values whose order decides a detection or a keypoint.
MIN_GAP = {"scores": 1e-6, "roi_logits": 1e-5}


def _assert_no_near_ties(model, images: torch.Tensor) -> None:
    """Eager PyTorch decides every top-k rank and keypoint argmax by a clear margin."""
    with torch.no_grad():
        features, out = model.forward_dense(images)
        sig = {k: out[k].sigmoid() for k in ("heatmap", "line_x", "line_y")}
        heat = alleviate_ambiguity(sig["heatmap"], sig["line_x"], sig["line_y"])
        top = heatmap_nms(heat).flatten(1).topk(model.max_detections + 1).values
        det = model.postprocess.detect(out)
        logits = model.keypoint_head(features, list(det["extended_boxes"].unbind(0)))
    score_gap = (top[:, :-1] - top[:, 1:]).min().item()
    flat = logits.flatten(2)
    top2 = flat.topk(2, dim=-1).values
    logit_gap = (top2[..., 0] - top2[..., 1]).min().item()
    # the quarter-cell refinement compares the two neighbours of the peak along each axis
    w = logits.shape[-1]
    peak = flat.argmax(-1)
    px, py = peak % w, peak // w
    neighbour_gaps = []
    for dx, dy, inner in ((1, 0, (px > 0) & (px < w - 1)), (0, 1, (py > 0) & (py < w - 1))):
        ahead = flat.gather(-1, ((py + dy) * w + px + dx).clamp(0, w * w - 1)[..., None])
        behind = flat.gather(-1, ((py - dy) * w + px - dx).clamp(0, w * w - 1)[..., None])
        neighbour_gaps.append((ahead - behind)[..., 0].abs()[inner].min().item())
    assert score_gap > MIN_GAP["scores"], f"near-tied center scores ({score_gap:.1e})"
    assert min(logit_gap, *neighbour_gaps) > MIN_GAP["roi_logits"], "near-tied keypoint logits"


@pytest.fixture(scope="module")
def end_to_end(tmp_path_factory):
    """A batch-2 end-to-end export and its model."""
    model = distinct_cganet()
    path = export_onnx(model, tmp_path_factory.mktemp("onnx") / "e2e.onnx", SIZE, batch_size=2)
    return model, path


@pytest.mark.parametrize("order", [(0, 1), (1, 0), (2, 3)])
def test_end_to_end_matches_pytorch(end_to_end, order):
    """Different images (and their order in the batch) than the traced dummy input."""
    model, path = end_to_end
    images = synthetic_images(*order)
    _assert_no_near_ties(model, images)
    boxes, extended, scores, keypoints = run_onnx(path, images)
    with torch.no_grad():
        want = model(images)
    k = model.max_detections
    assert boxes.shape == extended.shape == (2, k, 4) and scores.shape == (2, k)
    assert keypoints.shape == (2, k, 17, 3)
    for b, det in enumerate(want):
        np.testing.assert_allclose(scores[b], det["scores"].numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(boxes[b], det["boxes"].numpy(), rtol=1e-5, atol=1e-3)
        np.testing.assert_allclose(extended[b], det["extended_boxes"].numpy(), atol=1e-3)
        np.testing.assert_allclose(keypoints[b, ..., :2], det["keypoints"][..., :2], atol=1e-3)
        np.testing.assert_allclose(keypoints[b, ..., 2], det["keypoints"][..., 2], atol=1e-5)
    # the sharpened model detects boxes of real size, which DEA extends
    assert (boxes[..., 2:] - boxes[..., :2]).min() > 4
    assert (extended != boxes).any()


def test_dense_only_matches_forward_dense(tmp_path):
    model = distinct_cganet()
    path = export_onnx(model, tmp_path / "dense.onnx", SIZE, end_to_end=False)
    for index in (0, 1):
        images = synthetic_images(index)
        got = run_onnx(path, images)
        with torch.no_grad():
            _, want = model.forward_dense(images)
        names = ("heatmap", "wh", "offset", "line_x", "line_y")
        for name, array in zip(names, got):
            assert array.shape == tuple(want[name].shape)
            np.testing.assert_allclose(array, want[name].numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "keypoint_decoder",
    [None, {"blur_kernel": 11, "stencil": 2, "border": "clamp", "max_shift": None}],
)
def test_top_down_model_exports_end_to_end(tmp_path, keypoint_decoder):
    """A top-down model asks nothing special of export: its predict_batch (crops to
    keypoints, flip test included, DARK's blur and stencils as configured) is the graph,
    at the model's own crop size."""
    torch.manual_seed(0)
    model = create_model(
        "topdown_tnet_d1w16", flip_test=True, keypoint_decoder=keypoint_decoder
    ).eval()
    with torch.no_grad():  # distinct peaks: the initial 0.001-std head leaves near ties
        for conv in model.head.convs:
            conv.weight.mul_(1000.0)
    path = export_onnx(model, tmp_path / "topdown.onnx", batch_size=2)
    crops = synthetic_images(0, 1)[..., :128, :96].contiguous()
    (got,) = run_onnx(path, crops)
    with torch.no_grad():
        want = model(crops).numpy()
    assert got.shape == (2, 17, 3)
    np.testing.assert_allclose(got[..., :2], want[..., :2], atol=1e-3)
    np.testing.assert_allclose(got[..., 2], want[..., 2], atol=1e-5)


def test_export_restores_train_mode_and_leaves_no_temporary_file(tmp_path):
    model = distinct_cganet().train()
    path = export_onnx(model, tmp_path / "sub" / "dense.onnx", 64, end_to_end=False)
    assert model.training and all(m.training for m in model.modules())
    assert sorted(p.name for p in path.parent.iterdir()) == ["dense.onnx"]


def test_clear_errors(tmp_path):
    model = distinct_cganet()
    path = tmp_path / "x.onnx"
    with pytest.raises(TypeError, match="export_onnx needs a pose model"):
        export_onnx(nn.Conv2d(3, 3, 1), path)
    for size in (100, 0, (128, 96)):
        with pytest.raises(ValueError, match="multiple of 32|takes one side"):
            export_onnx(model, path, input_size=size)
    with pytest.raises(ValueError, match="one side or"):
        export_onnx(model, path, input_size=128.0)
    with pytest.raises(ValueError, match="batch_size"):
        export_onnx(model, path, input_size=SIZE, batch_size=0)
    with pytest.raises(ValueError, match="opset >= 16"):
        export_onnx(model, path, input_size=SIZE, opset=15)
    with pytest.raises(ValueError, match="flip test is not exported"):
        export_onnx(create_variant(model, flip_test=True), path, input_size=SIZE)
    pointer = create_model("cganet_tnet_d1w16", input_size=SIZE, keypoint_head="roi_pointer")
    with pytest.raises(ValueError, match="ROIGuider"):
        export_onnx(pointer, path, input_size=SIZE)
    adaptive = create_model("cganet_tnet_d1w16", input_size=SIZE, head_kwargs={"sampling_ratio": 0})
    with pytest.raises(ValueError, match="sampling ratio"):
        export_onnx(adaptive, path, input_size=SIZE)
    assert not path.exists()


def test_a_folder_given_as_the_file_is_refused_before_tracing(tmp_path):
    model = create_model("cganet_tnet_d1w16", input_size=64)
    with pytest.raises(ValueError, match="is a folder; give the .onnx file to write, e.g. ") as err:
        export_onnx(model, tmp_path, opset=11)  # the opset is checked after the path
    assert str(err.value).startswith(str(tmp_path)) and ".tmp" not in str(err.value)
    assert list(tmp_path.iterdir()) == []
