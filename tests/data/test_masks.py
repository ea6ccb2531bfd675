"""COCO ``segmentation`` fields: checked, then rasterised as pycocotools does (the loader's
masks are tested with CocoKeypoints)."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from cgalib.codecs import segmentation_to_mask
from cgalib.data import (
    NO_SEGMENTATION,
    PERSON_CATEGORY,
    AnnotationError,
    check_segmentations,
    segmentation_problem,
    validate_coco,
)

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def test_polygon_rle_and_uncompressed_rle_agree():
    poly = [[2, 2, 12, 2, 12, 9, 2, 9]]
    from_poly = segmentation_to_mask(poly, 12, 15)
    rle = mask_utils.encode(np.asfortranarray(from_poly.astype(np.uint8)))
    compressed = {"size": [12, 15], "counts": rle["counts"].decode("ascii")}
    flat = from_poly.T.reshape(-1)  # column-major runs, starting with background
    runs, current, count = [], False, 0
    for v in flat:
        if v != current:
            runs.append(count)
            current, count = v, 0
        count += 1
    runs.append(count)
    uncompressed = {"size": [12, 15], "counts": runs}
    assert segmentation_problem(uncompressed, 12, 15) is None
    assert np.array_equal(segmentation_to_mask(compressed, 12, 15), from_poly)
    assert np.array_equal(segmentation_to_mask(uncompressed, 12, 15), from_poly)


@pytest.mark.parametrize(
    ("segm", "problem"),
    [
        ([[0, 0, 5, 0, 5, 5]], None),
        ({"size": [10, 10], "counts": "abc"}, None),
        ({"size": [10, 10], "counts": [40, 60]}, None),
        ([[0, 0, 5, 0, 5]], "has a segmentation polygon of 5 numbers (odd: x, y pairs)"),
        ([[0, 0, 5, 5]], "has a segmentation polygon of 2 points (4 numbers); a polygon needs"),
        ([[0, 0, 5, "x", 5, 5]], "has a segmentation polygon that is not a list of finite"),
        ([[0, 0, 5, float("nan"), 5, 5]], "polygon that is not a list of finite numbers"),
        ([5, 5, 6], "polygon that is not a list of finite numbers"),
        ({"size": [10], "counts": "abc"}, "has a segmentation RLE with size [10]; expected [height"),
        ({"size": [20, 10], "counts": "abc"}, "RLE of size [20, 10] on an image of size [10, 10]"),
        ({"size": [10, 10], "counts": [40, -1]}, "RLE whose counts are not integers >= 0"),
        ({"size": [10, 10], "counts": [40, 50]}, "counts add up to 90, not height * width = 100"),
        ({"size": [10, 10]}, "has a segmentation RLE without counts"),
        ({"size": [10, 10], "counts": ""}, "has a segmentation RLE without counts"),
        ("abc", "has a segmentation of type str; expected polygons or an RLE"),
    ],
)
def test_what_is_wrong_with_a_segmentation(segm, problem):
    found = segmentation_problem(segm, 10, 10)
    if problem is None:
        assert found is None
    else:
        assert problem in found


def _coco_set(segmentations: dict) -> dict:
    """One 20x20 image and a person per entry of ``segmentations`` (id -> segmentation, or
    ``"absent"`` for none), plus a crowd region without segmentation."""
    anns = []
    for ann_id, segm in segmentations.items():
        ann = {"id": ann_id, "image_id": 1, "category_id": 1, "iscrowd": 0, "bbox": [2, 2, 8, 8],
               "area": 64, "num_keypoints": 1,
               "keypoints": [ann_id % 7 + 3, 5, 2] + [0] * 48}  # fmt: skip  # people apart
        if segm != "absent":
            ann["segmentation"] = segm
        anns.append(ann)
    anns.append({"id": 99, "image_id": 1, "category_id": 1, "iscrowd": 1, "bbox": [0, 0, 4, 4],
                 "area": 16, "num_keypoints": 0, "keypoints": [0] * 51})  # fmt: skip
    return {"images": [{"id": 1, "file_name": "a.jpg", "height": 20, "width": 20}],
            "annotations": anns, "categories": [PERSON_CATEGORY]}  # fmt: skip


def test_people_without_a_segmentation_are_dropped_with_a_count():
    square = [[2, 2, 10, 2, 10, 10, 2, 10]]
    coco, report = validate_coco(_coco_set({1: square, 2: "absent", 3: [], 4: None}))
    checked = check_segmentations(coco, report)
    assert checked.dropped[NO_SEGMENTATION] == (2, 3, 4)
    assert checked.kept == 1 and checked.labelled == 1 and checked.images_with_people == 1
    assert "no segmentation: 3" in str(checked)
    assert check_segmentations(*validate_coco(_coco_set({1: square}))) == validate_coco(
        _coco_set({1: square})
    )[1]  # nothing missing, the report as it was (the crowd needs none)


def test_a_malformed_segmentation_is_an_error_naming_the_file_and_the_annotation():
    coco, report = validate_coco(_coco_set({1: [[0, 0, 5, 5]], 2: "absent"}))
    with pytest.raises(AnnotationError, match=r"the dataset dict: annotation 1 has a segmentation "
                                              r"polygon of 2 points .*; fix it, or remove the"):  # fmt: skip
        check_segmentations(coco, report)
