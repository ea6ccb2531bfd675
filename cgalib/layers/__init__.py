"""Reusable building blocks: residual block, Guided Fusion Module, pixel-shuffle fusion."""

from cgalib.layers.conv_norm_act import ConvNormAct
from cgalib.layers.gfm import GFM, GuidedFusionModule
from cgalib.layers.residual import ResidualBlock
from cgalib.layers.shuffle_fusion import ShuffleFusion, pixel_shuffle

__all__ = [
    "ConvNormAct",
    "GFM",
    "GuidedFusionModule",
    "ResidualBlock",
    "ShuffleFusion",
    "pixel_shuffle",
]
