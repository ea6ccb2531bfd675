"""Data: keypoint sets and COCO's metadata, the synthetic crowd set, the COCO dataset and
the check of its annotation files, letterboxing and the paper's GPU augmentation; for
top-down models, the people of a set ([`PersonCrops`][PersonCrops]), their crop augmentation
([`TopDownAugmentation`][TopDownAugmentation]) and person boxes from a detections file or the ground truth;
the pipeline a model trains on, chosen by its contract ([`training_pipeline()`][training_pipeline]).

Annotation files are checked once, up front ([`validate_coco()`][validate_coco]: one clear error, or
a report of the people kept, converted and dropped), and so is every image file they list
([`check_image_files()`][check_image_files]); training, top-down training and evaluation
share those checks.
Workers decode and letterbox ([`CocoKeypoints`][CocoKeypoints] with ``input_size``,
[`collate_letterboxed()`][collate_letterboxed]); the device runs [`PoseAugmentation`][PoseAugmentation]. Targets are a
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
)
from cgalib.data.crop_augment import HALF_BODY_PADDING, UPPER_BODY, TopDownAugmentation
from cgalib.data.detections import (
    Detections,
    DetectionsError,
    DetectionsReport,
    DetectionsWarning,
    ground_truth_boxes,
    load_detections,
)
from cgalib.data.images import (
    ImageFileError,
    ImageFilesReport,
    ImageWarning,
    check_annotated_images,
    image_file_problem,
    read_annotated_image,
)
from cgalib.data.masks import (
    NO_SEGMENTATION,
    check_segmentations,
    segmentation_problem,
)
from cgalib.data.person_crops import PersonCrops, collate_person_crops
from cgalib.data.pipelines import TrainingPipeline, training_pipeline
from cgalib.data.synthetic import (
    BODY14_CATEGORY,
    POSES,
    SYNTHETIC_AUGMENT,
    SYNTHETIC_DESCRIPTION,
    SYNTHETIC_KEYPOINTS,
    make_synthetic_coco,
    synthetic_sample,
    synthetic_summary,
)
from cgalib.data.validate import (
    DROP_REASONS,
    FAR_FROM_KEYPOINTS,
    FEW_KEYPOINTS,
    NO_BOX,
    OFF_IMAGE,
    ORIGIN_POINTS,
    PAST_EDGE,
    REPEATED,
    SUSPECT_REASONS,
    ZERO_AREA,
    AnnotationError,
    AnnotationReport,
    AnnotationWarning,
    Categories,
    check_coco,
    check_image_files,
    coco_dataset,
    labelled_mask,
    read_coco_json,
    read_keypoint_set,
    validate_coco,
    warn_report,
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
from cgalib.utils.keypoint_set import KeypointSet, KeypointSetError

__all__ = [
    "BODY14_CATEGORY",
    "DROP_REASONS",
    "FAR_FROM_KEYPOINTS",
    "FEW_KEYPOINTS",
    "FLIP_INDEX",
    "HALF_BODY_PADDING",
    "KEYPOINT_NAMES",
    "NO_BOX",
    "NO_SEGMENTATION",
    "NUM_KEYPOINTS",
    "OFF_IMAGE",
    "OKS_SIGMAS",
    "ORIGIN_POINTS",
    "PAST_EDGE",
    "PERSON_CATEGORY",
    "POSES",
    "REPEATED",
    "SKELETON",
    "SKELETON_0",
    "SUSPECT_REASONS",
    "SYNTHETIC_AUGMENT",
    "SYNTHETIC_DESCRIPTION",
    "SYNTHETIC_KEYPOINTS",
    "UPPER_BODY",
    "ZERO_AREA",
    "AnnotationError",
    "AnnotationReport",
    "AnnotationWarning",
    "Categories",
    "CocoKeypoints",
    "Detections",
    "DetectionsError",
    "DetectionsReport",
    "DetectionsWarning",
    "ImageFileError",
    "ImageFilesReport",
    "ImageWarning",
    "KeypointSet",
    "KeypointSetError",
    "PersonCrops",
    "PoseAugmentation",
    "TopDownAugmentation",
    "TrainingPipeline",
    "affine_boxes",
    "affine_keypoints",
    "check_annotated_images",
    "check_coco",
    "check_image_files",
    "check_segmentations",
    "coco_dataset",
    "collate",
    "collate_letterboxed",
    "collate_person_crops",
    "find_split",
    "labelled_mask",
    "ground_truth_boxes",
    "image_file_problem",
    "letterbox",
    "letterbox_target",
    "load_detections",
    "make_synthetic_coco",
    "read_annotated_image",
    "read_coco_json",
    "read_keypoint_set",
    "segmentation_problem",
    "synthetic_sample",
    "synthetic_summary",
    "training_pipeline",
    "validate_coco",
    "warn_report",
]
