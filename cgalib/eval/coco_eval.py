"""COCO AP exactly as pycocotools' ``COCOeval`` computes it: keypoints (OKS, with the keypoint
set's sigmas), boxes, masks."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from cgalib.eval.ground_truth import CocoGroundTruth, load_coco, require_ground_truth
from cgalib.utils.keypoint_set import warn_default_sigmas
from cgalib.utils.numbers import is_integer, is_number, number_rows

__all__ = [
    "BOX_METRICS",
    "IOU_TYPES",
    "KEYPOINT_METRICS",
    "check_results",
    "coco_ap",
    "coco_keypoint_ap",
    "format_metrics",
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
"""The ``COCOeval`` iou types [`coco_ap()`][coco_ap] accepts, each with the names of its stats."""

_RESULT_KEY = {"keypoints": "keypoints", "bbox": "bbox", "segm": "segmentation"}


def check_results(
    results: Sequence[Mapping[str, Any]], gt: CocoGroundTruth, iou_types: Sequence[str]
) -> None:
    """Check COCO results against their ground truth before pycocotools sees them.

    pycocotools fails deep inside (``IndexError``, ``KeyError``) or scores silently wrong
    on such results; here each problem is one line naming the result.

    Results are what is scored, so nothing in them is converted (unlike a detections file,
    see [`load_detections()`][cgalib.data.load_detections]): a ``category_id`` written as text
    (``"1"``) is refused with the integer to write, and a ``category_id`` 0 (ids counted
    from 0) with the category to give. Scores are not required to lie in
    [0, 1]: COCO AP depends on their order alone, so logits or percentages score exactly as
    the probabilities they stand for.

    Args:
        results: COCO results.
        gt: the ground truth from [`load_coco()`][cgalib.eval.load_coco].
        iou_types: the iou types to be scored (each needs its key in every result).

    Raises:
        ValueError: naming the result index and image for a result that is not a dict,
            lacks ``image_id``/``category_id``/``score`` or the key of an iou type, has a
            ``category_id`` other than the keypoint category's, keypoints of another length
            than `3K`, a ``bbox`` of other than 4 values, or a score, keypoint or box value
            that is not a finite number; and for results naming images that are not in
            the ground truth.
    """
    required = ("image_id", "category_id", "score", *(_RESULT_KEY[t] for t in iou_types))
    width = 3 * gt.num_keypoints
    rows: dict[str, list] = {"score": [], "keypoints": [], "bbox": []}
    owners: dict[str, list[int]] = {"score": [], "keypoints": [], "bbox": []}
    for i, r in enumerate(results):
        if not isinstance(r, Mapping):
            raise ValueError(f"result {i} is a {type(r).__name__}, not a dict")
        where = f"result {i} (image {r.get('image_id')})"
        missing = [key for key in required if key not in r]
        if missing:
            raise ValueError(
                f"{where} has no {missing[0]!r}; every result needs one for "
                f"{' and '.join(iou_types)} AP"
            )
        if r["category_id"] != gt.category_id:
            raise ValueError(_category_problem(where, r["category_id"], gt))
        if not is_integer(r["image_id"]):
            raise ValueError(f"{where}: image_id must be an integer")
        rows["score"].append([r["score"]])
        owners["score"].append(i)
        if "keypoints" in iou_types:
            points = r["keypoints"]
            if _length(points) != width:
                count = _length(points) if _length(points) is not None else repr(points)
                raise ValueError(
                    f"{where} has {count} keypoint values, expected {width} (x, y, v for "
                    f"each of the ground truth's {gt.num_keypoints} keypoints)"
                )
            rows["keypoints"].append(points)
            owners["keypoints"].append(i)
        box = r.get("bbox")
        if box is not None and ("bbox" in iou_types or "keypoints" in iou_types):
            if _length(box) != 4:
                count = _length(box) if _length(box) is not None else repr(box)
                raise ValueError(f"{where} has a bbox of {count} values, expected 4 (xywh)")
            rows["bbox"].append(box)
            owners["bbox"].append(i)
    for key, width_of_key in (("score", 1), ("keypoints", width), ("bbox", 4)):
        _, bad = number_rows(rows[key], width_of_key)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            i = owners[key][row]
            value = next(v for v in rows[key][row] if not (is_number(v) and math.isfinite(v)))
            raise ValueError(
                f"result {i} (image {results[i]['image_id']}) has a {key} value that is not a "
                f"finite number ({int(bad.sum())} such results, e.g. {value!r}); check the "
                "model's outputs"
            )
    unknown = {r["image_id"] for r in results} - set(gt.imgs)
    if unknown:
        raise ValueError(
            f"results name images missing from the ground truth: {sorted(unknown)[:5]}"
        )


def _category_problem(where: str, category_id: Any, gt: CocoGroundTruth) -> str:
    """The one line for a result whose ``category_id`` is not the ground truth's."""
    ours = gt.category_id
    kind = "person" if gt.report.category_names == ("person",) else "keypoint"
    if isinstance(category_id, str) and category_id.strip() == str(ours):
        return f"{where} has category_id {category_id!r}, a string; write the integer {ours}"
    counted = " (ids counted from 0?)" if category_id == 0 and is_integer(category_id) else ""
    return (
        f"{where} has category_id {category_id!r}, but the ground truth's {kind} category is "
        f"{ours}{counted}; give every result category_id {ours}"
    )


def _length(values: Any) -> int | None:
    """The number of values of a list-like (list, tuple, array), ``None`` for anything else."""
    if isinstance(values, (str, bytes, Mapping)) or not hasattr(values, "__len__"):
        return None
    return len(values)


def _read_results(path: str | os.PathLike) -> list:
    """The results list of a JSON file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"results file not found: {path}")
    try:
        results = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"results file {path} is not valid JSON: {err}") from None
    if not isinstance(results, list):
        raise ValueError(
            f"results file {path} must hold a JSON list of results, got a {type(results).__name__}"
        )
    return results


def coco_ap(
    coco_gt: str | os.PathLike | dict | COCO,
    results: Sequence[dict] | str | os.PathLike,
    iou_type: str = "keypoints",
    image_ids: Sequence[int] | None = None,
    sigmas: Sequence[float] | None = None,
) -> dict[str, float]:
    """AP/AR of COCO-format results for one iou type, identical to pycocotools' stats.

    The ground truth is read and checked by [`load_coco()`][cgalib.eval.load_coco], as training
    reads it (a file training refuses is refused here; people training drops are left
    out; annotation ids of 0 are renumbered, see [`CocoGroundTruth`][cgalib.eval.CocoGroundTruth]),
    and the results by [`check_results()`][check_results]. Only the keypoint category (the person
    category by default) is scored. Keypoint AP uses the keypoint set's OKS sigmas
    (pycocotools' ``params.kpt_oks_sigmas``): ``sigmas``, else the ground truth's (see
    [`load_coco()`][cgalib.eval.load_coco]: the category's, COCO's for COCO's keypoints, else
    the default constant, with a warning that AP is then not comparable). The
    results are deep-copied before pycocotools sees them (its ``loadRes`` writes ``id``,
    ``area`` and more into each dict). For keypoint AP a result's area (which decides its
    size range) is its ``bbox``'s when every result has one, else its keypoints' extent
    (pycocotools decides by the first result alone).

    Args:
        coco_gt: ground truth, as [`load_coco()`][cgalib.eval.load_coco] accepts it.
        results: COCO results (``image_id``, ``category_id``, ``score`` and the key
            of the iou type: ``keypoints`` flat ``3K``, ``bbox`` xywh or ``segmentation``
            RLE), as a list or a JSON file.
        iou_type: ``"keypoints"`` (OKS), ``"bbox"`` or ``"segm"``.
        image_ids: evaluate only these images (default: every image of ``coco_gt``).
        sigmas: the OKS sigmas of keypoint AP, one per keypoint (default: the ground
            truth's).

    Returns:
        The stats named by ``IOU_TYPES[iou_type]`` ([`KEYPOINT_METRICS`][KEYPOINT_METRICS] or
        [`BOX_METRICS`][BOX_METRICS]), -1.0 where COCO has no ground truth of that size; with no
        results at all every value is 0.0 (pycocotools cannot load an empty list).

    Raises:
        FileNotFoundError: if the ground-truth or results file does not exist.
        AnnotationError: (a ``ValueError``) for a ground truth training refuses, or one
            with nobody to score (AP would be -1 everywhere).
        ValueError: if ``iou_type`` is unknown, ``image_ids`` names an image that is not
            in the ground truth, a result is malformed (see [`check_results()`][check_results]), or
            ``sigmas`` are not one positive number per keypoint.

    Warns:
        KeypointSetWarning: when keypoint AP is scored with the default sigmas.

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
    require_ground_truth(gt, iou_type)
    if iou_type == "keypoints" and sigmas is not None:
        gt = gt.with_sigmas(sigmas)
    if isinstance(results, (str, os.PathLike)):
        results = _read_results(results)
    results = list(results)
    if image_ids is not None:
        image_ids = list(image_ids)
        unknown = set(image_ids) - set(gt.imgs)
        if unknown:
            raise ValueError(f"image_ids not in the ground truth: {sorted(unknown)[:5]}")
    if iou_type == "keypoints" and gt.sigma_source == "default":
        warn_default_sigmas(gt.report.source, gt.num_keypoints)
    if not results:
        return dict.fromkeys(names, 0.0)
    check_results(results, gt, (iou_type,))
    results = copy.deepcopy(results)
    if iou_type == "keypoints" and not all("bbox" in r for r in results):
        for r in results:  # pycocotools decides by the first result alone
            r.pop("bbox", None)
    if iou_type == "segm":
        for r in results:  # with a bbox, loadRes would take the box's area for the mask's
            r.pop("bbox", None)
    with contextlib.redirect_stdout(io.StringIO()):
        dt = gt.loadRes(results)
        ev = COCOeval(gt, dt, iou_type)
        if iou_type == "keypoints":
            ev.params.kpt_oks_sigmas = np.asarray(gt.sigmas, dtype=np.float64)
        if image_ids is not None:
            ev.params.imgIds = image_ids
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return {k: float(v) for k, v in zip(names, np.asarray(ev.stats))}


def coco_keypoint_ap(
    coco_gt: str | os.PathLike | dict | COCO,
    results: Sequence[dict] | str | os.PathLike,
    image_ids: Sequence[int] | None = None,
    sigmas: Sequence[float] | None = None,
) -> dict[str, float]:
    """OKS keypoint AP/AR of COCO-format results: [`coco_ap()`][coco_ap] with ``"keypoints"``.

    Args:
        coco_gt: ground truth, a ``person_keypoints_*.json`` path, its dict or a ``COCO``.
        results: COCO keypoint results (``image_id``, ``category_id``, ``keypoints``
            flat ``3K``, ``score``, optionally ``bbox``), as a list or a JSON file.
        image_ids: evaluate only these images (default: every image of ``coco_gt``).
        sigmas: the OKS sigmas, one per keypoint (default: the ground truth's, see
            [`coco_ap()`][coco_ap]).

    Returns:
        ``{"AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"}``;
        with no results at all every value is 0.0 (pycocotools cannot load an empty list).

    Raises:
        FileNotFoundError: if the ground-truth or results file does not exist.
        ValueError: for a ground truth training refuses or a malformed result (see
            [`coco_ap()`][coco_ap]).
    """
    return coco_ap(coco_gt, results, "keypoints", image_ids, sigmas)


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
