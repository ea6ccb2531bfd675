"""Per-side views of xyxy boxes: the outward directions, the size each side is measured
against, and the horizontal mirror."""

from __future__ import annotations

import torch

from cgalib.ops.boxes import OUTWARD, box_side_sizes, hflip_boxes, side_vector


def test_outward_moves_every_side_away_from_the_box():
    box = torch.tensor([10.0, 20.0, 30.0, 60.0])
    grown = box + side_vector(OUTWARD, box)
    assert grown.tolist() == [9.0, 19.0, 31.0, 61.0]


def test_side_vector_follows_the_dtype_and_device_of_like(device):
    like = torch.zeros(3, dtype=torch.float64, device=device)
    v = side_vector((1, 2.5, -3, 0), like)
    assert v.shape == (4,) and v.dtype == torch.float64 and v.device == like.device
    assert v.tolist() == [1.0, 2.5, -3.0, 0.0]


def test_side_sizes_are_width_height_width_height_with_negatives_as_zero():
    boxes = torch.tensor([[[0.0, 0.0, 4.0, 2.0], [5.0, 5.0, 3.0, 9.0]]])  # (1, 2, 4)
    sizes = box_side_sizes(boxes)
    assert sizes.shape == (1, 2, 4)
    assert sizes.tolist() == [[[4.0, 2.0, 4.0, 2.0], [0.0, 4.0, 0.0, 4.0]]]


def test_hflip_mirrors_x_and_keeps_x1_left_of_x2():
    boxes = torch.tensor([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 10.0, 5.0]])
    flipped = hflip_boxes(boxes, 10)
    assert flipped.tolist() == [[7.0, 2.0, 9.0, 4.0], [0.0, 0.0, 10.0, 5.0]]
    assert (flipped[:, 0] <= flipped[:, 2]).all()
    torch.testing.assert_close(hflip_boxes(flipped, 10), boxes)  # an involution


def test_hflip_keeps_leading_dimensions():
    boxes = torch.rand(2, 3, 4) * 5
    boxes[..., 2:] += boxes[..., :2]
    out = hflip_boxes(boxes, 32.0)
    assert out.shape == (2, 3, 4)
    torch.testing.assert_close(out[..., [1, 3]], boxes[..., [1, 3]])
    torch.testing.assert_close(out[..., 2] - out[..., 0], boxes[..., 2] - boxes[..., 0])
