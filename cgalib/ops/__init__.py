"""Region-of-interest operators: RoIAlign in pure PyTorch and the roi box formats."""

from cgalib.ops.roi_align import RoIAlign, roi_align
from cgalib.ops.rois import boxes_to_rois

__all__ = ["RoIAlign", "boxes_to_rois", "roi_align"]
