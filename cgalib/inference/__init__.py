"""Inference: the high-level :class:`Predictor` (any image in, COCO-style people out) and
prediction over images, folders and videos."""

from cgalib.codecs.letterbox import letterbox_batch
from cgalib.inference.predictor import Predictor

__all__ = ["Predictor", "letterbox_batch"]
