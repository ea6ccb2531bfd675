"""center_targets (encode) and decode_centers / heatmap_nms (decode): values by hand, the
round trip, the NMS window, errors."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cgalib.codecs import center_radius, center_targets, decode_centers, draw_gaussian, heatmap_nms

from helpers import requires_cuda


def test_by_hand():
    boxes = torch.tensor([[2.0, 3.0, 9.0, 8.0], [10.5, 0.5, 13.5, 4.0]])
    t = center_targets(boxes, (10, 16), max_objects=4)
    # box 0: center (5.5, 5.5) -> pixel (5, 5); box 1: center (12, 2.25) -> pixel (12, 2)
    assert t["index"].tolist() == [5 * 16 + 5, 2 * 16 + 12, 0, 0]
    assert t["mask"].tolist() == [True, True, False, False]
    torch.testing.assert_close(t["wh"][:2], torch.tensor([[7.0, 5.0], [3.0, 3.5]]))
    torch.testing.assert_close(t["offset"][:2], torch.tensor([[0.5, 0.5], [0.0, 0.25]]))
    assert t["wh"][2:].abs().sum() == 0 and t["offset"][2:].abs().sum() == 0
    heat = t["heatmap"]
    assert heat.shape == (1, 10, 16)
    assert heat[0, 5, 5] == 1 and heat[0, 2, 12] == 1 and heat.eq(1).sum() == 2
    sigma = (2 * int(center_radius(5.0, 7.0)) + 1) / 6
    assert heat[0, 5, 6].item() == pytest.approx(math.exp(-1 / (2 * sigma**2)))


@pytest.mark.parametrize("seed", range(3))
def test_heatmap_matches_sequential_draw_gaussian(seed):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(6, 2, generator=g) * 30
    boxes = torch.cat([xy, xy + torch.rand(6, 2, generator=g) * 20 + 0.5], 1)
    t = center_targets(boxes, (32, 40))
    expected = torch.zeros(32, 40)
    for x1, y1, x2, y2 in boxes.tolist():
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        if 0 <= cx < 40 and 0 <= cy < 32:
            draw_gaussian(expected, (cx, cy), center_radius(y2 - y1, x2 - x1))
    torch.testing.assert_close(t["heatmap"][0], expected)


def test_skips_degenerate_and_outside_boxes_and_keeps_order():
    boxes = torch.tensor(
        [
            [3.0, 3.0, 3.0, 9.0],  # zero width
            [40.0, 2.0, 50.0, 6.0],  # center outside the map
            [1.0, 1.0, 5.0, 5.0],
            [-4.0, 2.0, 2.0, 6.0],  # center x = -1
            [6.0, 6.0, 8.0, 9.0],
        ]
    )
    t = center_targets(boxes, (12, 12), max_objects=3)
    assert t["mask"].tolist() == [True, True, False]
    assert t["index"].tolist() == [3 * 12 + 3, 7 * 12 + 7, 0]
    assert t["heatmap"].eq(1).sum() == 2


def test_overflow_boxes_get_a_peak_but_no_slot():
    boxes = torch.tensor([[1.0, 1.0, 3.0, 3.0], [6.0, 6.0, 8.0, 8.0], [10.0, 1.0, 12.0, 3.0]])
    t = center_targets(boxes, (14, 14), max_objects=2)
    assert t["mask"].tolist() == [True, True]
    assert t["index"].tolist() == [2 * 14 + 2, 7 * 14 + 7]
    assert t["heatmap"][0, 2, 11] == 1


def test_no_boxes():
    t = center_targets(torch.zeros(0, 4), (6, 7), max_objects=5)
    assert t["heatmap"].shape == (1, 6, 7) and t["heatmap"].sum() == 0
    assert t["wh"].shape == (5, 2) and t["index"].dtype == torch.long
    assert t["mask"].dtype == torch.bool and not t["mask"].any()


def test_index_and_offset_recover_the_center():
    boxes = torch.rand(10, 2) * 50
    boxes = torch.cat([boxes, boxes + torch.rand(10, 2) * 10 + 1], 1)
    t = center_targets(boxes, (64, 64))
    m = t["mask"]
    xy = torch.stack([t["index"][m] % 64, t["index"][m] // 64], 1).float()
    torch.testing.assert_close(xy + t["offset"][m], (boxes[:, :2] + boxes[:, 2:]) / 2)
    torch.testing.assert_close(t["wh"][m], boxes[:, 2:] - boxes[:, :2])


def test_rejects_bad_inputs():
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        center_targets(torch.zeros(2, 5), (4, 4))
    with pytest.raises(ValueError, match="size"):
        center_targets(torch.zeros(2, 4), (4, -1))


@requires_cuda
def test_cpu_cuda_parity():
    boxes = torch.rand(30, 2) * 100
    boxes = torch.cat([boxes, boxes + torch.rand(30, 2) * 30 + 1], 1)
    cpu = center_targets(boxes, (128, 128))
    gpu = center_targets(boxes.cuda(), (128, 128))
    for key in cpu:
        torch.testing.assert_close(gpu[key].cpu(), cpu[key])


@st.composite
def _boxes_on_distinct_cells(draw):
    """A map ``(H, W)`` and 1..8 boxes whose centers fall in distinct cells of it.

    A center is ``cell + offset`` with ``offset`` in ``[0, 1)``, so ``center_targets`` puts
    the box at ``cell``. Sizes run from half a cell to wider than the map: boxes may hang
    over the border (only the center must be inside, as the encoder requires).
    Coordinates are multiples of 1/64, so every sum the codec forms is exact in float32.
    """
    height, width = draw(st.integers(3, 20)), draw(st.integers(3, 20))
    cells = draw(
        st.lists(
            st.tuples(st.integers(0, width - 1), st.integers(0, height - 1)),
            min_size=1,
            max_size=min(8, height * width),
            unique=True,
        )
    )
    sixty_fourths = st.integers(0, 63)
    boxes = []
    for cx, cy in cells:
        ox, oy = draw(sixty_fourths) / 64, draw(sixty_fourths) / 64
        w, h = draw(st.integers(32, 30 * 64)) / 64, draw(st.integers(32, 30 * 64)) / 64
        boxes.append([cx + ox - w / 2, cy + oy - h / 2, cx + ox + w / 2, cy + oy + h / 2])
    return (height, width), torch.tensor(boxes)


@settings(max_examples=60, deadline=None)
@given(case=_boxes_on_distinct_cells())
def test_encode_decode_round_trip(case):
    """``center_targets`` -> perfect predictions -> ``decode_centers(k=N)`` returns the boxes.

    The perfect prediction is the target heatmap, with the ``wh`` and ``offset`` targets
    written at each box's ``index`` cell (zeros elsewhere). Every center cell holds exactly
    1 and every other pixel less than 1 (a Gaussian is 1 only at its own center), so the
    3x3 NMS keeps all N centers, adjacent ones included (two neighbouring 1s are both the
    maximum of their windows), and the top N are exactly them. The one real limit is one
    box per center cell: a second box on the same cell has nowhere to write its regression,
    so the generator draws distinct cells. Decoded order is a tie at score 1, so boxes are
    matched as sets.
    """
    (height, width), boxes = case
    n = boxes.shape[0]
    t = center_targets(boxes, (height, width), max_objects=n)
    assert t["mask"].all()
    wh = torch.zeros(1, 2, height * width)
    offset = torch.zeros(1, 2, height * width)
    wh[0, :, t["index"]] = t["wh"].T
    offset[0, :, t["index"]] = t["offset"].T
    decoded, scores = decode_centers(
        t["heatmap"][None], wh.view(1, 2, height, width), offset.view(1, 2, height, width), k=n
    )
    assert scores.shape == (1, n) and scores.eq(1).all()
    # Each GT box has exactly one decoded box equal to it, and vice versa.
    error = (boxes[:, None] - decoded[0][None]).abs().amax(-1)  # (N gt, N decoded)
    match = error.argmin(1)
    assert sorted(match.tolist()) == list(range(n))
    assert error[torch.arange(n), match].max() <= 1e-5
    # One more box would be a Gaussian tail (< 1) or a zero, never another center.
    if n < height * width:
        _, more = decode_centers(
            t["heatmap"][None], wh.view(1, 2, height, width), offset.view(1, 2, height, width),
            k=n + 1,
        )  # fmt: skip
        assert more[0, n] < 1


def test_adjacent_centers_both_survive_nms():
    # centers in cells (4, 4) and (5, 4): each 1 is the maximum of its 3x3 window
    boxes = torch.tensor([[2.0, 2.0, 7.0, 7.0], [3.0, 2.0, 8.0, 7.0]])
    t = center_targets(boxes, (10, 10))
    assert t["index"][:2].tolist() == [44, 45]
    kept = heatmap_nms(t["heatmap"][None])
    assert kept[0, 0, 4, 4] == 1 and kept[0, 0, 4, 5] == 1 and kept.eq(1).sum() == 2


def test_decode_by_hand():
    heat = torch.zeros(1, 1, 10, 12)
    heat[0, 0, 2, 3] = 0.9
    heat[0, 0, 2, 4] = 0.8  # suppressed by its 0.9 neighbour
    heat[0, 0, 7, 9] = 0.6
    wh = torch.zeros(1, 2, 10, 12)
    offset = torch.zeros(1, 2, 10, 12)
    wh[0, :, 2, 3] = torch.tensor([4.0, 6.0])
    offset[0, :, 2, 3] = torch.tensor([0.25, 0.5])
    wh[0, :, 7, 9] = torch.tensor([2.0, 2.0])
    boxes, scores = decode_centers(heat, wh, offset, k=3)
    assert boxes.shape == (1, 3, 4) and scores.shape == (1, 3)
    torch.testing.assert_close(scores[0], torch.tensor([0.9, 0.6, 0.0]))
    # center (3.25, 2.5), size (4, 6)
    torch.testing.assert_close(boxes[0, 0], torch.tensor([1.25, -0.5, 5.25, 5.5]))
    torch.testing.assert_close(boxes[0, 1], torch.tensor([8.0, 6.0, 10.0, 8.0]))


def test_nms_keeps_only_local_maxima():
    heat = torch.rand(2, 1, 16, 16)
    kept = heatmap_nms(heat)
    for b in range(2):
        for y in range(16):
            for x in range(16):
                window = heat[b, 0, max(y - 1, 0) : y + 2, max(x - 1, 0) : x + 2]
                is_max = bool(heat[b, 0, y, x] == window.max())
                assert kept[b, 0, y, x] == (heat[b, 0, y, x] if is_max else 0)
    with pytest.raises(ValueError, match="odd"):
        heatmap_nms(heat, kernel=2)


def test_scores_sorted_and_batch_matches_single_images():
    heat, wh, offset = (
        torch.rand(3, 1, 12, 12),
        torch.rand(3, 2, 12, 12) * 5,
        torch.rand(3, 2, 12, 12),
    )
    boxes, scores = decode_centers(heat, wh, offset, k=10)
    assert (scores[:, :-1] >= scores[:, 1:]).all()
    for b in range(3):
        single = decode_centers(heat[b : b + 1], wh[b : b + 1], offset[b : b + 1], k=10)
        torch.testing.assert_close(single[0][0], boxes[b])
        torch.testing.assert_close(single[1][0], scores[b])
    w = boxes[..., 2] - boxes[..., 0]
    assert (w >= 0).all()


def test_k_larger_than_the_map():
    boxes, scores = decode_centers(
        torch.rand(2, 1, 3, 4), torch.ones(2, 2, 3, 4), torch.zeros(2, 2, 3, 4), k=100
    )
    assert boxes.shape == (2, 12, 4) and scores.shape == (2, 12)


def test_shape_errors():
    heat, wh = torch.rand(1, 1, 4, 4), torch.rand(1, 2, 4, 4)
    with pytest.raises(ValueError, match="heatmap"):
        decode_centers(torch.rand(1, 2, 4, 4), wh, wh)
    with pytest.raises(ValueError, match="offset"):
        decode_centers(heat, wh, torch.rand(1, 2, 4, 5))
    with pytest.raises(ValueError, match="k must"):
        decode_centers(heat, wh, wh, k=0)


@requires_cuda
def test_decode_cpu_cuda_parity():
    heat, wh, off = torch.rand(2, 1, 32, 32), torch.rand(2, 2, 32, 32) * 8, torch.rand(2, 2, 32, 32)
    cpu = decode_centers(heat, wh, off, k=20)
    gpu = decode_centers(heat.cuda(), wh.cuda(), off.cuda(), k=20)
    for a, b in zip(cpu, gpu):
        torch.testing.assert_close(b.cpu(), a)


def test_negative_sizes_give_degenerate_not_inverted_boxes():
    heat = torch.zeros(1, 1, 4, 4)
    heat[0, 0, 1, 1] = 1.0
    wh = torch.full((1, 2, 4, 4), -3.0)
    boxes, _ = decode_centers(heat, wh, torch.zeros(1, 2, 4, 4), k=1)
    assert boxes[0, 0].tolist() == [1.0, 1.0, 1.0, 1.0]


def test_equal_scores_are_decoded_in_index_order():
    """Past the last peak every score is 0 (and two peaks may tie): ties come out in
    row-major cell order, as a stable sort gives them (``topk`` orders ties at will)."""
    heat = torch.zeros(1, 1, 8, 8)
    heat[0, 0, 1, 6] = heat[0, 0, 5, 2] = 0.7  # a tie between two peaks
    wh, offset = torch.zeros(1, 2, 8, 8), torch.zeros(1, 2, 8, 8)
    boxes, scores = decode_centers(heat, wh, offset, k=20)
    cells = [(int(b[1]), int(b[0])) for b in boxes[0, :, :2]]  # (row, column) of each center
    assert cells[:2] == [(1, 6), (5, 2)]
    zeros = [r * 8 + c for r, c in cells[2:]]
    assert zeros == sorted(zeros) and scores[0, 2:].eq(0).all()
