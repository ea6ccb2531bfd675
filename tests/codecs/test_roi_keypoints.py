import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cgalib.codecs import (
    DARK_DEFAULTS,
    RoiHeatmapDecoder,
    decode_roi_heatmaps,
    image_to_roi_heatmap,
    roi_heatmap_to_image,
    roi_keypoint_targets,
)

from helpers import requires_cuda


def _random_case(n, k, seed, cell=1.5):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 200
    size = (torch.rand(n, 2, generator=g) * 0.5 + 0.75) * torch.tensor([48.0, 64.0]) * cell
    boxes = torch.cat([xy, xy + size], 1)
    inside = torch.rand(n, k, 2, generator=g) * 0.96 + 0.02
    pts = boxes[:, None, :2] + inside * size[:, None]
    vis = torch.randint(0, 3, (n, k, 1), generator=g).float()
    return torch.cat([pts, vis], -1), boxes


def test_mapping_by_hand_and_inverse():
    box = torch.tensor([[10.0, 20.0, 50.0, 100.0]])
    pts = torch.tensor([[[10.0, 20.0], [50.0, 100.0], [30.0, 60.0]]])
    heat = image_to_roi_heatmap(pts, box, (64, 48))
    # x_heat = (x - x1) / (x2 - x1) * w - 0.5
    expected = torch.tensor([[[-0.5, -0.5], [47.5, 63.5], [23.5, 31.5]]])
    torch.testing.assert_close(heat, expected)
    torch.testing.assert_close(roi_heatmap_to_image(heat, box, (64, 48)), pts)
    # x = x1 + (x_heat + 0.5) * (x2 - x1) / w
    back = roi_heatmap_to_image(torch.tensor([[[0.0, 0.0]]]), box, (64, 48))
    torch.testing.assert_close(back, torch.tensor([[[10.0 + 0.5 * 40 / 48, 20.0 + 0.5 * 80 / 64]]]))


def test_targets_by_hand():
    box = torch.tensor([[0.0, 0.0, 20.0, 10.0]])  # 2 image pixels per cell, heatmap 5x10
    kps = torch.tensor([[[7.0, 3.0, 2.0], [7.0, 3.0, 0.0], [25.0, 3.0, 1.0], [-0.5, 3.0, 1.0]]])
    heat, weight = roi_keypoint_targets(kps, box, (5, 10), sigma=1.5)
    assert heat.shape == (1, 4, 5, 10) and weight.tolist() == [[1.0, 0.0, 0.0, 0.0]]
    # x_heat = 7/2 - 0.5 = 3.0, y_heat = 3/2 - 0.5 = 1.0
    assert heat[0, 0, 1, 3] == 1.0 and heat[0, 0].eq(1).sum() == 1
    assert heat[0, 0, 2, 5].item() == pytest.approx(math.exp(-(4 + 1) / (2 * 1.5**2)))
    assert heat[0, 1:].abs().sum() == 0  # unlabelled and outside-ROI keypoints: empty maps


def test_peak_rounds_to_the_nearest_cell_and_edges_follow_the_roi():
    box = torch.tensor([[0.0, 0.0, 10.0, 10.0]])  # 1 pixel per cell
    xs = [0.0, 0.99, 1.0, 9.99, 10.0]  # x_heat = x - 0.5; 10.0 is past the ROI
    kps = torch.tensor([[[x, 5.0, 1.0] for x in xs]])
    heat, weight = roi_keypoint_targets(kps, box, (10, 10))
    assert weight.tolist() == [[1.0, 1.0, 1.0, 1.0, 0.0]]
    peaks = heat[0, :4, 5].argmax(-1).tolist()
    assert peaks == [0, 0, 1, 9]  # cell u covers image x in [u, u + 1)


def test_empty_roi_has_zero_weight():
    heat, weight = roi_keypoint_targets(
        torch.tensor([[[5.0, 5.0, 1.0]]]), torch.tensor([[5.0, 0.0, 5.0, 10.0]]), (4, 4)
    )
    assert weight.tolist() == [[0.0]] and heat.abs().sum() == 0 and torch.isfinite(heat).all()


@pytest.mark.parametrize("seed", range(3))
def test_encode_decode_round_trip_within_one_pixel(seed):
    kps, boxes = _random_case(6, 17, seed, cell=1.5)  # at most 1.875 image pixels per cell
    heat, weight = roi_keypoint_targets(kps, boxes, (64, 48), sigma=2.0)
    decoded = decode_roi_heatmaps(heat, boxes, logits=False)
    ok = weight > 0
    assert ok.sum() > 20
    err = (decoded[..., :2] - kps[..., :2]).abs()[ok]
    cell = ((boxes[:, 2:] - boxes[:, :2]) / torch.tensor([48.0, 64.0]))[:, None].expand_as(
        kps[..., :2]
    )[ok]
    assert (err <= cell / 2 + 1e-4).all()  # nearest-cell quantisation, no more
    assert (err <= 1.0 + 1e-4).all()
    assert decoded[..., 2][ok].eq(1).all()


@st.composite
def _rois_and_keypoints(draw):
    """1..4 boxes of any size and aspect and 1..5 keypoints of each, strictly inside it."""
    n, k = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    boxes, kps = [], []
    for _ in range(n):
        x1, y1 = draw(st.floats(-50, 250)), draw(st.floats(-50, 250))
        bw, bh = draw(st.floats(4, 200)), draw(st.floats(4, 200))
        boxes.append([x1, y1, x1 + bw, y1 + bh])
        fractions = st.floats(0.0, 0.999)  # 1.0 would be the far edge, outside the ROI
        kps.append(
            [
                [x1 + draw(fractions) * bw, y1 + draw(fractions) * bh, draw(st.integers(0, 2))]
                for _ in range(k)
            ]
        )
    return torch.tensor(kps, dtype=torch.float64), torch.tensor(boxes, dtype=torch.float64)


@settings(max_examples=60, deadline=None)
@given(
    case=_rois_and_keypoints(),
    heatmap_size=st.tuples(st.integers(3, 64), st.integers(3, 64)),
    sigma=st.floats(0.5, 3.0),
    dtype=st.sampled_from([torch.float32, torch.float64]),
)
def test_encode_logits_decode_round_trip_within_half_a_cell(case, heatmap_size, sigma, dtype):
    """``roi_keypoint_targets`` -> logits -> ``decode_roi_heatmaps`` returns each labelled
    keypoint within half a heatmap cell, in image pixels ``box size / heatmap size / 2``.

    The target's peak is the nearest cell and its Gaussian is symmetric about it, so the
    quarter-cell refinement sees equal neighbours and does not shift: the only error is the
    nearest-cell quantisation. The logit transform is monotone, so the argmax and the
    neighbour comparison are those of the target itself.
    """
    kps, boxes = (t.to(dtype) for t in case)
    h, w = heatmap_size
    heat, weight = roi_keypoint_targets(kps, boxes, (h, w), sigma=sigma)
    labelled = kps[..., 2] > 0
    assert torch.equal(weight, labelled.to(dtype))  # inside their ROI: only v decides
    assert heat[labelled].amax((-2, -1)).eq(1).all()
    logits = torch.logit(heat, eps=1e-6)
    decoded = decode_roi_heatmaps(logits, boxes, logits=True)
    assert decoded.shape == kps.shape and decoded.dtype == dtype
    cell = (boxes[:, 2:] - boxes[:, :2]) / torch.tensor([w, h], dtype=dtype)
    error = (decoded[..., :2] - kps[..., :2]).abs()
    rounding = 1e-3 if dtype == torch.float32 else 1e-9  # coordinates up to ~450 px
    assert (error <= cell[:, None] / 2 + rounding)[labelled].all()
    assert (decoded[..., 2][labelled] > 0.999).all()  # sigmoid(logit(1 - 1e-6))


def test_decode_quarter_shift_towards_higher_neighbour_and_logit_score():
    heat = torch.full((1, 3, 5, 6), -5.0)
    heat[0, 0, 2, 3], heat[0, 0, 2, 4], heat[0, 0, 2, 2] = 3.0, 1.0, 0.0  # right higher
    heat[0, 0, 1, 3], heat[0, 0, 3, 3] = 2.0, -1.0  # up higher
    heat[0, 1, 0, 0] = 2.0  # corner: no neighbours on one side -> no shift
    heat[0, 1, 0, 1] = 1.5
    heat[0, 2, 2, 3] = 1.0  # flat neighbours -> no shift
    box = torch.tensor([[0.0, 0.0, 12.0, 5.0]])  # 2 px per cell in x, 1 in y
    out = decode_roi_heatmaps(heat, box, refine="quarter")
    to_img = lambda u, v: [(u + 0.5) * 2.0, v + 0.5]  # noqa: E731
    torch.testing.assert_close(out[0, 0, :2], torch.tensor(to_img(3.25, 1.75)))
    torch.testing.assert_close(out[0, 1, :2], torch.tensor(to_img(0.0, 0.0)))
    torch.testing.assert_close(out[0, 2, :2], torch.tensor(to_img(3.0, 2.0)))
    torch.testing.assert_close(out[0, :, 2], torch.sigmoid(torch.tensor([3.0, 2.0, 1.0])))
    raw = decode_roi_heatmaps(heat, box, logits=False, refine="quarter")
    torch.testing.assert_close(raw[0, :, 2], torch.tensor([3.0, 2.0, 1.0]))


def _gaussian(cx, cy, h=12, w=16, sigma=1.5):
    u, v = torch.arange(float(w)), torch.arange(float(h))[:, None]
    return torch.exp(-((u - cx) ** 2 + (v - cy) ** 2) / (2 * sigma**2))


@pytest.mark.parametrize(
    "dark",
    [
        {},  # the defaults
        {"blur_kernel": 0, "stencil": 1, "border": "skip", "max_shift": 0.5},
        {"blur_kernel": 0, "stencil": 2, "border": "clamp", "max_shift": None},
    ],
)
@pytest.mark.parametrize("cx, cy", [(5.0, 4.0), (5.3, 4.45), (8.49, 6.9), (9.7, 3.2)])
def test_dark_decodes_a_gaussian_peak_between_cells_exactly(cx, cy, dark):
    probs = _gaussian(cx, cy)[None, None]
    box = torch.tensor([[0.0, 0.0, 32.0, 12.0]])  # 2 px per cell in x, 1 in y
    logit = torch.logit(probs.clamp(1e-6, 1 - 1e-6))
    for heat, logits in ((probs, False), (logit, True)):
        out = decode_roi_heatmaps(heat, box, logits=logits, **dark)[0, 0]
        # with the default blur (if any), within the blur's sampling error of the centre
        tolerance = 2e-3 if dark.get("blur_kernel", DARK_DEFAULTS["blur_kernel"]) <= 1 else 0.05
        expected = torch.tensor([(cx + 0.5) * 2, cy + 0.5])
        torch.testing.assert_close(out[:2], expected, atol=tolerance, rtol=0)


@pytest.mark.parametrize("kernel", [3, 5, 7, 11])
def test_dark_with_a_blur_decodes_a_cell_centred_gaussian_exactly(kernel):
    """A blur keeps a symmetric peak's position (the map's middle: the zeros past the edges
    are symmetric too), for logits and probabilities; the score is the unblurred peak."""
    probs = _gaussian(12.0, 10.0, h=21, w=25, sigma=2.0)[None, None] * 0.8
    box = torch.tensor([[0.0, 0.0, 25.0, 21.0]])  # one pixel per cell
    for heat, logits in ((probs, False), (torch.logit(probs), True)):
        out = decode_roi_heatmaps(heat, box, logits=logits, blur_kernel=kernel, stencil=2)[0, 0]
        torch.testing.assert_close(out, torch.tensor([12.5, 10.5, 0.8]), atol=1e-5, rtol=0)


def test_a_blur_changes_the_decode_of_a_noisy_peak():
    g = torch.Generator().manual_seed(0)
    probs = (_gaussian(7.3, 5.4)[None, None] * 0.7 + torch.rand(1, 1, 12, 16, generator=g) * 0.2)
    box = torch.tensor([[0.0, 0.0, 16.0, 12.0]])
    plain = decode_roi_heatmaps(probs, box, logits=False, blur_kernel=0)
    blurred = decode_roi_heatmaps(probs, box, logits=False, blur_kernel=5)
    assert not torch.allclose(plain[..., :2], blurred[..., :2])
    assert plain[..., 2].item() == blurred[..., 2].item() == probs.max().item()


def test_dark_at_the_border_on_a_spike_and_between_two_equal_cells():
    box = torch.tensor([[0.0, 0.0, 16.0, 12.0]])  # one pixel per cell
    plain = {"blur_kernel": 0, "stencil": 1, "border": "skip", "max_shift": 0.5}
    border = _gaussian(0.3, 4.4)[None, None]  # peak cell in column 0: no shift
    assert decode_roi_heatmaps(border, box, logits=False, **plain)[0, 0, :2].tolist() == [0.5, 4.5]
    clamp = {**plain, "border": "clamp"}  # x: the edge read twice, half a cell out; y refined
    out = decode_roi_heatmaps(border, box, logits=False, **clamp)[0, 0, :2]
    torch.testing.assert_close(out, torch.tensor([0.0, 4.9]))
    spike = torch.full((1, 1, 12, 16), 0.1)
    spike[0, 0, 5, 7] = 0.9  # symmetric neighbours: no shift
    assert decode_roi_heatmaps(spike, box, logits=False, **plain)[0, 0, :2].tolist() == [7.5, 5.5]
    spike[0, 0, 5, 8] = 0.9  # two equal cells: the midpoint, half a cell
    assert decode_roi_heatmaps(spike, box, logits=False, **plain)[0, 0, :2].tolist() == [8.0, 5.5]


def test_the_decoder_module_is_the_function_with_its_settings():
    g = torch.Generator().manual_seed(1)
    heat = torch.randn(3, 5, 16, 12, generator=g)
    boxes = torch.tensor([[0.0, 0.0, 48.0, 64.0], [10.0, 5.0, 30.0, 60.0], [1.0, 2.0, 9.0, 9.0]])
    settings = {"blur_kernel": 5, "stencil": 2, "border": "clamp", "max_shift": None}
    decoder = RoiHeatmapDecoder(**settings)
    torch.testing.assert_close(decoder(heat, boxes), decode_roi_heatmaps(heat, boxes, **settings))
    probs = heat.sigmoid()
    torch.testing.assert_close(
        decoder(probs, boxes, logits=False),
        decode_roi_heatmaps(probs, boxes, logits=False, **settings),
    )
    assert decoder.to_dict() == {"refine": "dark", **settings}
    assert RoiHeatmapDecoder.of(decoder) is decoder
    assert RoiHeatmapDecoder.of({"stencil": 2}).to_dict() == {
        "refine": "dark", **DARK_DEFAULTS, "stencil": 2
    }
    assert RoiHeatmapDecoder.of(None).to_dict() == {"refine": "dark", **DARK_DEFAULTS}
    assert "stencil=2" in repr(decoder)


@pytest.mark.parametrize(
    "settings, match",
    [
        ({"blur_kernel": 4}, "blur_kernel"),
        ({"blur_kernel": -1}, "blur_kernel"),
        ({"stencil": 3}, "stencil"),
        ({"border": "wrap"}, "border"),
        ({"max_shift": 0}, "max_shift"),
        ({"refine": "taylor"}, "refine"),
    ],
)
def test_bad_decoder_settings_are_refused_at_construction(settings, match):
    with pytest.raises(ValueError, match=match):
        RoiHeatmapDecoder(**settings)
    if "refine" not in settings:
        with pytest.raises(ValueError, match=match):
            decode_roi_heatmaps(torch.zeros(1, 1, 4, 4), torch.zeros(1, 4), **settings)
    with pytest.raises(ValueError, match="unknown keypoint decoder settings"):
        RoiHeatmapDecoder.of({"sigma": 2})
    with pytest.raises(TypeError, match="keypoint_decoder"):
        RoiHeatmapDecoder.of("dark")


def test_the_cell_centred_target_decodes_to_its_cell_with_both_refinements():
    kps = torch.tensor([[[31.0, 21.0, 2.0]]])  # a cell center
    box = torch.tensor([[0.0, 0.0, 96.0, 128.0]])
    heat, _ = roi_keypoint_targets(kps, box, (64, 48))
    for refine in ("dark", "quarter"):
        out = decode_roi_heatmaps(heat, box, logits=False, refine=refine)
        assert out.tolist() == [[[31.0, 21.0, 1.0]]]
    with pytest.raises(ValueError, match="refine"):
        decode_roi_heatmaps(heat, box, refine="taylor")


def test_shapes_and_errors():
    assert decode_roi_heatmaps(torch.zeros(0, 17, 8, 6), torch.zeros(0, 4)).shape == (0, 17, 3)
    heat, weight = roi_keypoint_targets(torch.zeros(0, 17, 3), torch.zeros(0, 4), (8, 6))
    assert heat.shape == (0, 17, 8, 6) and weight.shape == (0, 17)
    with pytest.raises(ValueError, match="keypoints"):
        roi_keypoint_targets(torch.zeros(2, 17, 2), torch.zeros(2, 4), (8, 6))
    with pytest.raises(ValueError, match="N=3"):
        roi_keypoint_targets(torch.zeros(2, 17, 3), torch.zeros(3, 4), (8, 6))
    with pytest.raises(ValueError, match="boxes"):
        decode_roi_heatmaps(torch.zeros(2, 17, 8, 6), torch.zeros(3, 4))
    with pytest.raises(ValueError, match="heatmap_size"):
        image_to_roi_heatmap(torch.zeros(1, 2, 2), torch.zeros(1, 4), (0, 3))


@requires_cuda
def test_cpu_cuda_parity():
    kps, boxes = _random_case(5, 17, 0)
    heat, weight = roi_keypoint_targets(kps, boxes, (64, 48))
    heat_g, weight_g = roi_keypoint_targets(kps.cuda(), boxes.cuda(), (64, 48))
    torch.testing.assert_close(heat_g.cpu(), heat)
    torch.testing.assert_close(weight_g.cpu(), weight)
    logits = torch.randn(5, 17, 64, 48)
    torch.testing.assert_close(
        decode_roi_heatmaps(logits.cuda(), boxes.cuda()).cpu(), decode_roi_heatmaps(logits, boxes)
    )
