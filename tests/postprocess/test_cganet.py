"""CGANet's post-processing: dense outputs to scored, extended boxes in input pixels, per-box
heatmaps to keypoints, its fixed settings, and the flip test's average of the dense outputs."""

from __future__ import annotations

import pytest
import torch

from cgalib.codecs import RoiHeatmapDecoder, decode_roi_heatmaps
from cgalib.postprocess import (
    CGANET_KEYPOINT_DECODING,
    AmbiguityAlleviation,
    CGANetPostprocess,
    FixedExtendArea,
    alleviate_ambiguity,
    average_flipped_outputs,
    decode_centers,
    fixed_extend_area,
)


def _one_person(h=10, w=12):
    """Dense outputs with one center at cell (x 3, y 2), size (4, 6) cells, offset (0.25, 0.5)."""
    out = {k: torch.full((1, 1, h, w), -20.0) for k in ("heatmap", "line_x", "line_y")}
    out["heatmap"][0, 0, 2, 3] = 2.0
    out["wh"], out["offset"] = torch.zeros(1, 2, h, w), torch.zeros(1, 2, h, w)
    out["wh"][0, :, 2, 3] = torch.tensor([4.0, 6.0])
    out["offset"][0, :, 2, 3] = torch.tensor([0.25, 0.5])
    return out


def test_detect_by_hand_in_input_pixels():
    post = CGANetPostprocess(None, None, max_detections=3, output_stride=4)
    det = post.detect(_one_person())
    assert {k: tuple(v.shape) for k, v in det.items()} == {
        "boxes": (1, 3, 4), "extended_boxes": (1, 3, 4), "scores": (1, 3),
    }  # fmt: skip
    # center (3.25, 2.5) cells, size (4, 6) cells, 4 input pixels per cell
    assert det["boxes"][0, 0].tolist() == [5.0, -2.0, 21.0, 22.0]
    assert det["scores"][0, 0].item() == pytest.approx(torch.sigmoid(torch.tensor(2.0)).item())
    assert (det["scores"][0, 1:] < 1e-6).all()
    torch.testing.assert_close(det["extended_boxes"], det["boxes"])  # None: no extension
    torch.testing.assert_close(post(_one_person())["boxes"], det["boxes"])  # forward = detect


def test_ambiguity_rescores_and_the_extension_reads_the_lines():
    torch.manual_seed(0)
    out = {k: torch.randn(2, 1, 8, 8) for k in ("heatmap", "line_x", "line_y")}
    out["wh"], out["offset"] = torch.rand(2, 2, 8, 8) * 4, torch.rand(2, 2, 8, 8)
    post = CGANetPostprocess(FixedExtendArea(0.2), AmbiguityAlleviation(), max_detections=5)
    det = post.detect(out)
    heat = alleviate_ambiguity(*(out[k].sigmoid() for k in ("heatmap", "line_x", "line_y")))
    boxes, scores = decode_centers(heat, out["wh"], out["offset"], k=5)
    torch.testing.assert_close(det["scores"], scores)
    torch.testing.assert_close(det["boxes"], boxes * 4)
    torch.testing.assert_close(det["extended_boxes"], fixed_extend_area(boxes, 0.2) * 4)
    plain = CGANetPostprocess(None, None, max_detections=5).detect(out)
    assert not torch.allclose(plain["scores"], det["scores"])


def test_keypoints_decode_per_box_in_roi_order():
    post = CGANetPostprocess(None, None, max_detections=2)
    logits = torch.randn(3 * 2, 4, 8, 6)
    rois = torch.tensor([[0.0, 0.0, 24.0, 32.0], [10.0, 5.0, 22.0, 21.0]]).repeat(3, 1, 1)
    keypoints = post.decode_keypoints(logits, rois)
    assert keypoints.shape == (3, 2, 4, 3)
    # CGANet's default decoding: DARK after a 3x3 blur
    assert post.keypoint_decoder.to_dict() == dict(CGANET_KEYPOINT_DECODING)
    settings = {k: v for k, v in CGANET_KEYPOINT_DECODING.items() if k != "refine"}
    expected = decode_roi_heatmaps(logits, rois.reshape(-1, 4), **settings)
    torch.testing.assert_close(keypoints.reshape(6, 4, 3), expected)
    plain = CGANetPostprocess(None, None, max_detections=2, keypoint_decoder=RoiHeatmapDecoder())
    torch.testing.assert_close(
        plain.decode_keypoints(logits, rois).reshape(6, 4, 3),
        decode_roi_heatmaps(logits, rois.reshape(-1, 4)),
    )
    with pytest.raises(TypeError, match="keypoint_decoder must be a RoiHeatmapDecoder"):
        CGANetPostprocess(None, None, keypoint_decoder={"blur_kernel": 3})


def test_settings_are_fixed_and_checked():
    post = CGANetPostprocess(None, AmbiguityAlleviation(), max_detections=7, output_stride=8)
    assert post.max_detections == 7 and post.output_stride == 8
    assert "max_detections=7, output_stride=8" in repr(post)
    with pytest.raises(AttributeError):
        post.max_detections = 3
    with pytest.raises(TypeError, match="box_extension must be a BoxExtension .* got str"):
        CGANetPostprocess("dichotomy", None)
    with pytest.raises(TypeError, match="ambiguity must be an AmbiguityAlleviation or None, got float"):
        CGANetPostprocess(None, 1.0)
    for bad in (0, True, 2.5):
        with pytest.raises(ValueError, match="max_detections must be a positive int"):
            CGANetPostprocess(None, None, max_detections=bad)
    with pytest.raises(ValueError, match="output_stride must be positive, got 0"):
        CGANetPostprocess(None, None, output_stride=0)


def test_flip_test_averages_with_the_mirrored_pass():
    a = {
        k: torch.randn(1, c, 4, 6)
        for k, c in (("heatmap", 1), ("line_x", 1), ("line_y", 1), ("wh", 2), ("offset", 2))
    }
    mirrored = {k: v.flip(-1) for k, v in a.items()}
    avg = average_flipped_outputs(a, mirrored)
    for k in ("heatmap", "line_x", "line_y", "wh"):
        torch.testing.assert_close(avg[k], a[k], atol=1e-4, rtol=1e-4)
    assert avg["offset"] is a["offset"]
