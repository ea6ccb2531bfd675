"""Run any pose model over a COCO-format split and score it with pycocotools, batch by batch.

One loop for every kind of model: images are read as training reads them
([`read_annotated_image()`][cgalib.data.read_annotated_image]: upright, their size checked against
the annotation), a [`Predictor`][cgalib.Predictor] finds the people, and
[`CocoKeypointAP`][cgalib.eval.CocoKeypointAP] scores them. For a model that needs person boxes
(a top-down model), where the boxes come from is the predictor's concern
([`BoxSource`][BoxSource]): the ground truth, a detections file, or a detector model.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import torch
from pycocotools.coco import COCO
from torch import nn

from cgalib.data.detections import ground_truth_boxes, load_detections
from cgalib.data.images import read_annotated_image
from cgalib.data.validate import check_image_files
from cgalib.eval.coco_eval import coco_ap
from cgalib.eval.ground_truth import CocoGroundTruth, load_coco, require_ground_truth
from cgalib.eval.metric import CocoKeypointAP
from cgalib.inference.predictor import Predictor, SyntheticWeightsWarning
from cgalib.models.checkpoint import load_model
from cgalib.models.contract import check_pose_model
from cgalib.utils.progress import ProgressBar

__all__ = ["BoxSource", "MASK_PREFIX", "evaluate_coco", "ground_truth_for", "predict_coco"]

MASK_PREFIX = "mask_"
"""Prefix of the mask AP stats (``mask_AP``, ...) in [`evaluate_coco()`][evaluate_coco]'s metrics."""

BoxSource = Literal["gt"] | str | os.PathLike | nn.Module | Predictor
"""Where a model that needs person boxes takes them from: ``"gt"`` (the ground-truth boxes
of the people with labelled keypoints, the SimpleBaseline/HRNet "GT box" number), a COCO
detections ``.json`` ([`load_detections()`][cgalib.data.load_detections]), a detector checkpoint
(``.pt``), a detector model or a [`Predictor`][cgalib.Predictor] (a two-stage pipeline)."""

# what a COCO result keeps of a Predictor's person (segmentation: models with masks)
_RESULT_KEYS = ("keypoints", "score", "bbox", "segmentation")
_DETECTION_SUFFIXES = (".json",)


def ground_truth_for(
    model: nn.Module,
    ann_file: str | os.PathLike | COCO,
    require_annotations: bool = True,
    model_name: str = "the model",
) -> CocoGroundTruth:
    """The ground truth of a split, read for a model's keypoint set.

    The model's [`KeypointSet`][cgalib.utils.keypoint_set.KeypointSet] decides which categories of the
    file are read (its set's ``categories``, when not just ``"person"``) and, for a file
    whose category gives no sigmas and is not COCO's, the OKS sigmas (those the model was
    trained with). A model whose ``K`` differs from the file's is refused.

    Args:
        model: the pose model.
        ann_file: the split's annotation file, its dict, a ``COCO`` or a
            [`CocoGroundTruth`][cgalib.eval.CocoGroundTruth].
        require_annotations: refuse a file without an ``annotations`` list.
        model_name: how messages name the model (e.g. ``"checkpoint run/model.pt"``).

    Returns:
        The [`CocoGroundTruth`][cgalib.eval.CocoGroundTruth].

    Raises:
        FileNotFoundError: if the file does not exist.
        AnnotationError: (a ``ValueError``) for a file training refuses.
        ValueError: if the model predicts another number of keypoints than the file
            has, naming both.

    Warns:
        UserWarning: when the model's keypoint names differ from the file's (same ``K``).
    """
    check_pose_model(model, "ground_truth_for")
    own = model.keypoint_set
    categories = None
    if own.categories and own.categories != ("person",):
        categories = list(own.categories)
    if isinstance(ann_file, CocoGroundTruth):
        gt = ann_file
    else:
        gt = load_coco(ann_file, require_annotations, categories=categories)
    if "keypoints" not in model.outputs or not gt.num_keypoints:
        return gt  # no K to check (a segmentation-only model, or a file without keypoints)
    if len(own) != gt.num_keypoints:
        theirs = ", ".join(gt.keypoint_names[:3]) + (", ..." if gt.num_keypoints > 3 else "")
        raise ValueError(
            f"{model_name} predicts {own.describe()}, but {gt.report.source} has "
            f"{gt.num_keypoints} keypoints ({theirs}); evaluate it on data of its own keypoint set"
        )
    if own.names != gt.keypoint_names:
        first = next(i for i, (a, b) in enumerate(zip(own.names, gt.keypoint_names)) if a != b)
        warnings.warn(
            f"{model_name} names its keypoints differently from {gt.report.source} (keypoint "
            f"{first}: {own.names[first]!r} vs {gt.keypoint_names[first]!r}); scored in the "
            "model's order",
            UserWarning,
            stacklevel=2,
        )
    elif gt.sigma_source == "default" and own.sigma_source != "default":
        gt = gt.with_sigmas(own.sigmas, own.sigma_source)
    return gt


def _box_source(
    boxes: BoxSource | None, coco: CocoGroundTruth
) -> tuple[nn.Module | Predictor | None, dict[int, torch.Tensor] | None]:
    """Either a detector (a model, a ``Predictor``, a checkpoint) or per-image boxes (the
    ground truth, a detections file); ``(None, None)`` for no boxes.

    A detections file is read by the detections contract,
    [`load_detections()`][cgalib.data.load_detections], before the first prediction: it is
    refused in one line, or read with its report, issued as one ``DetectionsWarning`` line
    (``cgalib: warning: ...`` on the command line) when entries were converted or dropped.
    """
    if boxes is None or isinstance(boxes, (nn.Module, Predictor)):
        return boxes, None
    if isinstance(boxes, str) and boxes == "gt":
        return None, ground_truth_boxes(coco, coco.category_id)
    if not isinstance(boxes, (str, os.PathLike)):
        raise ValueError(
            f"boxes must be 'gt', a COCO detections .json, a detector checkpoint or a model, "
            f"got {type(boxes).__name__}"
        )
    path = Path(boxes)
    if not path.is_file():
        raise FileNotFoundError(
            f"boxes {str(boxes)!r}: no such file; use 'gt', a COCO detections .json or a "
            "detector checkpoint (.pt)"
        )
    if path.suffix.lower() in _DETECTION_SUFFIXES:
        return None, load_detections(path, coco, coco.category_id)
    return load_model(path, pose_model=True), None


def _predictor(
    model: nn.Module | Predictor,
    coco: CocoGroundTruth,
    boxes: BoxSource | None,
    predictor_kwargs: dict[str, Any],
) -> tuple[Predictor, dict[int, torch.Tensor] | None]:
    """The predictor of the split (with the detector, when boxes come from one), and the
    per-image boxes when they come from the ground truth or a file."""
    net = model.model if isinstance(model, Predictor) else model
    name = type(net).__name__
    if boxes is not None and not net.needs_boxes:
        raise ValueError(f"{name} finds the people in whole images itself; leave out boxes")
    detector, table = _box_source(boxes, coco)
    if not isinstance(model, Predictor):  # every candidate counts (COCO's rule)
        kwargs = {"score_threshold": 0.0, **predictor_kwargs}
        with warnings.catch_warnings():  # scored, not shown: the AP says how well it fits
            warnings.simplefilter("ignore", SyntheticWeightsWarning)
            predictor = Predictor(model, detector=detector, **kwargs)
    elif predictor_kwargs or detector is not None:
        given = [*predictor_kwargs, *(["boxes"] if detector is not None else [])]
        raise TypeError(
            f"a ready Predictor brings its own settings and detector; leave out {', '.join(given)}"
        )
    else:
        predictor = model
        if predictor.score_threshold > 0:
            warnings.warn(
                f"the Predictor leaves out people scored below {predictor.score_threshold:g}, "
                "which COCO AP counts (it ranks every candidate): this AP is lower than the "
                "model's; pass the model, or a Predictor with score_threshold=0",
                UserWarning,
                stacklevel=4,
            )
    if net.needs_boxes and table is None and predictor.detector is None:
        raise ValueError(
            f"{name} needs person boxes: give boxes='gt', a COCO detections .json, a detector "
            "checkpoint or a detector model"
        )
    return predictor, table


def _predict_batches(
    predictor: Predictor,
    images_dir: str | os.PathLike,
    coco: CocoGroundTruth,
    boxes: dict[int, torch.Tensor] | None,
    progress: bool,
) -> Iterator[tuple[list[int], list[dict]]]:
    """The image ids of each batch of the split and their COCO results (every image file is
    checked to exist first)."""
    check_image_files(images_dir, coco.dataset["images"], coco.report.source)
    ids = sorted(coco.getImgIds())
    bar = ProgressBar(len(ids), "predict", unit="img", enabled=progress)
    for start in range(0, len(ids), predictor.batch_size):
        chunk = ids[start : start + predictor.batch_size]
        images = [read_annotated_image(images_dir, coco.imgs[i]) for i in chunk]
        given = None if boxes is None else [boxes[i] for i in chunk]
        results = [
            {
                "image_id": image_id,
                "category_id": coco.category_id,
                **{key: person[key] for key in _RESULT_KEYS if key in person},
            }
            for image_id, people in zip(chunk, predictor.predict(images, boxes=given))
            for person in people
        ]
        bar.update(len(chunk))
        yield chunk, results
    bar.close()


def predict_coco(
    model: nn.Module | Predictor,
    images_dir: str | os.PathLike,
    ann_file: str | os.PathLike | COCO,
    boxes: BoxSource | None = None,
    progress: bool = True,
    **predictor_kwargs: Any,
) -> list[dict]:
    """COCO results of ``model`` on every image of an annotation file.

    Args:
        model: a pose model (wrapped in a [`Predictor`][cgalib.Predictor] with
            ``predictor_kwargs``), or a ready ``Predictor``.
        images_dir: the folder of the split's images.
        ann_file: its ``person_keypoints_*.json`` or an image-info file such as COCO's
            test-dev one (or a loaded ``COCO``); checked by [`load_coco()`][cgalib.eval.load_coco],
            annotations not required.
        boxes: for a model that needs person boxes, where they come from
            ([`BoxSource`][BoxSource]); refused for a model that finds people itself.
        progress: show a progress bar.
        **predictor_kwargs: [`Predictor`][cgalib.Predictor] arguments (``input_size``,
            ``device``, ``batch_size``, ``precision``, ``box_score_threshold``,
            ``oks_nms_threshold``...); ``score_threshold`` is 0 unless given (every
            candidate is kept; a ready ``Predictor`` that leaves people out is warned about).

    Returns:
        Standard COCO results: ``image_id``, ``category_id`` (the file's keypoint
        category), ``keypoints`` (flat ``3K``), ``score`` and ``bbox`` (xywh), sorted by
        score within each image; a segmentation model's results carry ``segmentation``
        (COCO RLE) and, without a keypoint head, no ``keypoints``.

    Raises:
        FileNotFoundError: if the annotation file or any image it lists is missing (checked
            before the first prediction), or a boxes file.
        AnnotationError: (a ``ValueError``) for a malformed annotation file.
        ValueError: if the model predicts another number of keypoints than the file has
            (see [`ground_truth_for()`][ground_truth_for]), for a bad box source, or for an image
            whose size differs from its annotation.
    """
    net = model.model if isinstance(model, Predictor) else model
    coco = ground_truth_for(net, ann_file, require_annotations=False)
    predictor, given = _predictor(model, coco, boxes, predictor_kwargs)
    batches = _predict_batches(predictor, images_dir, coco, given, progress)
    return [r for _, results in batches for r in results]


def evaluate_coco(
    model: nn.Module | Predictor,
    images_dir: str | os.PathLike,
    ann_file: str | os.PathLike | COCO,
    boxes: BoxSource | None = None,
    box_ap: bool = False,
    mask_ap: bool | None = None,
    progress: bool = True,
    **predictor_kwargs: Any,
) -> tuple[dict[str, float], list[dict]]:
    """Keypoint AP of any pose model on a split, batch by batch through [`CocoKeypointAP`][CocoKeypointAP].

    A model whose ``outputs`` lack ``"keypoints"`` (a segmentation-only CGANet) gets no
    keypoint AP; its box AP is then always computed. Mask AP (pycocotools
    ``iouType="segm"`` on the results' RLE) is computed once, from all the results,
    after the last batch: the torchmetrics metric keeps tensor states, which RLE strings
    are not.

    The numbers are those of [`coco_keypoint_ap()`][coco_keypoint_ap] on the returned results. The whole
    split is scored in this process: the metric does not sync across DDP ranks, so a
    rank-0-only call in a ``torchrun`` job works. The ground truth is read for the model's
    keypoint set ([`ground_truth_for()`][ground_truth_for]: its categories, its sigmas when the file has
    none, ``K`` checked). Every image of the file is evaluated, those without people too.

    Args:
        model: a pose model (wrapped in a [`Predictor`][cgalib.Predictor] with
            ``predictor_kwargs``), or a ready ``Predictor``.
        images_dir: the split's image folder.
        ann_file: the split's annotation file (or a loaded ``COCO``), checked as training
            checks it ([`load_coco()`][cgalib.eval.load_coco]) before the first prediction.
        boxes: for a model that needs person boxes, where they come from
            ([`BoxSource`][BoxSource]: ``"gt"``, a detections file, a detector checkpoint or
            model); refused for a model that finds people itself.
        box_ap: also score each person's ``bbox`` with pycocotools' ``iouType="bbox"``.
        mask_ap: score each person's ``segmentation`` with ``iouType="segm"`` (default:
            when the model's ``outputs`` hold ``"masks"``); the ground truth needs a
            segmentation for every person.
        progress: show a progress bar.
        **predictor_kwargs: [`Predictor`][cgalib.Predictor] arguments (``input_size``,
            ``device``, ``batch_size``, ``precision``...).

    Returns:
        ``(metrics, results)``: the pycocotools keypoint stats (``AP``, ``AP50``, ... as
        [`KEYPOINT_METRICS`][KEYPOINT_METRICS] names them), with ``box_ap`` followed by the person box
        stats ``box_AP``, ``box_AP50``, ... ([`BOX_METRICS`][BOX_METRICS] with the prefix ``box_``),
        with ``mask_ap`` the mask stats ``mask_AP``, ... (prefix [`MASK_PREFIX`][MASK_PREFIX]), and
        the COCO results.

    Raises:
        FileNotFoundError: if the annotation file or any image it lists is missing, or a
            boxes file.
        AnnotationError: (a ``ValueError``) for a ground truth training refuses or one
            with nobody to score; all checked before the first prediction.
        ValueError: if the model predicts another number of keypoints than the file has,
            for a bad box source, or for an image whose size differs from its annotation.
    """
    net = model.model if isinstance(model, Predictor) else model
    coco = ground_truth_for(net, ann_file)
    if mask_ap is None:
        mask_ap = "masks" in net.outputs
    if mask_ap:
        require_ground_truth(coco, "segm")  # before the first prediction
    predictor, given = _predictor(model, coco, boxes, predictor_kwargs)
    keypoints = "keypoints" in net.outputs
    iou_types = ("keypoints",) * keypoints + ("bbox",) * (box_ap or not keypoints)
    metric = CocoKeypointAP(coco, iou_types=iou_types, sync_on_compute=False)
    results: list[dict] = []
    for image_ids, batch in _predict_batches(predictor, images_dir, coco, given, progress):
        metric.update(batch, image_ids=image_ids)
        results.extend(batch)
    metrics = metric.compute()
    if mask_ap:
        stats = coco_ap(coco, results, "segm", image_ids=sorted(coco.getImgIds()))
        metrics.update({MASK_PREFIX + k: v for k, v in stats.items()})
    return metrics, results
