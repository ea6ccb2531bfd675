"""Backbones producing multi-level feature pyramids (TNet)."""

from cgalib.backbones.features import FeatureInfo
from cgalib.backbones.tnet import TNet, TrapezoidStage, tnet_d1w64, tnet_d3w64, tnet_d3w96

__all__ = ["FeatureInfo", "TNet", "TrapezoidStage", "tnet_d1w64", "tnet_d3w64", "tnet_d3w96"]
