"""Inference post-processing in heatmap coordinates: center decoding, Ambiguity Alleviation
(paper eq. 4) and box extension (Dichotomy Extended Area, Algorithm 1, and the fixed-ratio
baseline)."""

from cgalib.postprocess.ambiguity import AmbiguityAlleviation, alleviate_ambiguity
from cgalib.postprocess.decode import decode_centers, heatmap_nms
from cgalib.postprocess.extend_area import (
    DichotomyExtendArea,
    FixedExtendArea,
    dichotomy_extend_area,
    fixed_extend_area,
)

__all__ = [
    "AmbiguityAlleviation",
    "DichotomyExtendArea",
    "FixedExtendArea",
    "alleviate_ambiguity",
    "decode_centers",
    "dichotomy_extend_area",
    "fixed_extend_area",
    "heatmap_nms",
]
