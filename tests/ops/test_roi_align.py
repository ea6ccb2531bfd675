"""roi_align against a slow per-sample reference and, where installed, torchvision: both of
its forms, the sampled one and the separable one (gradients flowing, or without them where
its products are cheaper), and the rule that picks between them."""

from __future__ import annotations

import math
import sys

import pytest
import torch

from cgalib.ops import RoIAlign, boxes_to_rois, roi_align

from helpers import requires_cuda

ROI_ALIGN = sys.modules["cgalib.ops.roi_align"]  # the module (the package exports the function)
TOL = {torch.float32: {"atol": 1e-5, "rtol": 1e-5}, torch.float64: {"atol": 1e-10, "rtol": 1e-10}}


def _bilinear(feat: torch.Tensor, y: float, x: float) -> torch.Tensor:
    """torchvision's CPU ``bilinear_interpolate``, one sample, all channels of ``feat``."""
    _, height, width = feat.shape
    if y < -1.0 or y > height or x < -1.0 or x > width:
        return feat.new_zeros(feat.shape[0])
    y, x = max(y, 0.0), max(x, 0.0)
    y_low, x_low = int(y), int(x)
    if y_low >= height - 1:
        y_low = y_high = height - 1
        y = float(y_low)
    else:
        y_high = y_low + 1
    if x_low >= width - 1:
        x_low = x_high = width - 1
        x = float(x_low)
    else:
        x_high = x_low + 1
    ly, lx = y - y_low, x - x_low
    hy, hx = 1.0 - ly, 1.0 - lx
    return (
        hy * hx * feat[:, y_low, x_low]
        + hy * lx * feat[:, y_low, x_high]
        + ly * hx * feat[:, y_high, x_low]
        + ly * lx * feat[:, y_high, x_high]
    )


def reference_roi_align(input, rois, output_size, spatial_scale, sampling_ratio, aligned):
    """Obviously correct RoIAlign: per roi, per bin, per sample, scalar bilinear weights."""
    ph, pw = output_size
    out = input.new_zeros(rois.shape[0], input.shape[1], ph, pw)
    offset = 0.5 if aligned else 0.0
    for k, (b, x1, y1, x2, y2) in enumerate(rois.tolist()):
        start_x, start_y = x1 * spatial_scale - offset, y1 * spatial_scale - offset
        roi_w = x2 * spatial_scale - offset - start_x
        roi_h = y2 * spatial_scale - offset - start_y
        if not aligned:
            roi_w, roi_h = max(roi_w, 1.0), max(roi_h, 1.0)
        bin_h, bin_w = roi_h / ph, roi_w / pw
        grid_h = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_h / ph)
        grid_w = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_w / pw)
        count = max(grid_h * grid_w, 1)
        for p in range(ph):
            for q in range(pw):
                acc = input.new_zeros(input.shape[1])
                for iy in range(grid_h):
                    y = start_y + p * bin_h + (iy + 0.5) * bin_h / grid_h
                    for ix in range(grid_w):
                        x = start_x + q * bin_w + (ix + 0.5) * bin_w / grid_w
                        acc += _bilinear(input[int(b)], y, x)
                out[k, :, p, q] = acc / count
    return out


# A call's form: "sampled" and "separable_no_grad" without gradients (the rule set to pick
# that form), "separable" with gradients flowing.
FORMS = ["sampled", "separable_no_grad", "separable"]


@pytest.fixture
def in_form(monkeypatch):
    """``in_form(form)`` makes calls without gradients take ``form``; returns whether the
    map should require gradients."""

    def use(form: str) -> bool:
        cheaper = form == "separable_no_grad"
        monkeypatch.setattr(ROI_ALIGN, "_separable_is_cheaper", lambda *_: cheaper)
        return form == "separable"

    return use


def _case(dtype: torch.dtype, device: str | torch.device = "cpu"):
    """Two 10x12 maps at stride 2 and rois of image 1 and 0 interleaved, some outside."""
    feats = torch.rand(2, 3, 10, 12, dtype=dtype, device=device)
    rois = torch.tensor(
        [
            [1, 2.0, 3.0, 15.0, 17.0],
            [0, -6.0, -4.0, 9.0, 7.0],  # past the top-left corner
            [1, 14.0, 10.0, 30.0, 26.0],  # past the bottom-right corner
            [0, 5.3, 6.1, 6.2, 6.9],  # smaller than a cell
            [0, -9.0, 2.0, -3.5, 12.0],  # partly beyond x < -1
            [1, 0.0, 0.0, 24.0, 20.0],  # the whole map
            [0, 22.0, 18.0, 40.0, 33.0],  # mostly beyond the far edges
            [1, 7.0, 9.0, 7.0, 9.0],  # empty
        ],
        dtype=dtype,
        device=device,
    )
    return feats, rois


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("aligned", [True, False])
@pytest.mark.parametrize("sampling_ratio", [2, 1, 3, 0])
@pytest.mark.parametrize("form", FORMS)
def test_matches_reference(dtype, aligned, sampling_ratio, form, in_form):
    with_grad = in_form(form)
    feats, rois = _case(dtype)
    out = roi_align(feats.requires_grad_(with_grad), rois, (3, 4), 0.5, sampling_ratio, aligned)
    ref = reference_roi_align(feats.detach(), rois, (3, 4), 0.5, sampling_ratio, aligned)
    assert out.shape == (8, 3, 3, 4) and out.dtype == dtype and out.requires_grad == with_grad
    torch.testing.assert_close(out.detach(), ref, **TOL[dtype])


@pytest.mark.parametrize("per_image", [(3, 3), (4, 1), None])
def test_the_forms_agree_with_and_without_gradients(per_image, in_form):
    """The separable form (with gradients and without) and the sampled one give the same
    maps, in every layout: equal counts per image, unequal counts, an `(N, 5)` roi tensor."""
    feats, rois = _case(torch.float64)
    if per_image is None:
        boxes = rois
    else:
        boxes = [rois[rois[:, 0] == i][:n, 1:] for i, n in enumerate(per_image)]
    outs = {}
    for form in FORMS:
        outs[form] = roi_align(feats.clone().requires_grad_(in_form(form)), boxes, (4, 3), 0.5, 0)
    for form in FORMS[1:]:
        torch.testing.assert_close(outs[form].detach(), outs["sampled"], **TOL[torch.float64])


@pytest.mark.parametrize("form", FORMS)
def test_bf16_maps_are_sampled_at_float32_positions(form, in_form):
    """Under bf16 autocast the map is bf16, but the positions stay float32: a position of
    200.3 cells would be 200.0 in bf16. The result is float32, as grid_sample's there."""
    with_grad = in_form(form)
    feats = torch.rand(1, 2, 4, 256).to(torch.bfloat16)
    rois = torch.tensor([[0.0, 200.3, 0.5, 203.9, 3.5]])
    expected = reference_roi_align(feats.double(), rois.double(), (2, 3), 1.0, 2, True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = roi_align(feats.requires_grad_(with_grad), rois, (2, 3), 1.0, 2, True)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out.detach().double(), expected, atol=1e-5, rtol=1e-5)
    plain = roi_align(feats.detach(), rois, (2, 3), 1.0, 2, True)  # no autocast: bf16 out
    assert plain.dtype == torch.bfloat16


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("aligned", [True, False])
@pytest.mark.parametrize("sampling_ratio", [2, 0])
def test_matches_torchvision(dtype, aligned, sampling_ratio):
    tv_ops = pytest.importorskip("torchvision.ops")
    feats, rois = _case(dtype)
    out = roi_align(feats, rois, (5, 3), 0.5, sampling_ratio, aligned)
    expected = tv_ops.roi_align(feats, rois, (5, 3), 0.5, sampling_ratio, aligned)
    torch.testing.assert_close(out, expected, **TOL[dtype])


def test_list_of_boxes_equals_rois():
    feats, rois = _case(torch.float64)
    boxes = [rois[rois[:, 0] == i, 1:] for i in range(2)]
    ordered = torch.cat([rois[rois[:, 0] == i] for i in range(2)])
    torch.testing.assert_close(roi_align(feats, boxes, 4, 0.5), roi_align(feats, ordered, 4, 0.5))
    torch.testing.assert_close(boxes_to_rois(boxes), ordered)


@pytest.mark.parametrize("per_image", [(4, 4), (4, 1), (0, 3)])
@pytest.mark.parametrize("sampling_ratio", [2, 0])
@pytest.mark.parametrize("form", FORMS[:2])
def test_box_list_layouts_match_reference(per_image, sampling_ratio, form, in_form):
    """Equal counts per image take the reshape-only layout, others the padded one."""
    in_form(form)
    feats, rois = _case(torch.float64)
    boxes = [rois[rois[:, 0] == i][:n] for i, n in enumerate(per_image)]
    out = roi_align(feats, [b[:, 1:] for b in boxes], (3, 2), 0.5, sampling_ratio)
    ref = reference_roi_align(feats, torch.cat(boxes), (3, 2), 0.5, sampling_ratio, True)
    torch.testing.assert_close(out, ref, **TOL[torch.float64])


def test_fewer_box_tensors_than_images():
    feats, rois = _case(torch.float64)
    first = rois[:3].clone()
    first[:, 0] = 0
    out = roi_align(feats, [first[:, 1:]], 2, 0.5)
    torch.testing.assert_close(out, reference_roi_align(feats, first, (2, 2), 0.5, 2, True))


@pytest.mark.parametrize("boxes", [[torch.zeros(0, 4), torch.zeros(0, 4)], torch.zeros(0, 5), []])
def test_empty_boxes(boxes):
    feats = torch.rand(2, 3, 8, 8, requires_grad=True)
    out = roi_align(feats, boxes, (4, 5))
    assert out.shape == (0, 3, 4, 5)
    out.sum().backward()  # still part of the graph
    assert feats.grad is not None and not feats.grad.any()


def test_the_cheaper_form_is_picked_by_map_size():
    """Without gradients, on the CPU: the separable products on maps small enough (their
    cost grows with the map, the samples' with the output size), the sampled form on large
    maps; off the CPU and in a traced graph the sampled form."""
    cheaper = ROI_ALIGN._separable_is_cheaper
    small, large = torch.empty(1, 8, 128, 128), torch.empty(1, 8, 192, 192)
    # 32 x 32 bins of 2 x 2 samples: 4096 samples; products 32 * 128 * 128 + 32 * 32 * 128
    # = 655,360 multiply-adds (below 200 per sample), at 192 cells 1,376,256 (above)
    assert cheaper(small, (32, 32), (2, 2))
    assert not cheaper(large, (32, 32), (2, 2))
    assert cheaper(large, (32, 32), (3, 3))  # more samples per bin: the products again
    assert not cheaper(torch.empty(1, 8, 128, 128, device="meta"), (32, 32), (2, 2))


@pytest.mark.filterwarnings("ignore:`torch.jit.trace` is deprecated")
def test_a_traced_graph_samples():
    """A traced graph (the ONNX exporter's) holds ``grid_sample``, on a map where eager
    inference takes the products."""
    feats, rois = _case(torch.float32)
    boxes = [rois[:4, 1:], rois[4:, 1:]]
    traced = torch.jit.trace(lambda f: roi_align(f, boxes, (3, 4), 0.5), feats)
    assert "grid_sampler" in str(traced.graph) and "matmul" not in str(traced.graph)
    assert ROI_ALIGN._separable_is_cheaper(feats, (3, 4), (2, 2))
    eager = roi_align(feats, boxes, (3, 4), 0.5)
    torch.testing.assert_close(traced(feats), eager, **TOL[torch.float32])


def test_gradcheck():
    feats, rois = _case(torch.float64)
    feats = feats[:, :2, :6, :7].clone().requires_grad_()
    for sampling_ratio in (2, 0):
        assert torch.autograd.gradcheck(
            lambda f, s=sampling_ratio: roi_align(f, rois[:5], (2, 3), 0.5, s, True), (feats,)
        )


def test_gradient_matches_reference():
    feats, rois = _case(torch.float64)
    feats.requires_grad_()
    weight = torch.rand(rois.shape[0], 3, 3, 4, dtype=torch.float64)
    (grad,) = torch.autograd.grad((roi_align(feats, rois, (3, 4), 0.5) * weight).sum(), feats)
    (ref,) = torch.autograd.grad(
        (reference_roi_align(feats, rois, (3, 4), 0.5, 2, True) * weight).sum(), feats
    )
    torch.testing.assert_close(grad, ref)


def test_module_matches_function_and_repr():
    feats, rois = _case(torch.float32)
    module = RoIAlign((3, 2), spatial_scale=0.5, sampling_ratio=0, aligned=False)
    torch.testing.assert_close(module(feats, rois), roi_align(feats, rois, (3, 2), 0.5, 0, False))
    assert repr(module) == (
        "RoIAlign(output_size=(3, 2), spatial_scale=0.5, sampling_ratio=0, aligned=False)"
    )


def test_invalid_arguments():
    feats, rois = _case(torch.float32)
    with pytest.raises(ValueError, match="B, C, H, W"):
        roi_align(feats[0], rois, 2)
    with pytest.raises(ValueError, match=r"\(N, 5\)"):
        roi_align(feats, rois[:, 1:], 2)
    with pytest.raises(ValueError, match=r"boxes\[1\]"):
        roi_align(feats, [rois[:, 1:], rois], 2)
    with pytest.raises(ValueError, match="batch indices"):
        roi_align(feats, rois + torch.tensor([2.0, 0, 0, 0, 0]), 2)
    with pytest.raises(ValueError, match="3 box tensors for 2 images"):
        roi_align(feats, [rois[:, 1:]] * 3, 2)
    with pytest.raises(ValueError, match="output_size"):
        roi_align(feats, rois, (2, 0))


@requires_cuda
@pytest.mark.parametrize("sampling_ratio", [2, 0])
def test_cuda_matches_cpu(sampling_ratio):
    feats, rois = _case(torch.float32)
    feats.requires_grad_()
    out = roi_align(feats, rois, (3, 4), 0.5, sampling_ratio)
    feats_cuda = feats.detach().cuda().requires_grad_()
    out_cuda = roi_align(feats_cuda, rois.cuda(), (3, 4), 0.5, sampling_ratio)
    torch.testing.assert_close(out_cuda.cpu(), out, **TOL[torch.float32])
    out.sum().backward()
    out_cuda.sum().backward()
    torch.testing.assert_close(feats_cuda.grad.cpu(), feats.grad, **TOL[torch.float32])
