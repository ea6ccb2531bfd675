"""COCO evaluation: keypoint OKS AP (pycocotools) and box/mask AP (torchmetrics)."""

from cgalib.eval.box_ap import BOX_METRICS, box_ap
from cgalib.eval.coco_keypoints import (
    KEYPOINT_METRICS,
    coco_keypoint_ap,
    format_metrics,
    load_coco,
)

__all__ = [
    "BOX_METRICS",
    "KEYPOINT_METRICS",
    "box_ap",
    "coco_keypoint_ap",
    "format_metrics",
    "load_coco",
]
