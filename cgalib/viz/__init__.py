"""Pictures: skeletons, keypoints and boxes drawn over images, and prediction grids."""

from cgalib.viz.figures import save_prediction_grid
from cgalib.viz.masks import draw_masks
from cgalib.viz.poses import (
    DISPLAY_SCORE_THRESHOLD,
    LIMB_COLORS,
    PoseStyle,
    check_people_keypoints,
    draw_people,
    keypoint_colors,
    limb_colors,
    limb_side,
    pose_style,
)

__all__ = [
    "DISPLAY_SCORE_THRESHOLD",
    "LIMB_COLORS",
    "PoseStyle",
    "check_people_keypoints",
    "draw_masks",
    "draw_people",
    "keypoint_colors",
    "limb_colors",
    "limb_side",
    "pose_style",
    "save_prediction_grid",
]
