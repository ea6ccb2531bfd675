"""ONNX export: onnxruntime against eager PyTorch on inputs other than the traced one."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cgalib import create_model, create_variant, save_model
from cgalib.cli import main
from cgalib.data.synthetic import synthetic_sample
from cgalib.export import export_onnx
from cgalib.postprocess import alleviate_ambiguity, heatmap_nms

ort = pytest.importorskip("onnxruntime")

SIZE = 128
#: Sharpening of the untrained output layers (see `_distinct_model`).
SHARPEN = 10.0
#: Smallest eager gap between values whose order decides a detection or a keypoint.
MIN_GAP = {"scores": 1e-6, "roi_logits": 1e-5}


def _distinct_model(**kwargs) -> nn.Module:
    """A seeded, untrained small CGANet whose peaks are far apart compared with rounding.

    At initialisation every heatmap logit sits near the focal prior (-2.19) with a spread
    of a few hundredths, so that the top-k centers and the keypoint argmaxes are decided
    by differences of about 1e-6, the size of float32 rounding. Scaling the last layer of
    the center, size and keypoint heads spreads the logits (and the boxes, about 28 px),
    so that only a wrong graph can change which peak wins; `_assert_no_near_ties` checks it.
    """
    torch.manual_seed(0)
    model = create_model("cganet_tnet_d1w16", input_size=SIZE, max_detections=5, **kwargs)
    with torch.no_grad():
        for layer in (model.dense_heads.center.heatmap[-1], model.dense_heads.center.wh[-1]):
            layer.weight.mul_(SHARPEN)
        model.dense_heads.center.wh[-1].bias.fill_(6.0)  # heatmap cells: 24 px boxes on average
        model.keypoint_head.heads[-1].predict[-1].weight.mul_(SHARPEN)
    return model.eval()


def _images(*indices: int) -> torch.Tensor:
    """Synthetic crowd images `(len(indices), 3, SIZE, SIZE)` in 0..1."""
    images = [
        np.array(synthetic_sample(seed=0, index=i, split="val", size=SIZE)[0].convert("RGB"))
        for i in indices
    ]
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255


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


def _run(path, images: torch.Tensor) -> list[np.ndarray]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["images"]
    return session.run(None, {"images": images.numpy()})


@pytest.fixture(scope="module")
def end_to_end(tmp_path_factory):
    """A batch-2 end-to-end export and its model."""
    model = _distinct_model()
    path = export_onnx(model, tmp_path_factory.mktemp("onnx") / "e2e.onnx", SIZE, batch_size=2)
    return model, path


@pytest.mark.parametrize("order", [(0, 1), (1, 0), (2, 3)])
def test_end_to_end_matches_pytorch(end_to_end, order):
    """Different images (and their order in the batch) than the traced dummy input."""
    model, path = end_to_end
    images = _images(*order)
    _assert_no_near_ties(model, images)
    boxes, extended, scores, keypoints = _run(path, images)
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
    model = _distinct_model()
    path = export_onnx(model, tmp_path / "dense.onnx", SIZE, end_to_end=False)
    for index in (0, 1):
        images = _images(index)
        got = _run(path, images)
        with torch.no_grad():
            _, want = model.forward_dense(images)
        names = ("heatmap", "wh", "offset", "line_x", "line_y")
        for name, array in zip(names, got):
            assert array.shape == tuple(want[name].shape)
            np.testing.assert_allclose(array, want[name].numpy(), rtol=1e-4, atol=1e-4)


def test_top_down_model_exports_end_to_end(tmp_path):
    """A top-down model asks nothing special of export: its predict_batch (crops to
    keypoints, flip test included) is the graph, at the model's own crop size."""
    torch.manual_seed(0)
    model = create_model("topdown_tnet_d1w16", flip_test=True).eval()
    with torch.no_grad():  # distinct peaks: the initial 0.001-std head leaves near ties
        for conv in model.head.convs:
            conv.weight.mul_(1000.0)
    path = export_onnx(model, tmp_path / "topdown.onnx", batch_size=2)
    crops = _images(0, 1)[..., :128, :96].contiguous()
    (got,) = _run(path, crops)
    with torch.no_grad():
        want = model(crops).numpy()
    assert got.shape == (2, 17, 3)
    np.testing.assert_allclose(got[..., :2], want[..., :2], atol=1e-3)
    np.testing.assert_allclose(got[..., 2], want[..., 2], atol=1e-5)


def test_export_restores_train_mode_and_leaves_no_temporary_file(tmp_path):
    model = _distinct_model().train()
    path = export_onnx(model, tmp_path / "sub" / "dense.onnx", 64, end_to_end=False)
    assert model.training and all(m.training for m in model.modules())
    assert sorted(p.name for p in path.parent.iterdir()) == ["dense.onnx"]


@pytest.mark.parametrize("dense_only", [False, True])
def test_cli_exports_a_checkpoint(tmp_path, capsys, dense_only):
    checkpoint = tmp_path / "model.pt"
    save_model(_distinct_model(), checkpoint)
    args = ["export", "--checkpoint", str(checkpoint), "--format", "onnx", "--input-size", "96"]
    assert main(args + (["--dense-only"] if dense_only else [])) == 0
    out = capsys.readouterr().out
    path = tmp_path / ("model_dense.onnx" if dense_only else "model.onnx")
    assert f"onnx: {path}" in out
    if dense_only:
        assert "heatmap: (1, 1, 24, 24)" in out and "line_y: (1, 1, 24, 24)" in out
    else:
        assert "boxes: (1, 5, 4)" in out and "keypoints: (1, 5, 17, 3)" in out
    images = _images(4)[..., :96, :96].contiguous()
    got = _run(path, images)
    assert got[0].shape == ((1, 1, 24, 24) if dense_only else (1, 5, 4))


def test_cli_writes_where_asked_without_flip_test(tmp_path, capsys):
    checkpoint = tmp_path / "model.pt"
    save_model(_distinct_model(flip_test=True), checkpoint)
    out = tmp_path / "exported" / "net.onnx"
    assert main(["export", "--checkpoint", str(checkpoint), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "note: flip test is not exported" in printed
    assert out.is_file() and f"onnx: {out} (end to end, input images (1, 3, 128, 128)" in printed


def test_clear_errors(tmp_path):
    model = _distinct_model()
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
