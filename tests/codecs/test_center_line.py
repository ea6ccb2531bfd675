"""The center-line codec: center_line_heatmaps (encode) by hand and against a per-pixel
reference; dichotomy_extend_area (decode, the paper's Algorithm 1) against a Python
reference, its bounds, and the encode -> decode round trip."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cgalib.codecs import (
    center_line_heatmaps,
    center_radius,
    dichotomy_extend_area,
    dichotomy_extend_path,
)
from cgalib.postprocess import fixed_extend_area

from helpers import requires_cuda


def _reference(boxes, height, width, sigma=1.4, min_iou=0.3):
    """Per-pixel loop over the reference definition of the issue."""
    m_x = torch.zeros(height, width, dtype=torch.float64)
    m_y = torch.zeros(height, width, dtype=torch.float64)
    for x1, y1, x2, y2 in boxes.tolist():
        r = center_radius(max(y2 - y1, 0.0), max(x2 - x1, 0.0), min_iou)
        d = math.floor(r / 6 + 0.5)
        cx, cy = math.floor((x1 + x2) / 2), math.floor((y1 + y2) / 2)
        for y in range(height):
            for x in range(width):
                dx = max(abs(x - cx) - d, 0)
                dy = max(math.ceil(y1) - y, y - math.floor(y2), 0)
                v = math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma))
                m_y[y, x] = max(m_y[y, x], v)
                dy = max(abs(y - cy) - d, 0)
                dx = max(math.ceil(x1) - x, x - math.floor(x2), 0)
                v = math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma))
                m_x[y, x] = max(m_x[y, x], v)
    return m_x, m_y


def test_pixel_values_by_hand():
    # 4x8 box: r = center_radius(8, 4) = 1.05... -> d = floor(r/6 + 0.5) = 0, cx = 3, cy = 6
    box = torch.tensor([[1.0, 2.0, 5.0, 10.0]], dtype=torch.float64)
    m_x, m_y = center_line_heatmaps(box, (14, 9))
    assert math.floor(center_radius(8.0, 4.0) / 6 + 0.5) == 0
    assert m_y[2:11, 3].eq(1).all() and m_y[1, 3] < 1 and m_y[11, 3] < 1
    assert m_y[5, 4].item() == pytest.approx(math.exp(-1 / (2 * 1.96)))  # one column off
    assert m_y[0, 5].item() == pytest.approx(math.exp(-(4 + 4) / (2 * 1.96)))
    assert m_x[6, 1:6].eq(1).all() and m_x[6, 0] < 1 and m_x[6, 6] < 1
    assert m_x[7, 0].item() == pytest.approx(math.exp(-(1 + 1) / (2 * 1.96)))


def test_line_width_grows_with_the_radius():
    box = torch.tensor([[0.0, 0.0, 40.0, 40.0]])  # r = 12.8 -> d = 2: a 5-pixel-wide line
    d = math.floor(center_radius(40.0, 40.0) / 6 + 0.5)
    assert d == 2
    m_x, m_y = center_line_heatmaps(box, (50, 50))
    assert m_y[7].eq(1).nonzero().flatten().tolist() == [18, 19, 20, 21, 22]
    assert m_x[:, 7].eq(1).nonzero().flatten().tolist() == [18, 19, 20, 21, 22]


@pytest.mark.parametrize("seed", range(3))
def test_matches_the_per_pixel_reference(seed):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(4, 2, generator=g, dtype=torch.float64) * torch.tensor([22.0, 17.0]) - 2
    wh = torch.rand(4, 2, generator=g, dtype=torch.float64) * 14 + 0.5
    boxes = torch.cat([xy, xy + wh], 1)
    m_x, m_y = center_line_heatmaps(boxes, (17, 22), sigma=1.4)
    r_x, r_y = _reference(boxes, 17, 22)
    torch.testing.assert_close(m_x, r_x)
    torch.testing.assert_close(m_y, r_y)


def test_no_boxes_give_zero_maps_and_dtype_follows_boxes():
    m_x, m_y = center_line_heatmaps(torch.zeros(0, 4), (5, 6))
    assert m_x.shape == m_y.shape == (5, 6) and m_x.abs().sum() == 0 and m_y.abs().sum() == 0
    m_x, _ = center_line_heatmaps(torch.tensor([[1, 1, 4, 4]]), (5, 6))
    assert m_x.dtype == torch.float32


def test_rejects_bad_inputs():
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        center_line_heatmaps(torch.zeros(3), (4, 4))
    with pytest.raises(ValueError, match="size"):
        center_line_heatmaps(torch.zeros(1, 4), (0, 4))
    with pytest.raises(ValueError, match="sigma"):
        center_line_heatmaps(torch.zeros(1, 4), (4, 4), sigma=0)


@settings(max_examples=50, deadline=None)
@given(
    boxes=st.lists(
        st.tuples(st.floats(0, 30), st.floats(0, 20), st.floats(1, 30), st.floats(1, 20)),
        min_size=1,
        max_size=4,
    )
)
def test_values_in_unit_interval_with_exact_one_on_every_line(boxes):
    t = torch.tensor([[x, y, x + w, y + h] for x, y, w, h in boxes], dtype=torch.float32)
    m_x, m_y = center_line_heatmaps(t, (24, 32))
    for m in (m_x, m_y):
        assert torch.isfinite(m).all() and m.min() >= 0 and m.max() <= 1
    for x1, y1, x2, y2 in t.tolist():
        cx, cy = math.floor((x1 + x2) / 2), math.floor((y1 + y2) / 2)
        ys = [y for y in range(math.ceil(y1), math.floor(y2) + 1) if y < 24]
        xs = [x for x in range(math.ceil(x1), math.floor(x2) + 1) if x < 32]
        if cx < 32 and ys:
            assert m_y[ys, cx].eq(1).all()
        if cy < 24 and xs:
            assert m_x[cy, xs].eq(1).all()


def test_device(device):
    boxes = torch.tensor([[1.0, 2.0, 9.0, 14.0], [4.5, 3.5, 12.0, 7.0]], device=device)
    m_x, m_y = center_line_heatmaps(boxes, (16, 16))
    assert m_x.device.type == device.type and m_y.device.type == device.type


@requires_cuda
def test_cpu_cuda_parity():
    boxes = torch.rand(20, 2) * 100
    boxes = torch.cat([boxes, boxes + torch.rand(20, 2) * 40 + 1], 1)
    cpu = center_line_heatmaps(boxes, (128, 128))
    gpu = center_line_heatmaps(boxes.cuda(), (128, 128))
    for a, b in zip(cpu, gpu):
        torch.testing.assert_close(b.cpu(), a)


_SIGMA = 1.4  # the encoder's default (paper)
# Thresholds between the Gaussian levels exp(-n**2 / (2 sigma**2)) = 1, .775, .360, .101,
# .017 (n = 0..4), so the tail reach is unambiguous: D = 3 (the paper's 0.08), 2, 1, 0.
_THRESHOLDS = (0.08, 0.2, 0.5, 0.9)


def _tail_reach(thre):
    """Pixels past a line's end whose Gaussian tail still scores above ``thre``."""
    return max(n for n in range(10) if math.exp(-n * n / (2 * _SIGMA**2)) > thre)


@st.composite
def _dea_case(draw):
    """A GT box on a 64x64 map, a DEA setting, and the GT box shrunk so DEA can reach back.

    Coordinates are multiples of 1/8 and the shrink a multiple of 1/64, and opposite sides
    shrink by the same amount, so the shrunk box has exactly the GT box's center (and
    center cell) in float32.
    """
    thre = draw(st.sampled_from(_THRESHOLDS))
    ratio = draw(st.sampled_from((0.09, 0.2, 0.3, 0.5)))  # 0.09: the paper
    reach = _tail_reach(thre)
    min_size = math.ceil((reach + 2) / ratio)  # leaves room to shrink, see `shrink` below
    gt, shrunk = [], []
    for _ in range(2):  # x, then y
        size = draw(st.integers(min_size * 8, 63 * 8)) / 8
        lo = draw(st.integers(0, int((63 - size) * 8))) / 8
        hi = lo + size
        # How far past each GT side the search stops (see the test's docstring).
        ends = (max(math.ceil(lo) - reach, 0) - 0.5, min(math.floor(hi) + reach, 63) + 0.5)
        past = (lo - ends[0], ends[1] - hi)  # in (-0.5, reach + 0.5]
        # Shrinking by `a` puts the stop `a + past` outward of the shrunk side, which must be
        # within DEA's range [0, ratio * (size - 2a)].
        a_min = max(0.0, -min(past)) + 1 / 64
        a_max = (ratio * size - max(past) - 1 / 64) / (1 + 2 * ratio)
        assert a_max > a_min  # min_size makes room: a_max >= 0.74 > 0.52 >= a_min
        a = a_min + math.floor(draw(st.floats(0, 1)) * (a_max - a_min) * 64) / 64
        gt.append((lo, hi))
        shrunk.append((lo + a, hi - a))
    (x1, x2), (y1, y2) = gt
    (sx1, sx2), (sy1, sy2) = shrunk
    return (x1, y1, x2, y2), (sx1, sy1, sx2, sy2), ratio, thre


@settings(max_examples=80, deadline=None)
@given(case=_dea_case())
def test_dea_finds_the_encoded_line_ends_from_a_shrunk_box(case):
    """Encode a box's center lines, decode them with DEA from a shrunk box: each side stops
    at a known distance from the line's end.

    Where a side stops, from the two codecs' rules. ``center_line_heatmaps`` draws the
    vertical line in column ``floor(cx)`` over pixels ``ceil(y1)..floor(y2)`` at 1 and
    gives pixel ``q`` beyond an end ``exp(-n**2 / (2 sigma**2))``, ``n`` its distance in
    pixels to the end. DEA reads that same column (the box's center cell; the shrunk box
    has the GT box's center) at pixel ``floor(p + 0.5)`` for a side at ``p``. So the top
    side scores above ``thre`` iff ``floor(p + 0.5) >= ceil(y1) - D``, i.e. ``p >=
    ceil(y1) - D - 0.5``, with ``D`` the tail reach (the largest ``n`` whose Gaussian
    exceeds ``thre``: 3 px for the paper's thre 0.08 and sigma 1.4, 0 above thre 0.775).
    Pixels outside the map read 0, so the boundary is ``max(ceil(y1) - D, 0) - 0.5``;
    bottom ``min(floor(y2) + D, H - 1) + 0.5``, and the same for x1, x2 along ``M_x``.
    The score is monotone along the search, so the bisection converges to that boundary
    within its last step ``ratio * size / 2 ** (max_iters + 1)`` whenever the boundary is
    within DEA's range, ``0..ratio * size`` outside the shrunk side (the generator's
    precondition). Hence each side lands within ``D + 0.5`` px of the GT side, within half a
    pixel when ``thre`` is above 0.775.
    """
    gt, shrunk, ratio, thre = case
    reach = _tail_reach(thre)
    m_x, m_y = center_line_heatmaps(torch.tensor([gt]), (64, 64), sigma=_SIGMA)
    out = dichotomy_extend_area(torch.tensor([shrunk]), m_x, m_y, ratio, thre, max_iters=10)[0]
    x1, y1, x2, y2 = gt
    ends = torch.tensor(
        [
            max(math.ceil(x1) - reach, 0) - 0.5,
            max(math.ceil(y1) - reach, 0) - 0.5,
            min(math.floor(x2) + reach, 63) + 0.5,
            min(math.floor(y2) + reach, 63) + 0.5,
        ]
    )
    sizes = torch.tensor([shrunk[2] - shrunk[0], shrunk[3] - shrunk[1]]).repeat(2)
    step = ratio * sizes / 2**11
    assert ((out - ends).abs() <= step + 1e-4).all(), (out, ends)
    assert ((out - torch.tensor(gt)).abs() <= reach + 0.5 + step + 1e-4).all()


def test_dea_reads_the_line_in_the_center_cell_it_is_drawn_in():
    # A 5x12 box centred at x = 12.5: its 1-pixel-wide (d = 0) vertical line is drawn in
    # column floor(12.5) = 12. Reading the nearest column, 13, saw 0.775 instead of 1, so
    # with thre 0.9 the top and bottom never found the line (and with the paper's 0.08
    # stopped a pixel short).
    gt = torch.tensor([[10.0, 10.0, 15.0, 22.0]])
    m_x, m_y = center_line_heatmaps(gt, (32, 32))
    assert m_y[16, 12] == 1 and m_y[16, 13] < 0.78
    shrunk = gt + torch.tensor([[0.5, 2.0, -0.5, -2.0]])
    out = dichotomy_extend_area(shrunk, m_x, m_y, ratio=1.0, thre=0.9, max_iters=14)
    # the line covers pixels 10..22 (and 10..15 for M_x): each side stops on the edge of
    # the end pixel
    torch.testing.assert_close(out, torch.tensor([[9.5, 9.5, 15.5, 22.5]]), atol=2e-3, rtol=0)
    out = dichotomy_extend_area(shrunk, m_x, m_y, ratio=1.0, thre=0.08, max_iters=14)
    torch.testing.assert_close(out, torch.tensor([[6.5, 6.5, 18.5, 25.5]]), atol=2e-3, rtol=0)


def test_the_dea_path_by_hand_over_two_steps():
    # A 12x12 box centred at (14, 16); M_y's line in column 14 covers rows 6..25, M_x's in
    # row 16 columns 4..21. ratio 0.5: each side starts 3 px outside, then moves 1.5 and
    # 0.75 px, outward where the pixel nearest to it is on the line (score 1 > thre),
    # inward where it is off (0).
    m_x, m_y = torch.zeros(32, 32), torch.zeros(32, 32)
    m_y[6:26, 14] = 1.0
    m_x[16, 4:22] = 1.0
    box = torch.tensor([[8.0, 10.0, 20.0, 22.0]])
    path = dichotomy_extend_path(box, m_x, m_y, ratio=0.5, max_iters=2)
    expected = torch.tensor(
        [
            [5.0, 7.0, 23.0, 25.0],  # start: 3 px outside every side
            [3.5, 5.5, 21.5, 26.5],  # x1 on (5), y1 on (7), x2 off (23), y2 on (25)
            [2.75, 4.75, 20.75, 25.75],  # x1 on (4), y1 on (6), x2 off (22), y2 off (27)
        ]
    )
    torch.testing.assert_close(path[:, 0], expected, atol=0, rtol=0)
    out = dichotomy_extend_area(box, m_x, m_y, ratio=0.5, max_iters=2)
    torch.testing.assert_close(out, path[-1], atol=0, rtol=0)  # within the clamp's bounds


@pytest.mark.parametrize("max_iters", [0, 1, 10])
def test_the_last_step_of_the_dea_path_is_its_result_before_the_clamp(max_iters):
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(2, 5, 2, generator=g) * 40
    boxes = torch.cat([xy, xy + 4 + torch.rand(2, 5, 2, generator=g) * 20], -1)  # (2, 5, 4)
    m_x, m_y = torch.rand(2, 2, 48, 64, generator=g).unbind(1)
    ratio = 0.3
    path = dichotomy_extend_path(boxes, m_x, m_y, ratio, 0.5, max_iters)
    assert path.shape == (max_iters + 1, 2, 5, 4) and path.dtype == boxes.dtype
    outward = torch.tensor([-1.0, -1.0, 1.0, 1.0])
    size = (boxes[..., 2:] - boxes[..., :2]).repeat(1, 1, 2)
    torch.testing.assert_close(path[0], boxes + outward * ratio * size / 2)
    extension = ((path[-1] - boxes) * outward).clamp(min=0)
    clamped = boxes + outward * torch.minimum(extension, ratio * size)
    torch.testing.assert_close(dichotomy_extend_area(boxes, m_x, m_y, ratio, 0.5, max_iters), clamped)


def test_the_dea_path_of_no_boxes_and_bad_inputs():
    m = torch.zeros(16, 16)
    assert dichotomy_extend_path(torch.zeros(0, 4), m, m, max_iters=3).shape == (4, 0, 4)
    with pytest.raises(ValueError, match="boxes"):
        dichotomy_extend_path(torch.zeros(4), m, m)


def _sample(m, yi, xi):
    if 0 <= yi < m.shape[0] and 0 <= xi < m.shape[1]:
        return float(m[yi, xi])
    return 0.0


def _dea_reference(boxes, m_x, m_y, ratio, thre, max_iters):
    """One box, one side at a time, as Algorithm 1 intends (outward while on the line).

    The line is read in the box's center row / column ``floor(center)`` (its center cell,
    where ``center_line_heatmaps`` draws it) at the pixel nearest the side's position.
    """
    out = []
    for x1, y1, x2, y2 in boxes.tolist():
        w, h = max(x2 - x1, 0.0), max(y2 - y1, 0.0)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        row = []
        for side, (orig, outward, size) in enumerate(
            [(x1, -1, w), (y1, -1, h), (x2, 1, w), (y2, 1, h)]
        ):
            offset = ratio * size / 2
            pos = orig + outward * offset
            for _ in range(max_iters):
                offset = offset / 2
                if side % 2 == 0:
                    score = _sample(m_x, math.floor(cy), math.floor(pos + 0.5))
                else:
                    score = _sample(m_y, math.floor(pos + 0.5), math.floor(cx))
                pos += outward * offset if score > thre else -outward * offset
            ext = min(max((pos - orig) * outward, 0.0), ratio * size)
            row.append(orig + outward * ext)
        out.append(row)
    return torch.tensor(out, dtype=boxes.dtype).reshape(boxes.shape)


def _line_maps(size=64):
    m_x, m_y = torch.zeros(size, size), torch.zeros(size, size)
    m_y[10:51, 26] = 1.0  # vertical line y in [10, 50] at x = 26
    m_x[30, 12:41] = 1.0  # horizontal line x in [12, 40] at y = 30
    return m_x, m_y


def test_box_short_of_the_line_ends_is_extended_to_them():
    m_x, m_y = _line_maps()
    box = torch.tensor([[15.0, 13.0, 37.0, 47.0]])  # every side 3 px short of its line's end
    out = dichotomy_extend_area(box, m_x, m_y, ratio=0.3)  # up to 6.6 / 10.2 px
    # The line's end pixel spans +-0.5 px around it, and the bisection stops at that edge.
    ends = torch.tensor([[12.0, 10.0, 40.0, 50.0]])
    assert ((out - ends).abs() <= 1.0).all()
    torch.testing.assert_close(out, torch.tensor([[11.5, 9.5, 40.5, 50.5]]), atol=0.02, rtol=0)


def test_box_at_the_line_end_is_not_extended_past_half_the_ratio():
    m_x, m_y = _line_maps()
    box = torch.tensor([[12.0, 10.0, 40.0, 50.0]])
    ratio = 0.3
    out = dichotomy_extend_area(box, m_x, m_y, ratio=ratio)
    limit = ratio * torch.tensor([28.0, 40.0, 28.0, 40.0]) / 2
    growth = (out - box).abs()[0]
    assert (growth <= limit).all() and (growth <= 0.5 + 0.02).all()


def test_box_off_every_line_barely_moves_unlike_the_printed_algorithm():
    # Algorithm 1 as printed moves outward when the score is <= thre, which would push
    # these sides to the full ratio * size; the intended rule pulls them back in.
    m = torch.zeros(32, 32)
    box = torch.tensor([[8.0, 8.0, 24.0, 24.0]])
    out = dichotomy_extend_area(box, m, m, ratio=0.2, max_iters=10)
    step = 0.2 * 16 / 2 / 2**10  # the last bisection step
    torch.testing.assert_close(out - box, torch.tensor([[-step, -step, step, step]]))


def test_box_inside_a_long_line_gets_the_maximum_extension():
    m = torch.ones(40, 40)
    box = torch.tensor([[10.0, 10.0, 20.0, 30.0]])
    out = dichotomy_extend_area(box, m, m, ratio=0.1, max_iters=10)
    grow = 0.1 * torch.tensor([10.0, 20.0, 10.0, 20.0]) * (1 - 2.0**-11)  # R (2 - 2^-10)
    torch.testing.assert_close((out - box).abs()[0], grow)


def test_ground_truth_lines_bring_a_truncated_box_back():
    gt = torch.tensor([[20.0, 10.0, 44.0, 60.0]])
    m_x, m_y = center_line_heatmaps(gt, (64, 64))
    cut = torch.tensor([[20.0, 16.0, 44.0, 60.0]])  # head cut off: a defective box
    out = dichotomy_extend_area(cut, m_x, m_y, ratio=0.3, thre=0.5)
    # The line starts at y = 10; its Gaussian tail keeps y = 9 above thre (exp(-1/3.92)) but
    # not y = 8 (exp(-4/3.92)), so the top lands on the edge between them.
    assert m_y[9, 32] > 0.5 > m_y[8, 32]
    assert out[0, 1].item() == pytest.approx(8.5, abs=0.02)
    torch.testing.assert_close(
        out[0, [0, 2, 3]], torch.tensor([18.5, 45.5, 61.5]), atol=0.02, rtol=0
    )


@pytest.mark.parametrize("lead", [(), (3,), (2, 2)])
def test_matches_the_python_reference(lead):
    g = torch.Generator().manual_seed(len(lead))
    h, w, n = 20, 24, 7
    m_x = torch.rand(*lead, h, w, generator=g, dtype=torch.float64)
    m_y = torch.rand(*lead, h, w, generator=g, dtype=torch.float64)
    xy = torch.rand(*lead, n, 2, generator=g, dtype=torch.float64) * 30 - 5  # some off-map
    boxes = torch.cat([xy, xy + torch.rand(*lead, n, 2, generator=g, dtype=torch.float64) * 18], -1)
    kw = {"ratio": 0.4, "thre": 0.5, "max_iters": 8}
    out = dichotomy_extend_area(boxes, m_x, m_y, **kw)
    assert out.shape == boxes.shape and out.dtype == boxes.dtype
    flat_b, flat_x, flat_y = boxes.reshape(-1, n, 4), m_x.reshape(-1, h, w), m_y.reshape(-1, h, w)
    expected = torch.stack(
        [_dea_reference(b, mx, my, **kw) for b, mx, my in zip(flat_b, flat_x, flat_y)]
    ).reshape(boxes.shape)
    torch.testing.assert_close(out, expected, atol=1e-9, rtol=0)
    # The random maps sent sides both ways: below and above the starting extension.
    start = (fixed_extend_area(boxes, 0.4) - boxes).abs()
    growth = (out - boxes).abs()
    assert (growth < 0.5 * start).any() and (growth > 1.5 * start).any()


@settings(max_examples=50, deadline=None)
@given(
    boxes=st.lists(
        st.tuples(st.floats(-20, 60), st.floats(-20, 60), st.floats(0, 40), st.floats(0, 40)),
        min_size=1,
        max_size=6,
    ),
    ratio=st.floats(0.0, 1.0),
    thre=st.floats(0.0, 1.0),
    iters=st.integers(0, 12),
    seed=st.integers(0, 2**16),
)
def test_never_shrinks_never_extends_past_ratio_times_size(boxes, ratio, thre, iters, seed):
    g = torch.Generator().manual_seed(seed)
    m_x, m_y = torch.rand(2, 32, 48, generator=g)
    b = torch.tensor([[x, y, x + w, y + h] for x, y, w, h in boxes])
    out = dichotomy_extend_area(b, m_x, m_y, ratio=ratio, thre=thre, max_iters=iters)
    assert torch.isfinite(out).all()
    size = (b[:, 2:] - b[:, :2]).repeat(1, 2)
    growth = (out - b) * torch.tensor([-1.0, -1.0, 1.0, 1.0])
    assert (growth >= 0).all()
    assert (growth <= ratio * size * (1 + 1e-6) + 1e-4).all()


def test_degenerate_empty_and_nan_inputs():
    m = torch.rand(16, 16)
    assert dichotomy_extend_area(torch.zeros(0, 4), m, m).shape == (0, 4)
    assert dichotomy_extend_area(
        torch.zeros(2, 0, 4), m.expand(2, 16, 16), m.expand(2, 16, 16)
    ).shape == (2, 0, 4)
    flat = torch.tensor([[5.0, 5.0, 5.0, 9.0], [9.0, 9.0, 4.0, 4.0]])  # zero / negative size
    out = dichotomy_extend_area(flat, m, m, ratio=0.5)
    torch.testing.assert_close(out[:, [0, 2]], flat[:, [0, 2]])
    assert torch.equal(out[1], flat[1])
    nan = dichotomy_extend_area(torch.tensor([[float("nan"), 1.0, 5.0, 6.0]]), m, m)
    assert nan.shape == (1, 4)  # no crash from an invalid gather index


def test_dea_device(device):
    boxes = torch.tensor([[4.0, 4.0, 12.0, 14.0]], device=device)
    m = torch.ones(16, 16, device=device)
    assert dichotomy_extend_area(boxes, m, m).device.type == device.type


@requires_cuda
def test_dea_cpu_cuda_parity():
    boxes = torch.rand(8, 100, 2) * 100
    boxes = torch.cat([boxes, boxes + torch.rand(8, 100, 2) * 40], -1)
    m_x, m_y = torch.rand(2, 8, 128, 128)
    cpu = dichotomy_extend_area(boxes, m_x, m_y)
    gpu = dichotomy_extend_area(boxes.cuda(), m_x.cuda(), m_y.cuda())
    torch.testing.assert_close(gpu.cpu(), cpu)
