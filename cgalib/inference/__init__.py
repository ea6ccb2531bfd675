"""Inference: the one [`Predictor`][Predictor] for every model kind (any image in, COCO-style
people out; person boxes in for a model that needs them), the people it returns
([`to_people()`][to_people]) and prediction over images, folders and animated GIFs
([`predict_media()`][predict_media])."""

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
from cgalib.inference.people import Detections, to_people
from cgalib.inference.predictor import BoxesInput, Predictor

__all__ = [
    "IMAGE_SUFFIXES",
    "VIDEO_SUFFIXES",
    "BoxesInput",
    "Detections",
    "MediaItem",
    "MediaReport",
    "Predictor",
    "drawing_name",
    "iter_media",
    "letterbox_batch",
    "predict_media",
    "to_people",
]
