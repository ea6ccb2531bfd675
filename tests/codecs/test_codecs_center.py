import math

import pytest
import torch

from cgalib.codecs import center_radius, center_targets, draw_gaussian

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
