"""Pictures: skeletons, keypoints and boxes drawn over images."""

from cgalib.viz.poses import LIMB_COLORS, draw_people, limb_side

__all__ = ["LIMB_COLORS", "draw_people", "limb_side"]
