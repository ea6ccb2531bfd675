"""Data: COCO keypoint metadata, the synthetic crowd set, the COCO dataset, letterboxing and
the paper's GPU augmentation; for top-down models, the people of a set
(:class:`PersonCrops`), their crop augmentation (:class:`TopDownAugmentation`) and person
boxes from a detections file or the ground truth.

Workers decode and letterbox (:class:`CocoKeypoints` with ``input_size``,
:func:`collate_letterboxed`); the device runs :class:`PoseAugmentation`. Targets are a
list of per-image dicts of tensors. Keypoints are COCO pixel indices (pixel centres at
integers), boxes are continuous xyxy. Dimension letters: B batch, H/W height/width,
N people, K keypoints.
"""

from cgalib.codecs.letterbox import letterbox, letterbox_target
from cgalib.data.augment import PoseAugmentation, affine_boxes, affine_keypoints
from cgalib.data.coco_keypoints import (
    CocoKeypoints,
    collate,
    collate_letterboxed,
    find_split,
    load_person_coco,
)
from cgalib.data.crop_augment import HALF_BODY_PADDING, UPPER_BODY, TopDownAugmentation
from cgalib.data.detections import ground_truth_boxes, load_detections
from cgalib.data.person_crops import PersonCrops, collate_person_crops
from cgalib.data.synthetic import (
    POSES,
    SYNTHETIC_AUGMENT,
    make_synthetic_coco,
    synthetic_sample,
    synthetic_summary,
)
from cgalib.utils.coco_meta import (
    FLIP_INDEX,
    KEYPOINT_NAMES,
    NUM_KEYPOINTS,
    OKS_SIGMAS,
    PERSON_CATEGORY,
    SKELETON,
    SKELETON_0,
)

__all__ = [
    "FLIP_INDEX",
    "HALF_BODY_PADDING",
    "KEYPOINT_NAMES",
    "NUM_KEYPOINTS",
    "OKS_SIGMAS",
    "PERSON_CATEGORY",
    "POSES",
    "SKELETON",
    "SKELETON_0",
    "SYNTHETIC_AUGMENT",
    "UPPER_BODY",
    "CocoKeypoints",
    "PersonCrops",
    "PoseAugmentation",
    "TopDownAugmentation",
    "affine_boxes",
    "affine_keypoints",
    "collate",
    "collate_letterboxed",
    "collate_person_crops",
    "find_split",
    "ground_truth_boxes",
    "letterbox",
    "letterbox_target",
    "load_detections",
    "load_person_coco",
    "make_synthetic_coco",
    "synthetic_sample",
    "synthetic_summary",
]
