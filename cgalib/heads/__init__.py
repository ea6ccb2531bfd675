"""Heads: the dense heads on L0 (CenterNet heads and the Center Line Branch), the per-box
heatmap heads (ROIGuider, ROIPointer) on a common base, and the top-down model's pyramid
heatmap head."""

from cgalib.heads.center import CenterHeads
from cgalib.heads.center_line import CenterLineBranch
from cgalib.heads.dense import DenseHeads
from cgalib.heads.prediction_head import HEATMAP_PRIOR_BIAS, PredictionHead
from cgalib.heads.pyramid_heatmap import PyramidHeatmapHead
from cgalib.heads.roi_guider import ROIGuider, ROIGuiderStage, RoiHeatmapHead
from cgalib.heads.roi_head import ROI_SIZE_DIVISOR, RoiHead, roi_sizes_for_input
from cgalib.heads.roi_pointer import ROIPointer

__all__ = [
    "HEATMAP_PRIOR_BIAS",
    "ROI_SIZE_DIVISOR",
    "CenterHeads",
    "CenterLineBranch",
    "DenseHeads",
    "PredictionHead",
    "PyramidHeatmapHead",
    "ROIGuider",
    "ROIGuiderStage",
    "ROIPointer",
    "RoiHead",
    "RoiHeatmapHead",
    "roi_sizes_for_input",
]
