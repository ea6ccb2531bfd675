"""Inference helpers: letterboxing and the high-level :class:`Predictor`."""

from cgalib.inference.letterbox import letterbox_batch
from cgalib.inference.predictor import Predictor

__all__ = ["Predictor", "letterbox_batch"]
