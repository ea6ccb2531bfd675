"""The ROI mask codec: encode (roi_align targets) -> decode (paste) round trip, RLE."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from cgalib.codecs import (
    decode_roi_masks,
    letterbox_boxes,
    masks_to_rle,
    paste_roi_masks,
    roi_mask_targets,
    segmentation_to_mask,
    unletterbox_boxes,
)


def _iou(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a & b).sum() / (a | b).sum())


def _ellipse(h: int, w: int, cx: float, cy: float, rx: float, ry: float) -> torch.Tensor:
    ys, xs = torch.meshgrid(torch.arange(h) + 0.5, torch.arange(w) + 0.5, indexing="ij")
    return ((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2 <= 1


@pytest.mark.parametrize("size", [(16, 16), (32, 32), (28, 20)])
def test_target_round_trips_to_the_mask(size):
    mask = _ellipse(120, 100, 50, 60, 22, 45)[None]
    box = torch.tensor([[20.0, 10.0, 85.0, 112.0]])  # an extended box around the person
    target = roi_mask_targets(mask, box, size)
    assert target.shape == (1, *size) and set(target.unique().tolist()) <= {0.0, 1.0}
    back = paste_roi_masks(target, box, (120, 100)) >= 0.5
    assert _iou(back, mask) > 0.9


def test_a_box_that_cuts_the_person_keeps_only_its_part():
    mask = _ellipse(80, 80, 40, 40, 20, 30)[None]
    box = torch.tensor([[20.0, 10.0, 60.0, 40.0]])  # the upper half only
    back = paste_roi_masks(roi_mask_targets(mask, box, (32, 32)), box, (80, 80)) >= 0.5
    assert back[:, 40:].sum() == 0 and _iou(back, mask & (torch.arange(80)[:, None] < 40)) > 0.9


def test_pasting_a_full_box_mask_gives_the_box():
    boxes = torch.tensor([[3.0, 5.0, 17.0, 12.0], [0.0, 0.0, 30.0, 20.0], [-4.0, 15.0, 6.0, 40.0]])
    out = paste_roi_masks(torch.ones(3, 8, 8), boxes, (20, 30))
    for box, m in zip(boxes.tolist(), out):
        expected = torch.zeros(20, 30)
        x1, y1, x2, y2 = (max(v, 0) for v in box)
        expected[int(y1) : min(int(y2), 20), int(x1) : min(int(x2), 30)] = 1
        assert torch.equal(m, expected)


def test_decode_thresholds_the_sigmoid_at_one_half():
    logits = torch.tensor([[[-1.0, 1.0], [0.0, -0.1]]])
    box = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    assert decode_roi_masks(logits, box, (2, 2)).tolist() == [[[False, True], [True, False]]]


def test_pasting_through_the_inverse_letterbox_matches_the_image():
    mask = _ellipse(90, 60, 30, 45, 15, 35)[None]  # the original image
    scale = 128 / 90
    box = torch.tensor([[10.0, 5.0, 52.0, 86.0]])
    input_box = letterbox_boxes(box, scale)  # the ROI in model input pixels
    masks_in = torch.nn.functional.interpolate(
        mask[None].float(), scale_factor=scale, mode="nearest"
    )[0]
    target = roi_mask_targets(masks_in, input_box, (32, 32))
    back = paste_roi_masks(target, unletterbox_boxes(input_box, scale), (90, 60)) >= 0.5
    assert _iou(back, mask) > 0.9


def test_rle_results_load_with_coco_load_res():
    masks = torch.stack([_ellipse(40, 50, 20, 20, 8, 15), _ellipse(40, 50, 35, 20, 6, 10)])
    rles = masks_to_rle(masks)
    assert all(isinstance(r["counts"], str) and r["size"] == [40, 50] for r in rles)
    for r, m in zip(rles, masks):
        assert np.array_equal(mask_utils.decode(r), m.numpy().astype(np.uint8))
    gt = COCO()
    gt.dataset = {
        "images": [{"id": 1, "width": 50, "height": 40}],
        "annotations": [],
        "categories": [{"id": 1, "name": "person"}],
    }
    gt.createIndex()
    res = gt.loadRes(
        [{"image_id": 1, "category_id": 1, "segmentation": r, "score": 0.9} for r in rles]
    )
    assert [a["area"] for a in res.dataset["annotations"]] == [int(m.sum()) for m in masks]
    assert masks_to_rle(torch.zeros(0, 4, 4)) == []


def test_zero_boxes_and_bad_shapes():
    assert roi_mask_targets(torch.zeros(0, 10, 10), torch.zeros(0, 4), (8, 8)).shape == (0, 8, 8)
    assert paste_roi_masks(torch.zeros(0, 8, 8), torch.zeros(0, 4), (5, 6)).shape == (0, 5, 6)
    with pytest.raises(ValueError, match="boxes' N=2"):
        paste_roi_masks(torch.zeros(1, 8, 8), torch.zeros(2, 4), (5, 6))
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        masks_to_rle(torch.zeros(4, 4))


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_segmentation_forms_agree():
    poly = [[20, 10, 40, 10, 40, 30, 20, 30]]
    m = segmentation_to_mask(poly, 40, 60)
    rle = masks_to_rle(m[None])[0]
    assert np.array_equal(segmentation_to_mask(rle, 40, 60), m)
