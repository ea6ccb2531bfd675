"""Pictures: skeletons, keypoints and boxes drawn over images, and prediction grids."""

from cgalib.viz.figures import save_prediction_grid
from cgalib.viz.masks import draw_masks
from cgalib.viz.poses import LIMB_COLORS, draw_people, limb_side

__all__ = [
    "LIMB_COLORS",
    "draw_masks",
    "draw_people",
    "limb_side",
    "save_prediction_grid",
]
