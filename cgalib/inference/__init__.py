"""Inference: the high-level :class:`Predictor` (any image in, COCO-style people out) and
prediction over images, folders and videos (:func:`predict_media`)."""

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

__all__ = [
    "IMAGE_SUFFIXES",
    "VIDEO_SUFFIXES",
    "MediaItem",
    "MediaReport",
    "Predictor",
    "drawing_name",
    "iter_media",
    "letterbox_batch",
    "predict_media",
]
