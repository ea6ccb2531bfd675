"""Training targets in heatmap coordinates: center heatmaps and box regressions, center
lines (``M_x``, ``M_y``) and ROI keypoint heatmaps, with the matching ROI decoder."""

from cgalib.targets.batch import build_targets
from cgalib.targets.center import center_targets
from cgalib.targets.center_line import center_line_heatmaps
from cgalib.targets.gaussian import center_radius, draw_gaussian
from cgalib.targets.roi_keypoints import (
    decode_roi_heatmaps,
    image_to_roi_heatmap,
    roi_heatmap_to_image,
    roi_keypoint_targets,
)

__all__ = [
    "build_targets",
    "center_line_heatmaps",
    "center_radius",
    "center_targets",
    "decode_roi_heatmaps",
    "draw_gaussian",
    "image_to_roi_heatmap",
    "roi_heatmap_to_image",
    "roi_keypoint_targets",
]
