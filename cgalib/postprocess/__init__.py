"""Inference post-processing: Ambiguity Alleviation (paper eq. 4), box extension (Dichotomy
Extended Area, Algorithm 1, and the fixed-ratio baseline) and CGANet's whole
post-processing module; for top-down models, the flip test of keypoint heatmaps and OKS-NMS.
The center and keypoint decoders live in [`cgalib.codecs`][cgalib.codecs] and
are re-exported here."""

from cgalib.codecs.center import decode_centers, heatmap_nms
from cgalib.postprocess.ambiguity import AmbiguityAlleviation, alleviate_ambiguity
from cgalib.postprocess.cganet import (
    CGANET_KEYPOINT_DECODING,
    CGANetPostprocess,
    average_flipped_outputs,
)
from cgalib.postprocess.extend_area import (
    BoxExtension,
    DichotomyExtendArea,
    FixedExtendArea,
    NoExtension,
    dichotomy_extend_area,
    fixed_extend_area,
)
from cgalib.postprocess.flip_heatmaps import average_flipped_heatmaps
from cgalib.postprocess.oks_nms import keypoint_oks, oks_nms

__all__ = [
    "CGANET_KEYPOINT_DECODING",
    "AmbiguityAlleviation",
    "BoxExtension",
    "CGANetPostprocess",
    "DichotomyExtendArea",
    "FixedExtendArea",
    "NoExtension",
    "alleviate_ambiguity",
    "average_flipped_heatmaps",
    "average_flipped_outputs",
    "decode_centers",
    "dichotomy_extend_area",
    "fixed_extend_area",
    "heatmap_nms",
    "keypoint_oks",
    "oks_nms",
]
