import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cgalib.codecs import center_radius, draw_gaussian


def test_center_radius_by_hand():
    b = 10.0 + 10.0
    c = 10.0 * 10.0 * (1 - 0.3) / (1 + 0.3)
    expected = (b - math.sqrt(b * b - 4 * c)) / 2
    assert center_radius(10.0, 10.0) == pytest.approx(expected, abs=1e-12)
    assert expected == pytest.approx(3.20634, abs=1e-5)
    # The "+ sqrt" root of CornerNet's buggy case would exceed the box itself.
    assert center_radius(10.0, 10.0) < 5.0 < (b + math.sqrt(b * b - 4 * c)) / 2


def test_center_radius_rectangle_and_min_iou_by_hand():
    h, w, m = 8.0, 30.0, 0.5
    b, c = h + w, h * w * (1 - m) / (1 + m)
    assert center_radius(h, w, min_iou=m) == pytest.approx((b - math.sqrt(b * b - 4 * c)) / 2)


@settings(max_examples=50, deadline=None)
@given(
    h=st.floats(0.5, 500.0),
    w=st.floats(0.5, 500.0),
    min_iou=st.floats(0.05, 0.95),
)
def test_center_radius_meets_the_papers_min_iou_exactly(h, w, min_iou):
    r = center_radius(h, w, min_iou)
    inner = (h - r) * (w - r)
    iou = inner / (2 * h * w - inner)  # the paper's minimum-IoU expression
    assert 0 <= r < min(h, w)
    assert iou == pytest.approx(min_iou, rel=1e-6, abs=1e-9)


def test_center_radius_tensor_is_elementwise():
    h = torch.tensor([[10.0, 3.0], [0.0, 250.0]], dtype=torch.float64)
    w = torch.tensor([[10.0, 40.0], [0.0, 7.5]], dtype=torch.float64)
    out = center_radius(h, w, 0.4)
    assert out.shape == (2, 2)
    expected = [
        [center_radius(float(a), float(b), 0.4) for a, b in zip(r, s)] for r, s in zip(h, w)
    ]
    torch.testing.assert_close(out, torch.tensor(expected, dtype=torch.float64))
    assert center_radius(torch.tensor(10.0), 10.0).item() == pytest.approx(
        center_radius(10.0, 10.0)
    )


def test_center_radius_rejects_bad_inputs():
    with pytest.raises(ValueError, match="non-negative"):
        center_radius(-1.0, 3.0)
    with pytest.raises(ValueError, match="min_iou"):
        center_radius(3.0, 3.0, min_iou=0.0)


def _reference_gaussian(height, width, cx, cy, radius):
    """Per-pixel CenterNet drawing."""
    r = max(int(radius), 0)
    sigma = (2 * r + 1) / 6
    x0, y0 = math.floor(cx), math.floor(cy)
    out = torch.zeros(height, width, dtype=torch.float64)
    for y in range(height):
        for x in range(width):
            if abs(x - x0) <= r and abs(y - y0) <= r:
                out[y, x] = math.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * sigma * sigma))
    return out


def test_draw_gaussian_values_by_hand():
    hm = draw_gaussian(torch.zeros(9, 9, dtype=torch.float64), (4.7, 4.2), radius=3.9)
    sigma = 7 / 6  # r = 3, diameter 7
    assert hm[4, 4] == 1.0
    assert hm[4, 5].item() == pytest.approx(math.exp(-1 / (2 * sigma**2)))
    assert hm[6, 7].item() == pytest.approx(math.exp(-(4 + 9) / (2 * sigma**2)))
    assert hm[4, 8] == 0 and hm[0, 0] == 0  # outside the 7x7 square


@pytest.mark.parametrize(
    "center", [(0.0, 0.0), (10.9, 6.2), (-2.0, 3.0), (12.5, 8.5), (5.5, -1.2), (30.0, 3.0)]
)
def test_draw_gaussian_matches_reference_with_clipping(center):
    hm = draw_gaussian(torch.zeros(8, 11, dtype=torch.float64), center, radius=2.7)
    torch.testing.assert_close(hm, _reference_gaussian(8, 11, *center, 2.7))


def test_draw_gaussian_max_composites_and_is_in_place():
    hm = torch.zeros(2, 7, 7)
    hm[:, 3, 4] = 0.9  # higher than the new kernel there
    hm[:, 3, 3] = 0.5
    out = draw_gaussian(hm, (3, 3), radius=2)
    assert out is hm
    assert hm[0, 3, 3] == 1.0 and hm[1, 3, 3] == 1.0  # every leading slice gets the peak
    assert hm[0, 3, 4].item() == pytest.approx(0.9)
    assert 0 < hm[0, 3, 2].item() < 0.9


def test_draw_gaussian_zero_radius_is_a_single_pixel():
    hm = draw_gaussian(torch.zeros(4, 4), (1.2, 2.9), radius=0.6)
    assert hm.sum() == 1.0 and hm[2, 1] == 1.0
