"""Inference: the one [`Predictor`][Predictor] for every model kind (any image in, COCO-style
people out; person boxes in for a model that needs them), the people it returns
([`to_people()`][to_people]) and prediction over images, folders and animated pictures
([`predict_media()`][predict_media])."""

from cgalib.codecs.letterbox import letterbox_batch
from cgalib.inference.media import (
    ANIMATION_SUFFIXES,
    IMAGE_SUFFIXES,
    MAX_DRAWING_SIDE,
    RESULTS_NAME,
    VIDEO_SUFFIXES,
    MediaItem,
    MediaReport,
    drawing_name,
    iter_media,
    predict_media,
)
from cgalib.inference.people import OKS_AREAS, Detections, OksArea, to_people
from cgalib.inference.predictor import (
    LARGE_IMAGE_PIXELS,
    BoxesInput,
    Predictor,
    SyntheticWeightsWarning,
)

__all__ = [
    "ANIMATION_SUFFIXES",
    "IMAGE_SUFFIXES",
    "LARGE_IMAGE_PIXELS",
    "MAX_DRAWING_SIDE",
    "OKS_AREAS",
    "RESULTS_NAME",
    "VIDEO_SUFFIXES",
    "BoxesInput",
    "Detections",
    "MediaItem",
    "MediaReport",
    "OksArea",
    "Predictor",
    "SyntheticWeightsWarning",
    "drawing_name",
    "iter_media",
    "letterbox_batch",
    "predict_media",
    "to_people",
]
