"""Run a model over a COCO-format split and score it with pycocotools, batch by batch."""

from __future__ import annotations

import inspect
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from pycocotools.coco import COCO
from torch import nn

from cgalib.data.validate import check_image_files
from cgalib.eval.coco_eval import coco_ap
from cgalib.eval.ground_truth import CocoGroundTruth, load_coco, require_ground_truth
from cgalib.eval.metric import CocoKeypointAP
from cgalib.inference.predictor import Precision, Predictor
from cgalib.utils.keypoint_set import KeypointSet
from cgalib.utils.progress import ProgressBar

__all__ = ["MASK_PREFIX", "ground_truth_for", "predict_coco", "evaluate_coco"]

MASK_PREFIX = "mask_"
"""Prefix of the mask AP stats (``mask_AP``, ...) in [`evaluate_coco()`][evaluate_coco]'s metrics."""
# what a COCO result keeps of a Predictor's person (segmentation: models with masks)
_RESULT_KEYS = ("keypoints", "score", "bbox", "segmentation")


def ground_truth_for(
    model: nn.Module,
    ann_file: str | os.PathLike | COCO,
    require_annotations: bool = True,
    model_name: str = "the model",
) -> CocoGroundTruth:
    """The ground truth of a split, read for a model's keypoint set.

    A model that has a [`KeypointSet`][cgalib.utils.keypoint_set.KeypointSet] (a
    [`CGANet`][cgalib.CGANet], e.g. from [`cgalib.load_model()`][cgalib.load_model]) decides which categories
    of the file are read (its set's ``categories``, when not just ``"person"``) and, for a
    file whose category gives no sigmas and is not COCO's, the OKS sigmas (those the model
    was trained with). A model whose ``K`` differs from the file's is refused.

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
    own: KeypointSet | None = getattr(model, "keypoint_set", None)
    categories = None
    if own is not None and own.categories and own.categories != ("person",):
        categories = list(own.categories)
    if isinstance(ann_file, CocoGroundTruth):
        gt = ann_file
    else:
        gt = load_coco(ann_file, require_annotations, categories=categories)
    k = getattr(model, "num_keypoints", None)
    if not k or not gt.num_keypoints:  # no K to check (0: a segmentation-only model)
        return gt
    if k != gt.num_keypoints:
        what = own.describe() if own is not None else f"{k} keypoints"
        theirs = ", ".join(gt.keypoint_names[:3]) + (", ..." if gt.num_keypoints > 3 else "")
        raise ValueError(
            f"{model_name} predicts {what}, but {gt.report.source} has {gt.num_keypoints} "
            f"keypoints ({theirs}); evaluate it on data of its own keypoint set"
        )
    if own is None:
        return gt
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


def predict_coco(
    model: nn.Module,
    images_dir: str | os.PathLike,
    ann_file: str | os.PathLike | COCO,
    input_size: int = 512,
    device: str | torch.device | None = None,
    batch_size: int = 8,
    precision: Precision = "fp32",
    progress: bool = True,
) -> list[dict]:
    """COCO keypoint results of ``model`` on every image of an annotation file.

    Args:
        model: a pose model accepted by [`Predictor`][cgalib.Predictor].
        images_dir: the folder of the split's images.
        ann_file: its ``person_keypoints_*.json`` or an image-info file such as COCO's
            test-dev one (or a loaded ``COCO``); checked by [`load_coco()`][cgalib.eval.load_coco],
            annotations not required.
        input_size: letterbox size of the longer side.
        device: where to run (default CUDA when available).
        batch_size: images per forward pass.
        precision: ``"fp32"``, ``"bf16"`` or ``"fp16"``.
        progress: show a progress bar.

    Returns:
        Standard COCO results: ``image_id``, ``category_id`` (the file's keypoint
        category), ``keypoints`` (flat ``3K``), ``score`` and ``bbox`` (xywh), sorted by
        score within each image; a segmentation model's results carry ``segmentation``
        (COCO RLE) and, without a keypoint head, no ``keypoints``.

    Raises:
        FileNotFoundError: if the annotation file or any image it lists is missing (checked
            before the first prediction).
        AnnotationError: (a ``ValueError``) for a malformed annotation file.
        ValueError: if the model predicts another number of keypoints than the file has
            (see [`ground_truth_for()`][ground_truth_for]).
    """
    coco = ground_truth_for(model, ann_file, require_annotations=False)
    batches = _predict_batches(
        model, images_dir, coco, input_size, device, batch_size, precision, progress
    )
    return [r for _, results in batches for r in results]


def _predict_batches(
    model: nn.Module,
    images_dir: str | os.PathLike,
    coco: CocoGroundTruth,
    input_size: int,
    device: str | torch.device | None,
    batch_size: int,
    precision: Precision,
    progress: bool,
) -> Iterator[tuple[list[int], list[dict]]]:
    """The image ids of each batch of the split and their COCO results (every image file is
    checked first)."""
    check_image_files(images_dir, coco.dataset["images"], coco.report.source)
    predictor = Predictor(
        model, device=device, input_size=input_size, precision=precision, batch_size=batch_size
    )
    ids = sorted(coco.getImgIds())
    bar = ProgressBar(len(ids), "predict", unit="img", enabled=progress)
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        paths = [Path(images_dir) / coco.imgs[i]["file_name"] for i in chunk]
        results = [
            {
                "image_id": image_id,
                "category_id": coco.category_id,
                **{key: person[key] for key in _RESULT_KEYS if key in person},
            }
            for image_id, people in zip(chunk, predictor.predict(paths))
            for person in people
        ]
        bar.update(len(chunk))
        yield chunk, results
    bar.close()


def evaluate_coco(
    model: nn.Module,
    images_dir: str | os.PathLike,
    ann_file: str | os.PathLike | COCO,
    box_ap: bool = False,
    mask_ap: bool | None = None,
    **kwargs: Any,
) -> tuple[dict[str, float], list[dict]]:
    """Keypoint AP of ``model`` on a split, batch by batch through [`CocoKeypointAP`][CocoKeypointAP].

    A model whose ``outputs`` lack ``"keypoints"`` (a segmentation-only CGANet) gets no
    keypoint AP; its box AP is then always computed. Mask AP (pycocotools
    ``iouType="segm"`` on the results' RLE) is computed once, from all the results,
    after the last batch: the torchmetrics metric keeps tensor states, which RLE strings
    are not.

    The numbers are those of [`coco_keypoint_ap()`][coco_keypoint_ap] on the returned results. The whole
    split is scored in this process: the metric does not sync across DDP ranks, so a
    rank-0-only call in a ``torchrun`` job works. The ground truth is read for the model's
    keypoint set ([`ground_truth_for()`][ground_truth_for]: its categories, its sigmas when the file has
    none, ``K`` checked).

    Args:
        model: the pose model.
        images_dir: the split's image folder.
        ann_file: the split's annotation file (or a loaded ``COCO``), checked as training
            checks it ([`load_coco()`][cgalib.eval.load_coco]) before the first prediction.
        box_ap: also score each person's ``bbox`` with pycocotools' ``iouType="bbox"``.
        mask_ap: score each person's ``segmentation`` with ``iouType="segm"`` (default:
            when the model's ``outputs`` hold ``"masks"``); the ground truth needs a
            segmentation for every person.
        **kwargs: passed to [`predict_coco()`][predict_coco] (``input_size``, ``device``,
            ``batch_size``, ``precision``, ``progress``).

    Returns:
        ``(metrics, results)``: the pycocotools keypoint stats (``AP``, ``AP50``, ... as
        [`KEYPOINT_METRICS`][KEYPOINT_METRICS] names them), with ``box_ap`` followed by the person box
        stats ``box_AP``, ``box_AP50``, ... ([`BOX_METRICS`][BOX_METRICS] with the prefix ``box_``),
        with ``mask_ap`` the mask stats ``mask_AP``, ... (prefix [`MASK_PREFIX`][MASK_PREFIX]), and
        the COCO results.

    Raises:
        FileNotFoundError: if the annotation file or any image it lists is missing.
        AnnotationError: (a ``ValueError``) for a ground truth training refuses or one
            with nobody to score; all checked before the first prediction.
        ValueError: if the model predicts another number of keypoints than the file has.
    """
    coco = ground_truth_for(model, ann_file)
    # predict_coco's defaults for what kwargs leaves out (and its TypeError for a typo)
    call = inspect.signature(predict_coco).bind(model, images_dir, coco, **kwargs)
    call.apply_defaults()
    outputs = getattr(model, "outputs", ("keypoints",))
    if mask_ap is None:
        mask_ap = "masks" in outputs
    if mask_ap:
        require_ground_truth(coco, "segm")  # before the first prediction
    keypoints = "keypoints" in outputs
    iou_types = ("keypoints",) * keypoints + ("bbox",) * (box_ap or not keypoints)
    metric = CocoKeypointAP(coco, iou_types=iou_types, sync_on_compute=False)
    results: list[dict] = []
    for image_ids, batch in _predict_batches(*call.args):
        metric.update(batch, image_ids=image_ids)
        results.extend(batch)
    metrics = metric.compute()
    if mask_ap:
        stats = coco_ap(coco, results, "segm", image_ids=sorted(coco.getImgIds()))
        metrics.update({MASK_PREFIX + k: v for k, v in stats.items()})
    return metrics, results
