"""COCO ``segmentation`` fields: checked, then rasterised as pycocotools does (the loader's
masks are tested with CocoKeypoints)."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from cgalib.codecs import segmentation_to_mask
from cgalib.data import segmentation_problem

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
