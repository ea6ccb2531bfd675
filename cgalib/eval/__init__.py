"""COCO evaluation by pycocotools: keypoint OKS AP (with the keypoint set's sigmas), box/mask
AP, a torchmetrics metric, and one evaluation loop for every model kind
([`evaluate_coco()`][evaluate_coco]; a top-down model's person boxes from the ground truth, a
detections file or a detector).

Ground truth goes through the check training uses ([`load_coco()`][load_coco]), results through
[`check_results()`][check_results], so bad input is one clear error, never a number.
"""

from cgalib.eval.coco_eval import (
    BOX_METRICS,
    IOU_TYPES,
    KEYPOINT_METRICS,
    check_results,
    coco_ap,
    coco_keypoint_ap,
    format_metrics,
)
from cgalib.eval.evaluate import (
    MASK_PREFIX,
    BoxSource,
    evaluate_coco,
    ground_truth_for,
    predict_coco,
)
from cgalib.eval.ground_truth import CocoGroundTruth, load_coco, require_ground_truth
from cgalib.eval.metric import BOX_PREFIX, CocoKeypointAP

__all__ = [
    "BOX_METRICS",
    "BOX_PREFIX",
    "BoxSource",
    "MASK_PREFIX",
    "IOU_TYPES",
    "KEYPOINT_METRICS",
    "CocoGroundTruth",
    "CocoKeypointAP",
    "check_results",
    "coco_ap",
    "coco_keypoint_ap",
    "evaluate_coco",
    "format_metrics",
    "ground_truth_for",
    "load_coco",
    "predict_coco",
    "require_ground_truth",
]
