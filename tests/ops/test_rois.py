"""boxes_to_rois: per-image box lists to ``(batch_index, x1, y1, x2, y2)`` rows, and errors."""

from __future__ import annotations

import pytest
import torch

from cgalib.ops import boxes_to_rois


def test_a_list_becomes_rows_with_the_image_index_in_order():
    a = torch.tensor([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]])
    c = torch.tensor([[9.0, 10.0, 11.0, 12.0]])
    rois = boxes_to_rois([a, torch.zeros(0, 4), c])
    assert rois.tolist() == [
        [0.0, 1.0, 2.0, 3.0, 4.0],
        [0.0, 5.0, 6.0, 7.0, 8.0],
        [2.0, 9.0, 10.0, 11.0, 12.0],
    ]


def test_a_roi_tensor_is_returned_as_it_is():
    rois = torch.rand(3, 5)
    assert boxes_to_rois(rois) is rois


def test_dtypes_promote_across_the_list_and_integers_become_float():
    mixed = boxes_to_rois([torch.zeros(1, 4, dtype=torch.float16), torch.ones(1, 4)])
    assert mixed.dtype == torch.float32 and mixed[:, 0].tolist() == [0.0, 1.0]
    ints = boxes_to_rois([torch.tensor([[1, 2, 3, 4]])])
    assert ints.dtype == torch.get_default_dtype() and ints.tolist() == [[0.0, 1.0, 2.0, 3.0, 4.0]]
    double = boxes_to_rois([torch.zeros(2, 4, dtype=torch.float64)])
    assert double.dtype == torch.float64


def test_no_images_and_no_boxes():
    assert boxes_to_rois([]).shape == (0, 5)
    assert boxes_to_rois([torch.zeros(0, 4), torch.zeros(0, 4)]).shape == (0, 5)


def test_rows_stay_on_the_device_of_the_boxes(device):
    rois = boxes_to_rois([torch.ones(2, 4, device=device), torch.ones(1, 4, device=device)])
    assert rois.device.type == device.type and rois[:, 0].tolist() == [0.0, 0.0, 1.0]


def test_other_shapes_are_refused_naming_the_entry():
    with pytest.raises(ValueError, match=r"must be \(N, 5\) rois .* got \(3, 4\); pass"):
        boxes_to_rois(torch.zeros(3, 4))
    with pytest.raises(ValueError, match=r"boxes\[1\] must be an \(N, 4\) xyxy tensor, got \(2, 5\)"):
        boxes_to_rois([torch.zeros(1, 4), torch.zeros(2, 5)])
    with pytest.raises(ValueError, match=r"boxes\[0\] must be an \(N, 4\) xyxy tensor, got list"):
        boxes_to_rois([[0.0, 0.0, 1.0, 1.0]])
