"""Inference: the high-level :class:`Predictor` (any image in, COCO-style people out), its
top-down counterpart :class:`TopDownPredictor` (person boxes in, a pose per box out) and
prediction over images, folders and videos."""

from cgalib.codecs.letterbox import letterbox_batch
from cgalib.inference.predictor import Predictor
from cgalib.inference.top_down import TopDownPredictor

__all__ = ["Predictor", "TopDownPredictor", "letterbox_batch"]
