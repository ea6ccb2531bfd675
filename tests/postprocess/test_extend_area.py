import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cgalib.codecs import center_line_heatmaps
from cgalib.postprocess import (
    DichotomyExtendArea,
    FixedExtendArea,
    dichotomy_extend_area,
    fixed_extend_area,
)

from helpers import requires_cuda


def _sample(m, yi, xi):
    if 0 <= yi < m.shape[0] and 0 <= xi < m.shape[1]:
        return float(m[yi, xi])
    return 0.0


def _reference(boxes, m_x, m_y, ratio, thre, max_iters):
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
        [_reference(b, mx, my, **kw) for b, mx, my in zip(flat_b, flat_x, flat_y)]
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


def test_function_and_modules_agree():
    boxes, m_x, m_y = torch.rand(2, 5, 4) * 10, torch.rand(2, 16, 16), torch.rand(2, 16, 16)
    boxes[..., 2:] += boxes[..., :2]
    torch.testing.assert_close(
        DichotomyExtendArea(0.2, 0.3, 6)(boxes, m_x, m_y),
        dichotomy_extend_area(boxes, m_x, m_y, 0.2, 0.3, 6),
    )
    torch.testing.assert_close(FixedExtendArea(0.2)(boxes), fixed_extend_area(boxes, 0.2))
    assert "max_iters=10" in repr(DichotomyExtendArea())


def test_fixed_extend_by_hand():
    boxes = torch.tensor([[[10.0, 20.0, 30.0, 60.0]], [[0.0, 0.0, 4.0, 2.0]]])
    out = fixed_extend_area(boxes, 0.5)  # sides move by 0.5 * (w, h) / 2
    torch.testing.assert_close(
        out, torch.tensor([[[5.0, 10.0, 35.0, 70.0]], [[-1.0, -0.5, 5.0, 2.5]]])
    )


def test_errors():
    m = torch.rand(16, 16)
    with pytest.raises(ValueError, match=r"\(\.\.\., N, 4\)"):
        dichotomy_extend_area(torch.zeros(4), m, m)
    with pytest.raises(ValueError, match="same shape"):
        dichotomy_extend_area(torch.zeros(3, 4), m, torch.rand(16, 15))
    with pytest.raises(ValueError, match="leading dims"):
        dichotomy_extend_area(torch.zeros(2, 3, 4), m, m)
    with pytest.raises(ValueError, match="ratio"):
        dichotomy_extend_area(torch.zeros(3, 4), m, m, ratio=-0.1)
    with pytest.raises(ValueError, match="ratio"):
        fixed_extend_area(torch.zeros(3, 4), ratio=-0.1)
    with pytest.raises(ValueError, match=r"\(\.\.\., 4\)"):
        fixed_extend_area(torch.zeros(3, 5), 0.1)


def test_device(device):
    boxes = torch.tensor([[4.0, 4.0, 12.0, 14.0]], device=device)
    m = torch.ones(16, 16, device=device)
    assert dichotomy_extend_area(boxes, m, m).device.type == device.type


@requires_cuda
def test_cpu_cuda_parity():
    boxes = torch.rand(8, 100, 2) * 100
    boxes = torch.cat([boxes, boxes + torch.rand(8, 100, 2) * 40], -1)
    m_x, m_y = torch.rand(2, 8, 128, 128)
    cpu = dichotomy_extend_area(boxes, m_x, m_y)
    gpu = dichotomy_extend_area(boxes.cuda(), m_x.cuda(), m_y.cuda())
    torch.testing.assert_close(gpu.cpu(), cpu)
