"""OKS and box IoU matrices against direct per-pair references."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cgalib.utils.coco_meta import OKS_SIGMAS
from cgalib.video import box_iou_matrix, oks_matrix


def _oks_reference(a, b, area, sigmas, valid):
    """pycocotools' computeOks for one pair, written out."""
    terms = []
    for k, s in enumerate(sigmas):
        if valid[k]:
            d2 = (a[k, 0] - b[k, 0]) ** 2 + (a[k, 1] - b[k, 1]) ** 2
            terms.append(math.exp(-d2 / (2 * area * (2 * s) ** 2)))
    return sum(terms) / len(terms) if terms else 0.0


def test_oks_matches_the_coco_formula_pair_by_pair():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0, 50, (3, 17, 2)), rng.uniform(0, 50, (4, 17, 2))
    areas = rng.uniform(500, 3000, 3)
    valid = rng.random((3, 17)) > 0.3
    valid[2] = False  # nothing labelled: OKS 0
    got = oks_matrix(a, b, areas, OKS_SIGMAS, valid)
    want = [[_oks_reference(a[i], b[j], areas[i], OKS_SIGMAS, valid[i]) for j in range(4)]
            for i in range(3)]  # fmt: skip
    assert got == pytest.approx(np.array(want))


def test_box_iou_matches_a_direct_computation():
    a = np.array([[0, 0, 10, 10], [5, 5, 10, 20]], float)
    b = np.array([[5, 0, 10, 10], [100, 100, 1, 1], [0, 0, 10, 10]], float)
    inter = np.array([[50, 0, 100], [50, 0, 25]])
    union = np.array([[150, 101, 100], [250, 201, 275]])
    assert box_iou_matrix(a, b) == pytest.approx(inter / union)
    assert box_iou_matrix(a[:0], b).shape == (0, 3)


def test_oks_refuses_keypoint_counts_that_differ_from_the_sigmas():
    with pytest.raises(ValueError, match="K = len\\(sigmas\\) = 17"):
        oks_matrix(np.zeros((1, 5, 2)), np.zeros((1, 5, 2)), np.ones(1), OKS_SIGMAS)
