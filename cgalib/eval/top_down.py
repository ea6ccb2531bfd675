"""Evaluate a top-down model on a COCO-format split, on ground-truth, file or model boxes.

The same pycocotools keypoint AP as the single model ([`CocoKeypointAP`][cgalib.eval.CocoKeypointAP],
batch by batch); only the source of the person boxes differs:

- ``"gt"``: the ground-truth boxes of the people with labelled keypoints
  ([`ground_truth_boxes()`][cgalib.data.ground_truth_boxes]), the SimpleBaseline/HRNet "GT box" number;
- a ``.json`` file: COCO detection results ([`load_detections()`][cgalib.data.load_detections]);
- a checkpoint file (``.pt``) or a model: a multi-person model such as CGANet as the
  detector, a two-stage pipeline.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import torch
from pycocotools.coco import COCO
from torch import nn

from cgalib.data.detections import ground_truth_boxes, load_detections
from cgalib.eval.evaluate import ground_truth_for
from cgalib.eval.metric import CocoKeypointAP
from cgalib.inference.predictor import Predictor
from cgalib.inference.top_down import TopDownPredictor
from cgalib.models.checkpoint import load_model
from cgalib.utils.image import read_image
from cgalib.utils.precision import Precision
from cgalib.utils.progress import ProgressBar

__all__ = ["BoxSource", "evaluate_top_down"]

BoxSource = Literal["gt"] | str | os.PathLike | nn.Module | Predictor
"""Where [`evaluate_top_down()`][evaluate_top_down] takes person boxes from: ``"gt"``, a detections
``.json``, a detector checkpoint, a detector model or a [`Predictor`][cgalib.Predictor]."""

_DETECTION_SUFFIXES = (".json",)


def _box_source(
    boxes: BoxSource, coco: COCO, category_id: int, device: str | torch.device | None
) -> tuple[dict[int, torch.Tensor] | None, nn.Module | Predictor | None]:
    """Either per-image boxes (``gt`` or a file) or a detector (a checkpoint or a model)."""
    if isinstance(boxes, (nn.Module, Predictor)):
        return None, boxes
    if isinstance(boxes, str) and boxes == "gt":
        return ground_truth_boxes(coco, category_id), None
    if isinstance(boxes, (str, os.PathLike)):
        path = Path(boxes)
        if not path.is_file():
            raise FileNotFoundError(
                f"boxes {str(boxes)!r}: no such file; use 'gt', a COCO detections .json or a "
                "detector checkpoint (.pt)"
            )
        if path.suffix.lower() in _DETECTION_SUFFIXES:
            return load_detections(path, coco, category_id), None
        return None, load_model(path, map_location=device or "cpu")
    raise ValueError(
        f"boxes must be 'gt', a COCO detections .json, a detector checkpoint or a model, got "
        f"{type(boxes).__name__}"
    )


def evaluate_top_down(
    model: nn.Module,
    images_dir: str | os.PathLike,
    ann_file: str | os.PathLike | COCO,
    boxes: BoxSource = "gt",
    device: str | torch.device | None = None,
    batch_size: int = 32,
    precision: Precision = "fp32",
    detector_input_size: int | None = None,
    box_score_threshold: float = 0.0,
    oks_nms_threshold: float | None = None,
    category_id: int | None = None,
    progress: bool = True,
) -> tuple[dict[str, float], list[dict]]:
    """Keypoint AP of a top-down model on a split, with boxes from the ground truth, a file
    or a detector.

    Images are read one batch at a time, their people estimated by a
    [`TopDownPredictor`][cgalib.inference.TopDownPredictor] and scored by
    [`CocoKeypointAP`][cgalib.eval.CocoKeypointAP] (pycocotools' OKS AP, as for the single model).
    Every image of the annotation file is evaluated, those without boxes too. The ground
    truth is read for the model's keypoint set, as [`evaluate_coco()`][cgalib.eval.evaluate_coco]
    reads it ([`ground_truth_for()`][cgalib.eval.ground_truth_for]: its categories, its sigmas when the
    file has none, ``K`` checked).

    Args:
        model: the top-down model (e.g. [`TopDownPose`][cgalib.TopDownPose]; build it with
            ``flip_test=True`` for the flip test).
        images_dir: the split's image folder.
        ann_file: the split's ``person_keypoints_*.json`` (or a loaded ``COCO`` or
            [`CocoGroundTruth`][cgalib.eval.CocoGroundTruth]).
        boxes: ``"gt"``, a COCO detections ``.json`` path, a detector checkpoint path
            (e.g. a CGANet ``model.pt``), a detector model or a ``Predictor``.
        device: where to run (default CUDA when available).
        batch_size: crops per forward pass, and images per batch.
        precision: ``"fp32"``, ``"bf16"`` or ``"fp16"``.
        detector_input_size: the detector's letterbox size (default its ``input_size``).
        box_score_threshold: boxes scored lower are not cropped.
        oks_nms_threshold: OKS-NMS threshold per image (``None``: off).
        category_id: the category of the detections and the results (default the
            ground truth's keypoint category).
        progress: show a progress bar.

    Returns:
        ``(metrics, results)``: the pycocotools keypoint stats (``AP``, ``AP50``, ...) and
        the COCO results (``image_id``, ``category_id``, ``keypoints``, ``score``, ``bbox``).

    Raises:
        FileNotFoundError: for a missing annotation, detections or checkpoint file.
        ValueError: for a malformed detections file (naming the entry), an unknown kind
            of ``boxes``, or a model that predicts another number of keypoints than the
            file has (naming both).

    Example:
        ``evaluate_top_down(load_model("run/model.pt"), "data/val",
        "data/annotations/person_keypoints_val.json", boxes="detector/model.pt")``
    """
    coco = ground_truth_for(model, ann_file)
    if category_id is None:
        category_id = coco.category_id
    per_image, detector = _box_source(boxes, coco, category_id, device)
    predictor = TopDownPredictor(
        model,
        detector=detector,
        device=device,
        batch_size=batch_size,
        precision=precision,
        detector_input_size=detector_input_size,
        box_score_threshold=box_score_threshold,
        oks_nms_threshold=oks_nms_threshold,
    )
    metric = CocoKeypointAP(coco, sync_on_compute=False)
    ids = sorted(coco.getImgIds())
    bar = ProgressBar(len(ids), "predict", unit="img", enabled=progress)
    results: list[dict] = []
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        images = [read_image(Path(images_dir) / coco.imgs[i]["file_name"]) for i in chunk]
        given = None if per_image is None else [per_image[i] for i in chunk]
        batch = [
            {
                "image_id": image_id,
                "category_id": category_id,
                "keypoints": person["keypoints"],
                "score": person["score"],
                "bbox": person["bbox"],
            }
            for image_id, people in zip(chunk, predictor.predict(images, boxes=given))
            for person in people
        ]
        metric.update(batch, image_ids=chunk)
        results.extend(batch)
        bar.update(len(chunk))
    bar.close()
    return metric.compute(), results
