"""cgalib: the Context-Guided Adaptive Network (CGANet) for multi-person pose estimation.

Blocks (``ResidualBlock``, ``GFM``, ``ShuffleFusion``), the ``TNet`` backbone and the
model registry (``create_model``, ``list_models``). Dimension letters used throughout:
B batch, C channels, H/W height/width, N boxes/instances, K keypoints.
"""

from cgalib.backbones import FeatureInfo, TNet, TrapezoidStage, tnet_d1w64, tnet_d3w64, tnet_d3w96
from cgalib.layers import GFM, ConvNormAct, GuidedFusionModule, ResidualBlock, ShuffleFusion
from cgalib.registry import create_model, list_models, register_model

__version__ = "0.1.0"

__all__ = [
    "ConvNormAct",
    "FeatureInfo",
    "GFM",
    "GuidedFusionModule",
    "ResidualBlock",
    "ShuffleFusion",
    "TNet",
    "TrapezoidStage",
    "create_model",
    "list_models",
    "register_model",
    "tnet_d1w64",
    "tnet_d3w64",
    "tnet_d3w96",
]
