"""COCO AP exactly as pycocotools' ``COCOeval`` computes it: keypoints (OKS), boxes, masks."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

__all__ = [
    "BOX_METRICS",
    "IOU_TYPES",
    "KEYPOINT_METRICS",
    "coco_ap",
    "coco_keypoint_ap",
    "format_metrics",
    "load_coco",
]

KEYPOINT_METRICS = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")
"""Names of ``COCOeval.stats`` for ``iouType="keypoints"``, in order."""

BOX_METRICS = (
    "AP",
    "AP50",
    "AP75",
    "APs",
    "APm",
    "APl",
    "AR1",
    "AR10",
    "AR100",
    "ARs",
    "ARm",
    "ARl",
)
"""Names of ``COCOeval.stats`` for ``iouType="bbox"`` and ``"segm"``, in order."""

IOU_TYPES = {"keypoints": KEYPOINT_METRICS, "bbox": BOX_METRICS, "segm": BOX_METRICS}
"""The ``COCOeval`` iou types :func:`coco_ap` accepts, each with the names of its stats."""

_RESULT_KEY = {"keypoints": "keypoints", "bbox": "bbox", "segm": "segmentation"}


def load_coco(coco_gt: str | os.PathLike | dict | COCO) -> COCO:
    """A pycocotools ``COCO`` from a path or a dataset dict (quietly), or the object itself.

    Args:
        coco_gt: a COCO annotation file, its parsed dict (``images``, ``annotations``,
            ``categories``) or a ``COCO`` object (returned as is).

    Returns:
        The indexed ``COCO`` ground truth.

    Raises:
        FileNotFoundError: if the path does not exist.
        ValueError: if the file or dict is not a COCO annotation set.

    Examples:
        >>> gt = load_coco({"images": [{"id": 7}], "annotations": [], "categories": []})
        >>> gt.getImgIds()
        [7]
    """
    if isinstance(coco_gt, COCO):
        return coco_gt
    if isinstance(coco_gt, dict):
        source, path = "the dataset dict", None
        if "images" not in coco_gt:
            raise ValueError("the dataset dict is not a valid COCO annotation set: no 'images'")
    else:
        path = Path(coco_gt)
        source = str(path)
        if not path.is_file():
            raise FileNotFoundError(f"annotation file not found: {path}")
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            if path is not None:
                return COCO(str(path))
            gt = COCO()
            gt.dataset = coco_gt
            gt.createIndex()
            return gt
    except (json.JSONDecodeError, KeyError, TypeError, AssertionError) as err:
        raise ValueError(f"{source} is not a valid COCO annotation set: {err}") from err


def coco_ap(
    coco_gt: str | os.PathLike | dict | COCO,
    results: Sequence[dict] | str | os.PathLike,
    iou_type: str = "keypoints",
    image_ids: Sequence[int] | None = None,
) -> dict[str, float]:
    """AP/AR of COCO-format results for one iou type, identical to pycocotools' stats.

    The results are deep-copied before pycocotools sees them (its ``loadRes`` writes
    ``id``, ``area`` and more into each dict).

    Args:
        coco_gt: ground truth, as :func:`load_coco` accepts it.
        results: COCO results (``image_id``, ``category_id``, ``score`` and the key
            of the iou type: ``keypoints`` flat ``3K``, ``bbox`` xywh or ``segmentation``
            RLE), as a list or a JSON file.
        iou_type: ``"keypoints"`` (OKS), ``"bbox"`` or ``"segm"``.
        image_ids: evaluate only these images (default: every image of ``coco_gt``).

    Returns:
        The stats named by ``IOU_TYPES[iou_type]`` (:data:`KEYPOINT_METRICS` or
        :data:`BOX_METRICS`), -1.0 where COCO has no ground truth of that size; with no
        results at all every value is 0.0 (pycocotools cannot load an empty list).

    Raises:
        ValueError: if ``iou_type`` is unknown, a result lacks the iou type's key, or a
            result names an image that is not in the ground truth.

    Examples:
        >>> gt = {
        ...     "images": [{"id": 1, "width": 100, "height": 100}],
        ...     "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0,
        ...                      "bbox": [10, 10, 40, 80], "area": 3200}],
        ...     "categories": [{"id": 1, "name": "person"}],
        ... }
        >>> res = [{"image_id": 1, "category_id": 1, "bbox": [10, 10, 40, 80], "score": 0.9}]
        >>> round(coco_ap(gt, res, "bbox")["AP"], 6)
        1.0
    """
    if iou_type not in IOU_TYPES:
        raise ValueError(f"iou_type must be one of {sorted(IOU_TYPES)}, got {iou_type!r}")
    names = IOU_TYPES[iou_type]
    gt = load_coco(coco_gt)
    if isinstance(results, (str, os.PathLike)):
        results = json.loads(Path(results).read_text())
    results = list(results)
    if not results:
        return dict.fromkeys(names, 0.0)
    key = _RESULT_KEY[iou_type]
    for i, r in enumerate(results):
        if key not in r:
            raise ValueError(
                f"{iou_type!r} AP needs {key!r} in every result; result {i} "
                f"(image {r.get('image_id')}) has none"
            )
    unknown = {r["image_id"] for r in results} - set(gt.getImgIds())
    if unknown:
        raise ValueError(
            f"results name images missing from the ground truth: {sorted(unknown)[:5]}"
        )
    with contextlib.redirect_stdout(io.StringIO()):
        dt = gt.loadRes(copy.deepcopy(results))
        ev = COCOeval(gt, dt, iou_type)
        if image_ids is not None:
            ev.params.imgIds = list(image_ids)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return {k: float(v) for k, v in zip(names, np.asarray(ev.stats))}


def coco_keypoint_ap(
    coco_gt: str | os.PathLike | dict | COCO,
    results: Sequence[dict] | str | os.PathLike,
    image_ids: Sequence[int] | None = None,
) -> dict[str, float]:
    """OKS keypoint AP/AR of COCO-format results: :func:`coco_ap` with ``"keypoints"``.

    Args:
        coco_gt: ground truth, a ``person_keypoints_*.json`` path, its dict or a ``COCO``.
        results: COCO keypoint results (``image_id``, ``category_id``, ``keypoints``
            flat ``3K``, ``score``, optionally ``bbox``), as a list or a JSON file.
        image_ids: evaluate only these images (default: every image of ``coco_gt``).

    Returns:
        ``{"AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"}``;
        with no results at all every value is 0.0 (pycocotools cannot load an empty list).

    Raises:
        ValueError: if a result names an image that is not in the ground truth.
    """
    return coco_ap(coco_gt, results, "keypoints", image_ids)


def format_metrics(metrics: dict[str, float], title: str = "keypoints") -> str:
    """A markdown table of metrics (values as printed by pycocotools, 3 decimals).

    Examples:
        >>> print(format_metrics({"AP": 0.5, "AR": 0.25}))
        | keypoints | AP | AR |
        |---|---|---|
        | value | 0.500 | 0.250 |
    """
    keys = list(metrics)
    head = "| " + " | ".join([title, *keys]) + " |"
    sep = "|" + "---|" * (len(keys) + 1)
    row = "| value | " + " | ".join(f"{metrics[k]:.3f}" for k in keys) + " |"
    return "\n".join([head, sep, row])
