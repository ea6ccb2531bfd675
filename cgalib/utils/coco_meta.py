"""The COCO person-keypoint constants: names, skeleton, flip permutation, OKS sigmas.

Each is a field of [`KeypointSet.coco()`][cgalib.utils.keypoint_set.KeypointSet.coco],
the set of COCO's 17 person keypoints; code that handles other keypoint sets takes a
[`KeypointSet`][cgalib.utils.keypoint_set.KeypointSet] instead.

Example:
    >>> len(KEYPOINT_NAMES), len(SKELETON), KEYPOINT_NAMES[FLIP_INDEX[1]]
    (17, 19, 'right_eye')
"""

from __future__ import annotations

from cgalib.utils.keypoint_set import KeypointSet

__all__ = [
    "FLIP_INDEX",
    "KEYPOINT_NAMES",
    "NUM_KEYPOINTS",
    "OKS_SIGMAS",
    "PERSON_CATEGORY",
    "SKELETON",
    "SKELETON_0",
]

_COCO = KeypointSet.coco()

KEYPOINT_NAMES: tuple[str, ...] = _COCO.names
"""The 17 COCO keypoints in annotation order (K = 17). "left" is the person's left."""

NUM_KEYPOINTS: int = len(KEYPOINT_NAMES)
"""Number of keypoints per person, ``K``."""

SKELETON_0: tuple[tuple[int, int], ...] = _COCO.skeleton
"""The 19 COCO limbs as 0-based index pairs into [`KEYPOINT_NAMES`][KEYPOINT_NAMES]."""

SKELETON: tuple[tuple[int, int], ...] = tuple((a + 1, b + 1) for a, b in SKELETON_0)
"""The 19 COCO limbs as 1-based keypoint index pairs, as in the ``skeleton`` field of
``person_keypoints_*.json``.
"""

FLIP_INDEX: tuple[int, ...] = _COCO.flip_index
"""Permutation for a horizontal flip: after mirroring the image, the keypoint at index ``k`` of
the flipped person is the mirrored keypoint ``FLIP_INDEX[k]`` of the original (left and
right swap, the nose stays). Use as ``flipped = keypoints[..., FLIP_INDEX, :]``.
"""

OKS_SIGMAS: tuple[float, ...] = _COCO.sigmas
"""Per-keypoint OKS falloff constants of pycocotools' ``COCOeval`` (``kpt_oks_sigmas``)."""

PERSON_CATEGORY: dict = {
    "supercategory": "person",
    "id": 1,
    "name": "person",
    "keypoints": list(KEYPOINT_NAMES),
    "skeleton": [list(limb) for limb in SKELETON],
}
"""The person category entry of COCO's ``person_keypoints_*.json``."""
