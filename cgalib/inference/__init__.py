"""Inference: the high-level [`Predictor`][Predictor] (any image in, COCO-style people out), its
top-down counterpart [`TopDownPredictor`][TopDownPredictor] (person boxes in, a pose per box out) and
prediction over images, folders and videos ([`predict_media()`][predict_media])."""

from cgalib.codecs.letterbox import letterbox_batch
from cgalib.inference.media import (
    IMAGE_SUFFIXES,
    VIDEO_SUFFIXES,
    MediaItem,
    MediaReport,
    drawing_name,
    iter_media,
    predict_media,
)
from cgalib.inference.predictor import Predictor
from cgalib.inference.top_down import TopDownPredictor

__all__ = [
    "IMAGE_SUFFIXES",
    "VIDEO_SUFFIXES",
    "MediaItem",
    "MediaReport",
    "Predictor",
    "TopDownPredictor",
    "drawing_name",
    "iter_media",
    "letterbox_batch",
    "predict_media",
]
