"""A small COCO keypoint ground truth, shared by the eval tests (builders in ``helpers``)."""

from __future__ import annotations

import pytest

from helpers import write_toy_coco_keypoints


@pytest.fixture
def coco_gt(tmp_path):
    """``(path, annotations)`` of the toy ground truth of ``helpers``."""
    path = tmp_path / "gt.json"
    return path, write_toy_coco_keypoints(path)
