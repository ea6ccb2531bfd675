"""DARK's parts by hand: the blur (mmpose's gaussian_blur: max kept, a Gaussian's centre kept),
the Newton step with the +-1 and +-2 stencils, the border rules and the shift limit."""

from __future__ import annotations

import math

import pytest
import torch

from cgalib.codecs import blur_heatmaps, dark_offsets
from cgalib.codecs.dark import blur_sigma


def _gaussian(cx, cy, h=16, w=20, sigma=2.0, dtype=torch.float64):
    u = torch.arange(float(w), dtype=dtype)
    v = torch.arange(float(h), dtype=dtype)[:, None]
    return torch.exp(-((u - cx) ** 2 + (v - cy) ** 2) / (2 * sigma**2))


def _peaks(maps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    n, k, h, w = maps.shape
    idx = maps.reshape(n, k, h * w).argmax(-1)
    return idx % w, idx // w


def test_blur_sigma_is_opencvs_rule():
    assert blur_sigma(11) == pytest.approx(2.0)  # mmpose's default for its sigma-2 targets
    assert [round(blur_sigma(k), 2) for k in (3, 5, 7)] == [0.8, 1.1, 1.4]


def test_blur_by_hand_on_a_spike_keeps_the_maximum():
    spike = torch.zeros(1, 1, 5, 5, dtype=torch.float64)
    spike[0, 0, 2, 2] = 0.6
    out = blur_heatmaps(spike, 3)
    g = math.exp(-1 / (2 * blur_sigma(3) ** 2))  # the taps: (g, 1, g) / (1 + 2 g)
    # separable: the centre gets 1 / (1 + 2g)^2 of the spike, a side neighbour g times that,
    # a diagonal g^2 times it; rescaled so the maximum is the spike's 0.6 again
    expected = torch.zeros(5, 5, dtype=torch.float64)
    expected[1:4, 1:4] = torch.tensor([[g * g, g, g * g], [g, 1.0, g], [g * g, g, g * g]]) * 0.6
    torch.testing.assert_close(out[0, 0], expected)
    assert blur_heatmaps(spike, 0) is spike and blur_heatmaps(spike, 1) is spike


@pytest.mark.parametrize("kernel", [3, 5, 7, 11])
@pytest.mark.parametrize("cx, cy", [(9.0, 7.0), (9.3, 7.45), (8.6, 6.8)])
def test_blur_keeps_a_gaussian_peak_where_it_is(kernel, cx, cy):
    """A Gaussian blurred by a Gaussian is a wider Gaussian about the same centre: DARK on
    the blurred map still decodes the centre (exactly on a cell centre by symmetry; between
    cells within the sampling error of the discrete kernel)."""
    heat = _gaussian(cx, cy)[None, None]
    blurred = blur_heatmaps(heat, kernel)
    assert blurred.max().item() == pytest.approx(heat.max().item())
    px, py = _peaks(heat)
    offset = dark_offsets(blurred.log(), px, py)[0, 0]
    found = torch.stack([px[0, 0] + offset[0], py[0, 0] + offset[1]])
    tolerance = 1e-9 if (cx, cy) == (9.0, 7.0) else 0.02
    torch.testing.assert_close(found, torch.tensor([cx, cy], dtype=torch.float64), atol=tolerance, rtol=0)


@pytest.mark.parametrize("stencil", [1, 2])
@pytest.mark.parametrize("border", ["skip", "clamp"])
@pytest.mark.parametrize("cx, cy", [(9.0, 7.0), (9.3, 7.45), (10.49, 5.9), (4.7, 11.2)])
def test_every_variant_decodes_an_exact_gaussian_exactly(stencil, border, cx, cy):
    log_p = _gaussian(cx, cy).log()[None, None]  # a quadratic: every stencil is exact
    px, py = _peaks(log_p)
    for max_shift in (0.5, None):
        offset = dark_offsets(log_p, px, py, stencil, border, max_shift)[0, 0]
        expected = torch.tensor([cx - px.item(), cy - py.item()], dtype=torch.float64)
        torch.testing.assert_close(offset, expected, atol=1e-9, rtol=0)


def _map(center: float, right1: float, left1: float, right2: float, left2: float) -> torch.Tensor:
    """A 7x7 log-map, flat in y except a curvature -1 row profile, with the given values
    along the peak row (column 3 is the peak)."""
    row = torch.tensor([-9.0, left2, left1, center, right1, right2, -9.0], dtype=torch.float64)
    rows = torch.arange(7.0, dtype=torch.float64)[:, None]
    return (row[None, :] - 0.5 * (rows - 3) ** 2)[None, None]


def test_the_two_stencils_by_hand():
    # L along the peak row: L(1) = -2.0, L(2) = -0.5, L(3) = 0, L(4) = -0.1, L(5) = -1.0
    log_p = _map(0.0, -0.1, -0.5, -1.0, -2.0)
    px, py = torch.tensor([[3]]), torch.tensor([[3]])
    gx = (-0.1 - -0.5) / 2  # 0.2, the same for both stencils
    h1 = -0.1 - 0 + -0.5  # -0.6
    h2 = (-1.0 - 0 + -2.0) / 4  # -0.75
    # y: L = -(v - 3)^2 / 2, gradient 0, curvature -1 for both stencils, no cross term
    one = dark_offsets(log_p, px, py, stencil=1)[0, 0]
    two = dark_offsets(log_p, px, py, stencil=2)[0, 0]
    torch.testing.assert_close(one, torch.tensor([-gx / h1, 0.0], dtype=torch.float64))
    torch.testing.assert_close(two, torch.tensor([-gx / h2, 0.0], dtype=torch.float64))
    assert one[0].item() == pytest.approx(1 / 3) and two[0].item() == pytest.approx(0.2 / 0.75)


def test_the_shift_limit_by_hand():
    # a flat second neighbour: h2 = (-0.2 - 0 - 0.2) / 4 = -0.1, gx = 0.45: a step of 4.5
    log_p = _map(0.0, -0.1, -1.0, -0.2, -0.2)
    px, py = torch.tensor([[3]]), torch.tensor([[3]])
    assert dark_offsets(log_p, px, py, stencil=2, max_shift=None)[0, 0, 0].item() == pytest.approx(4.5)
    assert dark_offsets(log_p, px, py, stencil=2)[0, 0, 0].item() == 0.5
    assert dark_offsets(log_p, px, py, stencil=2, max_shift=0.25)[0, 0, 0].item() == 0.25


def test_the_border_rules_by_hand():
    # a Gaussian (sigma 1) centred at x = -0.3: its peak cell is column 0
    u = torch.arange(8.0, dtype=torch.float64)
    v = torch.arange(6.0, dtype=torch.float64)[:, None]
    log_p = (-((u + 0.3) ** 2 + (v - 3) ** 2) / 2)[None, None]
    px, py = torch.tensor([[0]]), torch.tensor([[3]])
    assert dark_offsets(log_p, px, py, border="skip")[0, 0].tolist() == [0.0, 0.0]
    # clamp reads the missing left neighbour at column 0: g = (L(1) - L(0)) / 2,
    # H = L(1) - 2 L(0) + L(0) = L(1) - L(0), a step of -1/2 (the flat top of the edge)
    clamped = dark_offsets(log_p, px, py, border="clamp", max_shift=None)[0, 0]
    torch.testing.assert_close(clamped, torch.tensor([-0.5, 0.0], dtype=torch.float64))
    # one column in: the +-1 stencil fits, the +-2 one does not
    px = torch.tensor([[1]])
    log_p = (-((u - 1.2) ** 2 + (v - 3) ** 2) / 2)[None, None]
    assert dark_offsets(log_p, px, py, stencil=1)[0, 0, 0].item() == pytest.approx(0.2)
    assert dark_offsets(log_p, px, py, stencil=2)[0, 0, 0].item() == 0.0
    assert dark_offsets(log_p, px, py, stencil=2, border="clamp")[0, 0, 0].item() != 0.0


def test_no_step_where_the_hessian_is_not_a_maximum():
    flat = torch.zeros(1, 1, 5, 5)
    assert dark_offsets(flat, torch.tensor([[2]]), torch.tensor([[2]])).abs().sum() == 0


def test_errors():
    log_p, p = torch.zeros(1, 1, 5, 5), torch.tensor([[2]])
    with pytest.raises(ValueError, match="stencil"):
        dark_offsets(log_p, p, p, stencil=3)
    with pytest.raises(ValueError, match="border"):
        dark_offsets(log_p, p, p, border="reflect")
    with pytest.raises(ValueError, match="max_shift"):
        dark_offsets(log_p, p, p, max_shift=0.0)
    with pytest.raises(ValueError, match="peaks"):
        dark_offsets(log_p, torch.tensor([2]), p)
    with pytest.raises(ValueError, match="odd"):
        blur_heatmaps(log_p, 4)


@pytest.mark.parametrize("kernel", [3, 5, 11])
def test_the_blur_is_the_zero_padded_separable_convolution(kernel):
    """The shifted-sum blur computes what two 1-channel conv2d passes compute (which oneDNN
    ran about 50x slower), then restores each map's maximum."""
    import torch.nn.functional as F

    heatmaps = torch.rand(2, 5, 20, 12, generator=torch.Generator().manual_seed(kernel))
    radius = kernel // 2
    taps = torch.exp(-(torch.arange(kernel) - radius).float().square() / (2 * blur_sigma(kernel) ** 2))
    taps = taps / taps.sum()
    x = heatmaps.reshape(10, 1, 20, 12)
    x = F.conv2d(x, taps.view(1, 1, 1, kernel), padding=(0, radius))
    x = F.conv2d(x, taps.view(1, 1, kernel, 1), padding=(radius, 0)).reshape(2, 5, 20, 12)
    x = x * (heatmaps.amax((-2, -1), keepdim=True) / x.amax((-2, -1), keepdim=True))
    torch.testing.assert_close(blur_heatmaps(heatmaps, kernel), x, rtol=1e-6, atol=1e-6)
