"""COCO ``segmentation`` fields: their checks and their rasterisation, for the mask loader.

A person's ``segmentation`` is a list of polygons (``[[x1, y1, x2, y2, ...], ...]``), an
uncompressed RLE (``{"size": [H, W], "counts": [int, ...]}``) or a compressed one
(``"counts"`` a string). The policy follows the keypoint loader's
([`check_coco()`][cgalib.data.check_coco]): a **malformed** segmentation is an
[`AnnotationError`][cgalib.data.AnnotationError] naming the file and the annotation id (a polygon of
fewer than 3 points or an odd number of coordinates, a non-number, an RLE whose size is
not its image's, an RLE without counts); a **missing or empty** one (no field, ``[]``,
``{}``, ``null``) drops the person with a count, reason [`NO_SEGMENTATION`][NO_SEGMENTATION], as a
missing box does. Only loaders that ask for masks run these checks (keypoint-only
training never reads a segmentation of a person); a checked segmentation is rasterised by
[`segmentation_to_mask()`][cgalib.codecs.segmentation_to_mask].
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from pycocotools.coco import COCO

from cgalib.data.validate import AnnotationError, AnnotationReport, labelled_mask
from cgalib.utils.numbers import is_integer, is_number

__all__ = [
    "NO_SEGMENTATION",
    "check_segmentations",
    "segmentation_problem",
]

NO_SEGMENTATION = "no segmentation"
"""Drop reason of a mask loader: a person without ``segmentation`` (missing, ``null``,
``[]`` or ``{}``)."""


def _is_empty(segm: Any) -> bool:
    return segm is None or (isinstance(segm, (list, dict, str)) and len(segm) == 0)


def segmentation_problem(segm: Any, height: int, width: int) -> str | None:
    """What is wrong with a non-empty COCO ``segmentation``, or ``None`` when it is usable.

    Args:
        segm: the annotation's ``segmentation``.
        height: its image's height.
        width: its image's width.

    Returns:
        A phrase for an error message (``"has a polygon of 2 points; ..."``), or ``None``.

    Example:
        >>> segmentation_problem([[0, 0, 5, 0, 5, 5]], 10, 10) is None
        True
        >>> segmentation_problem([[0, 0, 5, 5]], 10, 10)
        'has a segmentation polygon of 2 points (4 numbers); a polygon needs at least 3 points'
        >>> segmentation_problem({"size": [20, 10], "counts": "abc"}, 10, 10)
        'has a segmentation RLE of size [20, 10] on an image of size [10, 10]'
    """
    if isinstance(segm, list):
        for poly in segm:
            if not isinstance(poly, (list, tuple)) or not all(
                is_number(v) and np.isfinite(v) for v in poly
            ):
                return "has a segmentation polygon that is not a list of finite numbers"
            if len(poly) % 2:
                return f"has a segmentation polygon of {len(poly)} numbers (odd: x, y pairs)"
            if len(poly) < 6:
                return (
                    f"has a segmentation polygon of {len(poly) // 2} points ({len(poly)} "
                    "numbers); a polygon needs at least 3 points"
                )
        return None
    if isinstance(segm, dict):
        size, counts = segm.get("size"), segm.get("counts")
        if (
            not isinstance(size, (list, tuple))
            or len(size) != 2
            or not all(is_integer(s) for s in size)
        ):
            return f"has a segmentation RLE with size {size!r}; expected [height, width]"
        if [int(s) for s in size] != [int(height), int(width)]:
            return (
                f"has a segmentation RLE of size {list(size)} on an image of size "
                f"[{int(height)}, {int(width)}]"
            )
        if isinstance(counts, list):
            if not all(is_integer(c) and c >= 0 for c in counts):
                return "has a segmentation RLE whose counts are not integers >= 0"
            if sum(counts) != height * width:
                return (
                    f"has a segmentation RLE whose counts add up to {sum(counts)}, not "
                    f"height * width = {int(height) * int(width)}"
                )
            return None
        if not isinstance(counts, (str, bytes)) or not counts:
            return "has a segmentation RLE without counts (a list of ints or a string)"
        return None
    return f"has a segmentation of type {type(segm).__name__}; expected polygons or an RLE"


def check_segmentations(coco: COCO, report: AnnotationReport) -> AnnotationReport:
    """Check the segmentation of every person a report keeps, and of every crowd region.

    Args:
        coco: the index of a set checked by [`validate_coco()`][cgalib.data.validate_coco].
        report: its report.

    Returns:
        The report with the kept people without a segmentation dropped
        ([`NO_SEGMENTATION`][NO_SEGMENTATION], counted like the other drop reasons).

    Raises:
        AnnotationError: naming the file and the annotation id, for the first malformed
            segmentation (see the module docstring).
    """
    dropped = report.dropped_ids
    missing = []
    for ann in coco.dataset.get("annotations", []):
        if ann.get("category_id") != report.category_id or ann["id"] in dropped:
            continue
        segm = ann.get("segmentation")
        if _is_empty(segm):
            if not ann.get("iscrowd", 0):  # a crowd region without one ignores its box
                missing.append(int(ann["id"]))
            continue
        image = coco.imgs[ann["image_id"]]
        problem = segmentation_problem(segm, image.get("height", 0), image.get("width", 0))
        if problem is not None:
            raise AnnotationError(
                f"{report.source}: annotation {ann['id']} {problem}; fix it, or remove the "
                "segmentation to drop the person from mask training"
            )
    if not missing:
        return report
    gone = dropped | set(missing)
    people = [
        a
        for a in coco.dataset["annotations"]
        if a.get("category_id") == report.category_id and not a.get("iscrowd", 0)
    ]
    kept = [a for a in people if a["id"] not in gone]
    labelled = sum(
        bool(labelled_mask(np.asarray(a.get("keypoints") or [], np.float64).reshape(-1, 3)).any())
        for a in kept
    )
    return dataclasses.replace(
        report,
        dropped={**report.dropped, NO_SEGMENTATION: tuple(missing)},
        labelled=int(labelled),
        images_with_people=len({a["image_id"] for a in kept}),
        suspect={
            reason: still
            for reason, ids in report.suspect.items()
            if (still := tuple(i for i in ids if i not in gone))
        },
    )
