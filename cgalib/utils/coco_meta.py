"""The COCO person-keypoint metadata: names, skeleton, flip permutation, OKS sigmas.

Example:
    >>> len(KEYPOINT_NAMES), len(SKELETON), KEYPOINT_NAMES[FLIP_INDEX[1]]
    (17, 19, 'right_eye')
"""

from __future__ import annotations

__all__ = [
    "FLIP_INDEX",
    "KEYPOINT_NAMES",
    "NUM_KEYPOINTS",
    "OKS_SIGMAS",
    "PERSON_CATEGORY",
    "SKELETON",
    "SKELETON_0",
]

KEYPOINT_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
"""The 17 COCO keypoints in annotation order (K = 17). "left" is the person's left."""

NUM_KEYPOINTS: int = len(KEYPOINT_NAMES)
"""Number of keypoints per person, ``K``."""

SKELETON: tuple[tuple[int, int], ...] = (
    (16, 14),
    (14, 12),
    (17, 15),
    (15, 13),
    (12, 13),
    (6, 12),
    (7, 13),
    (6, 7),
    (6, 8),
    (7, 9),
    (8, 10),
    (9, 11),
    (2, 3),
    (1, 2),
    (1, 3),
    (2, 4),
    (3, 5),
    (4, 6),
    (5, 7),
)
"""The 19 COCO limbs as 1-based keypoint index pairs, as in the ``skeleton`` field of
``person_keypoints_*.json``.
"""

SKELETON_0: tuple[tuple[int, int], ...] = tuple((a - 1, b - 1) for a, b in SKELETON)
""":data:`SKELETON` with 0-based indices into :data:`KEYPOINT_NAMES`."""


def _flip_index(names: tuple[str, ...]) -> tuple[int, ...]:
    swap = {"left": "right", "right": "left"}
    out = []
    for name in names:
        side, _, part = name.partition("_")
        out.append(names.index(f"{swap[side]}_{part}") if side in swap else names.index(name))
    return tuple(out)


FLIP_INDEX: tuple[int, ...] = _flip_index(KEYPOINT_NAMES)
"""Permutation for a horizontal flip: after mirroring the image, the keypoint at index ``k`` of
the flipped person is the mirrored keypoint ``FLIP_INDEX[k]`` of the original (left and
right swap, the nose stays). Use as ``flipped = keypoints[..., FLIP_INDEX, :]``.
"""

OKS_SIGMAS: tuple[float, ...] = tuple(
    s / 10.0
    for s in (
        0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72,
        0.62, 0.62, 1.07, 1.07, 0.87, 0.87, 0.89, 0.89,
    )
)  # fmt: skip
"""Per-keypoint OKS falloff constants of pycocotools' ``COCOeval`` (``kpt_oks_sigmas``)."""

PERSON_CATEGORY: dict = {
    "supercategory": "person",
    "id": 1,
    "name": "person",
    "keypoints": list(KEYPOINT_NAMES),
    "skeleton": [list(limb) for limb in SKELETON],
}
"""The person category entry of COCO's ``person_keypoints_*.json``."""
