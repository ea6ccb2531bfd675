"""Per-frame people (COCO-style dicts) as arrays, validated with messages that locate them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cgalib.utils.keypoint_set import check_oks_sigmas


def people_arrays(
    people: Sequence[dict], num_keypoints: int, where: str = "frame"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keypoints `(N, K, 3)`, boxes `(N, 4)` xywh and scores `(N,)` of one frame's people.

    A person needs ``keypoints`` (flat ``[x, y, s] * K``) and ``bbox`` (``[x, y, w, h]``);
    a missing ``score`` reads as 1.

    Args:
        people: the frame's person dicts.
        num_keypoints: ``K``.
        where: names the frame in messages (``"frame 12"``).

    Raises:
        ValueError: naming the frame, the person and the expected numbers.
    """
    kps = np.zeros((len(people), num_keypoints, 3))
    boxes = np.zeros((len(people), 4))
    scores = np.ones(len(people))
    for i, person in enumerate(people):
        if not isinstance(person, dict):
            raise ValueError(f"{where}, person {i}: expected a dict, got {type(person).__name__}")
        for key in ("keypoints", "bbox"):
            if key not in person:
                raise ValueError(f"{where}, person {i}: no {key!r} (have {sorted(person)})")
        k = np.asarray(person["keypoints"], dtype=float).reshape(-1)
        if k.size != 3 * num_keypoints:
            raise ValueError(
                f"{where}, person {i}: 'keypoints' has {k.size} numbers, expected "
                f"3 * {num_keypoints} = {3 * num_keypoints} (x, y, score per keypoint; pass "
                "sigmas of the keypoint set's length for other sets)"
            )
        b = np.asarray(person["bbox"], dtype=float).reshape(-1)
        if b.size != 4:
            raise ValueError(f"{where}, person {i}: 'bbox' has {b.size} numbers, expected 4 (xywh)")
        if not (np.isfinite(k).all() and np.isfinite(b).all()):
            raise ValueError(f"{where}, person {i}: 'keypoints' or 'bbox' holds NaN or inf")
        kps[i], boxes[i] = k.reshape(num_keypoints, 3), b
        scores[i] = float(person.get("score", 1.0))
    return kps, boxes, scores


def check_sigmas(sigmas: Sequence[float]) -> np.ndarray:
    """``sigmas`` as a positive float array `(K,)`, or a ``ValueError`` saying what is wrong
    (the check of [`check_oks_sigmas()`][cgalib.utils.keypoint_set.check_oks_sigmas])."""
    return np.asarray(check_oks_sigmas(sigmas), dtype=float)
