"""Reusable building blocks: residual block, Guided Fusion Module, pixel-shuffle fusion, and
the models' input normalisation."""

from cgalib.layers.conv_norm_act import ActLayer, ConvNormAct, NormLayer
from cgalib.layers.gfm import GFM, GuidedFusionModule
from cgalib.layers.normalize import IMAGENET_MEAN, IMAGENET_STD, ImageNormalize
from cgalib.layers.residual import ResidualBlock
from cgalib.layers.shuffle_fusion import ShuffleFusion, pixel_shuffle

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "ActLayer",
    "ConvNormAct",
    "GFM",
    "GuidedFusionModule",
    "ImageNormalize",
    "NormLayer",
    "ResidualBlock",
    "ShuffleFusion",
    "pixel_shuffle",
]
