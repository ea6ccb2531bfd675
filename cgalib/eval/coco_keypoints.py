"""Keypoint AP exactly as pycocotools' ``COCOeval(..., "keypoints")`` computes it."""

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

__all__ = ["KEYPOINT_METRICS", "coco_keypoint_ap", "load_coco", "format_metrics"]

KEYPOINT_METRICS = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")
"""Names of ``COCOeval.stats`` for ``iouType="keypoints"``, in order."""


def load_coco(coco_gt: str | os.PathLike | COCO) -> COCO:
    """A pycocotools ``COCO`` from a path (quietly) or the object itself.

    Raises:
        FileNotFoundError: if the path does not exist.
        ValueError: if the file is not a COCO annotation file.
    """
    if isinstance(coco_gt, COCO):
        return coco_gt
    path = Path(coco_gt)
    if not path.is_file():
        raise FileNotFoundError(f"annotation file not found: {path}")
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return COCO(str(path))
    except (json.JSONDecodeError, KeyError, TypeError, AssertionError) as err:
        raise ValueError(f"{path} is not a valid COCO annotation file: {err}") from err


def coco_keypoint_ap(
    coco_gt: str | os.PathLike | COCO,
    results: Sequence[dict] | str | os.PathLike,
    image_ids: Sequence[int] | None = None,
) -> dict[str, float]:
    """OKS keypoint AP/AR of COCO-format results, identical to pycocotools' stats.

    Args:
        coco_gt: ground truth, a ``person_keypoints_*.json`` path or a ``COCO`` object.
        results: COCO keypoint results (``image_id``, ``category_id``, ``keypoints``
            flat ``3K``, ``score``), as a list or a JSON file.
        image_ids: evaluate only these images (default: every image of ``coco_gt``).

    Returns:
        ``{"AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"}``;
        with no results at all every value is 0.0 (pycocotools cannot load an empty list).

    Raises:
        ValueError: if a result names an image that is not in the ground truth.
    """
    gt = load_coco(coco_gt)
    if isinstance(results, (str, os.PathLike)):
        results = json.loads(Path(results).read_text())
    results = list(results)
    if not results:
        return dict.fromkeys(KEYPOINT_METRICS, 0.0)
    unknown = {r["image_id"] for r in results} - set(gt.getImgIds())
    if unknown:
        raise ValueError(
            f"results name images missing from the ground truth: {sorted(unknown)[:5]}"
        )
    with contextlib.redirect_stdout(io.StringIO()):
        dt = gt.loadRes(copy.deepcopy(results))
        ev = COCOeval(gt, dt, "keypoints")
        if image_ids is not None:
            ev.params.imgIds = list(image_ids)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return {k: float(v) for k, v in zip(KEYPOINT_METRICS, np.asarray(ev.stats))}


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
