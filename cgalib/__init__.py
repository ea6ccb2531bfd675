"""cgalib: the Context-Guided Adaptive Network (CGANet) for multi-person pose estimation.

Blocks (``ResidualBlock``, ``GFM``, ``ShuffleFusion``), the ``TNet`` backbone, the heads
(``DenseHeads``, ``ROIGuider``, ``ROIPointer``), the reference model ``CGANet`` with its
post-processing and training objective (``CGANetPostprocess``, ``CGANetCriterion``), the
top-down model ``TopDownPose``, the model contract they share (``PoseModel``,
``InputRule``), the model registry (``create_model``, ``list_models``, ``create_variant``),
checkpoints and the shipped ones (``list_pretrained``, each loadable by name with
``load_model``), the one high-level ``Predictor`` for every model kind, and ``KeypointSet``
(the names, skeleton, flip map and OKS sigmas of any COCO-format keypoint set).
Dimension letters used throughout (docs: Conventions): B batch, C channels, H/W
height/width, N boxes or instances, K keypoints.
"""

from cgalib.backbones import FeatureInfo, TNet, TrapezoidStage, tnet_d1w64, tnet_d3w64, tnet_d3w96
from cgalib.heads import (
    CenterHeads,
    CenterLineBranch,
    DenseHeads,
    PredictionHead,
    ROIGuider,
    ROIPointer,
)
from cgalib.inference import Predictor
from cgalib.layers import GFM, ConvNormAct, GuidedFusionModule, ResidualBlock, ShuffleFusion
from cgalib.losses import CGANetCriterion
from cgalib.models import (
    CGANet,
    InputRule,
    PoseModel,
    TopDownPose,
    create_variant,
    list_pretrained,
    load_model,
    load_weights,
    save_model,
)
from cgalib.ops import RoIAlign, roi_align
from cgalib.postprocess import CGANetPostprocess
from cgalib.registry import create_model, list_models, register_model
from cgalib.utils.keypoint_set import KeypointSet

__version__ = "0.1.0"

__all__ = [
    "CGANet",
    "CGANetCriterion",
    "CGANetPostprocess",
    "CenterHeads",
    "CenterLineBranch",
    "ConvNormAct",
    "DenseHeads",
    "FeatureInfo",
    "GFM",
    "GuidedFusionModule",
    "InputRule",
    "KeypointSet",
    "PoseModel",
    "PredictionHead",
    "Predictor",
    "ROIGuider",
    "ROIPointer",
    "ResidualBlock",
    "RoIAlign",
    "ShuffleFusion",
    "TNet",
    "TopDownPose",
    "TrapezoidStage",
    "create_model",
    "create_variant",
    "list_models",
    "list_pretrained",
    "load_model",
    "load_weights",
    "register_model",
    "roi_align",
    "save_model",
    "tnet_d1w64",
    "tnet_d3w64",
    "tnet_d3w96",
]
