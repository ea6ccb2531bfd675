"""How alike two sets of people are: pairwise OKS of keypoints and IoU of boxes.

Both the tracker (matching consecutive frames) and the tracking metrics (matching
predictions to ground truth) use these matrices.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pycocotools import mask as mask_utils

__all__ = ["box_iou_matrix", "oks_matrix"]


def oks_matrix(
    keypoints_a: np.ndarray,
    keypoints_b: np.ndarray,
    areas: np.ndarray,
    sigmas: Sequence[float],
    valid_a: np.ndarray | None = None,
    valid_b: np.ndarray | None = None,
) -> np.ndarray:
    """Object keypoint similarity of every person of ``a`` with every person of ``b``.

    COCO's OKS: ``mean_k exp(-d_k^2 / (2 s^2 (2 sigma_k)^2))`` over the keypoints valid in
    both people, with ``s^2`` the area of the person of ``a`` (``a`` plays the ground
    truth's part). A pair with no keypoint valid in both has OKS 0.

    Args:
        keypoints_a: `(N, K, 2)` or `(N, K, 3)` positions in pixels (a third column is
            ignored).
        keypoints_b: `(M, K, 2)` or `(M, K, 3)`.
        areas: `(N,)` the scale ``s^2`` of each person of ``a`` in pixels² (COCO uses the
            segment area; a box area gives a more lenient OKS).
        sigmas: `(K,)` per-keypoint falloff constants, e.g.
            [`cgalib.utils.coco_meta.OKS_SIGMAS`][cgalib.utils.coco_meta.OKS_SIGMAS].
        valid_a: `(N, K)` bool, which keypoints of ``a`` count (default all).
        valid_b: `(M, K)` bool, which keypoints of ``b`` count (default all).

    Returns:
        `(N, M)` OKS in [0, 1].

    Raises:
        ValueError: when the keypoint counts of ``a``, ``b`` and ``sigmas`` differ.

    Examples:
        >>> a = np.zeros((1, 2, 2)); b = np.stack([a[0], a[0] + 100])
        >>> oks_matrix(a, b, np.array([100.0]), [0.1, 0.1]).round(3)
        array([[1., 0.]])
    """
    ka, kb = np.asarray(keypoints_a, float), np.asarray(keypoints_b, float)
    sig = np.asarray(sigmas, float)
    if ka.ndim != 3 or kb.ndim != 3 or ka.shape[1] != kb.shape[1] or ka.shape[1] != sig.size:
        raise ValueError(
            f"oks_matrix needs keypoints (N, K, 2|3) and (M, K, 2|3) with K = len(sigmas) = "
            f"{sig.size}; got {ka.shape} and {kb.shape}"
        )
    n, m, k = ka.shape[0], kb.shape[0], sig.size
    va = np.ones((n, k), bool) if valid_a is None else np.asarray(valid_a, bool)
    vb = np.ones((m, k), bool) if valid_b is None else np.asarray(valid_b, bool)
    d2 = ((ka[:, None, :, :2] - kb[None, :, :, :2]) ** 2).sum(-1)  # (N, M, K)
    scale = 2.0 * np.asarray(areas, float)[:, None, None] * (2.0 * sig) ** 2 + np.spacing(1)
    both = va[:, None, :] & vb[None, :, :]
    count = both.sum(-1)
    total = (np.exp(-d2 / scale) * both).sum(-1)
    return np.where(count > 0, total / np.maximum(count, 1), 0.0)


def box_iou_matrix(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box of ``a`` with every box of ``b`` (COCO xywh).

    Computed by ``pycocotools.mask.iou``, the function COCO's evaluation uses.

    Args:
        boxes_a: `(N, 4)` ``[x, y, w, h]``.
        boxes_b: `(M, 4)` ``[x, y, w, h]``.

    Returns:
        `(N, M)` IoU in [0, 1].

    Examples:
        >>> box_iou_matrix(np.array([[0, 0, 2, 2]]), np.array([[1, 0, 2, 2], [5, 5, 1, 1]]))
        array([[0.33333333, 0.        ]])
    """
    a = np.asarray(boxes_a, float).reshape(-1, 4)
    b = np.asarray(boxes_b, float).reshape(-1, 4)
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    return np.asarray(mask_utils.iou(a, b, [0] * len(b)), float).reshape(len(a), len(b))
