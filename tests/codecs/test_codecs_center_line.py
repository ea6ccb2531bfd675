import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cgalib.codecs import center_line_heatmaps, center_radius

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
