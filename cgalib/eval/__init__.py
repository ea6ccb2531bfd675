"""COCO evaluation by pycocotools: keypoint OKS AP, box/mask AP, a torchmetrics metric, splits."""

from cgalib.eval.coco_eval import (
    BOX_METRICS,
    IOU_TYPES,
    KEYPOINT_METRICS,
    coco_ap,
    coco_keypoint_ap,
    format_metrics,
    load_coco,
)
from cgalib.eval.evaluate import evaluate_coco, predict_coco
from cgalib.eval.metric import BOX_PREFIX, CocoKeypointAP

__all__ = [
    "BOX_METRICS",
    "BOX_PREFIX",
    "IOU_TYPES",
    "KEYPOINT_METRICS",
    "CocoKeypointAP",
    "coco_ap",
    "coco_keypoint_ap",
    "evaluate_coco",
    "format_metrics",
    "load_coco",
    "predict_coco",
]
