"""COCO evaluation: keypoint OKS AP (pycocotools), box/mask AP, and whole-split evaluation."""

from cgalib.eval.box_ap import BOX_METRICS, box_ap
from cgalib.eval.coco_keypoints import (
    KEYPOINT_METRICS,
    coco_keypoint_ap,
    format_metrics,
    load_coco,
)
from cgalib.eval.evaluate import evaluate_coco, predict_coco

__all__ = [
    "BOX_METRICS",
    "KEYPOINT_METRICS",
    "box_ap",
    "coco_keypoint_ap",
    "evaluate_coco",
    "format_metrics",
    "load_coco",
    "predict_coco",
]
