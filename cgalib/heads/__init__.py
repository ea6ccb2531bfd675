"""Heads: dense CenterNet heads and the Center Line Branch on L0, per-box keypoint heads."""

from cgalib.heads.center import CenterHeads
from cgalib.heads.center_line import CenterLineBranch
from cgalib.heads.prediction_head import HEATMAP_PRIOR_BIAS, PredictionHead
from cgalib.heads.roi_guider import ROIGuider, ROIGuiderStage, RoiHeatmapHead, roi_sizes_for_input
from cgalib.heads.roi_pointer import ROIPointer

__all__ = [
    "HEATMAP_PRIOR_BIAS",
    "CenterHeads",
    "CenterLineBranch",
    "PredictionHead",
    "ROIGuider",
    "ROIGuiderStage",
    "ROIPointer",
    "RoiHeatmapHead",
    "roi_sizes_for_input",
]
