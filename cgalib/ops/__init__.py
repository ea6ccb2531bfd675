"""Region-of-interest operators: RoIAlign in pure PyTorch, the roi box formats and per-side
box views."""

from cgalib.ops.boxes import OUTWARD, box_side_sizes, hflip_boxes, side_vector
from cgalib.ops.roi_align import RoIAlign, roi_align
from cgalib.ops.rois import boxes_to_rois

__all__ = [
    "OUTWARD",
    "RoIAlign",
    "box_side_sizes",
    "boxes_to_rois",
    "hflip_boxes",
    "roi_align",
    "side_vector",
]
