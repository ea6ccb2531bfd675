"""The ground truth of an evaluation: the checked annotation set, in the form pycocotools scores,
with the OKS sigmas of its keypoint set.

Evaluation accepts exactly the files training accepts (one check,
[`cgalib.data.validate_coco()`][cgalib.data.validate_coco]) and scores the people training uses. pycocotools itself
is left alone; its inputs are prepared in a copy ([`CocoGroundTruth`][CocoGroundTruth]), so the
numbers on a clean COCO file are pycocotools' own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from pycocotools.coco import COCO

from cgalib.data.validate import (
    AnnotationError,
    AnnotationReport,
    AnnotationWarning,
    Categories,
    check_coco,
    coco_dataset,
    labelled_mask,
    warn_report,
)
from cgalib.utils.keypoint_set import KeypointSetError, check_oks_sigmas, oks_sigmas
from cgalib.utils.numbers import is_integer

__all__ = ["CocoGroundTruth", "load_coco", "require_ground_truth"]


class CocoGroundTruth(COCO):
    """A pycocotools ``COCO`` index of the person annotations to evaluate against, with
    the [`AnnotationReport`][cgalib.data.AnnotationReport] of its file and the OKS sigmas to score
    them with.

    Made by [`load_coco()`][load_coco]; the user's file, dict or ``COCO`` object is never changed.
    It differs from the source only where pycocotools would otherwise score wrongly or
    fail; each change is listed in ``report.notes``:

    - only the keypoint category (the person category by default) and its annotations are
      kept; several keypoint categories are scored as one class, the first one's (the
      model predicts one class);
    - the people training drops (no box, zero-area box, box outside the image, a repeat
      of an earlier person; see [`check_coco()`][cgalib.data.check_coco]) are left out, with
      a warning;
    - keypoints at ``(0, 0)`` marked labelled are unlabelled (``0, 0, 0``), as training
      reads them ([`labelled_mask()`][cgalib.data.labelled_mask]; CVAT and Label Studio write
      unlabelled points so), with a warning: the same predictions score the same as on the
      file with those points written ``(0, 0, 0)``;
    - annotation ids are renumbered ``1..N`` when any is not a positive integer:
      pycocotools records a match by the ground truth's id and takes an id of 0 for "no
      match", so a file with an annotation id 0 scores perfect predictions below 1.0;
    - ``num_keypoints`` is counted from the keypoint list (``v > 0``), which pycocotools
      trusts to decide which people keypoint AP ignores; a missing ``area`` is the box's
      ``w * h``, a missing ``iscrowd`` 0, a missing keypoint list all zeros.

    Args:
        dataset: the prepared dataset dict (``images``, ``annotations``, ``categories``).
        report: the report of the source.
        source_ids: the source's id of each annotation of ``dataset``, in order.
        sigmas: the OKS sigmas, one per keypoint (``()`` without keypoints).
        sigma_source: where they come from (see
            `SIGMA_SOURCES`).

    Attributes:
        report: the source's report, with the notes of this preparation.
        source_ids: ``{id here: id in the source}`` of each annotation.
        category_id: the (first) keypoint category's id; results carry it.
        num_keypoints: `K`.
        keypoint_names: the category's ``K`` keypoint names.
        sigmas: the OKS sigmas keypoint AP is scored with.
        sigma_source: ``"given"``, ``"coco"`` or ``"default"``.
    """

    def __init__(
        self,
        dataset: dict,
        report: AnnotationReport,
        source_ids: Sequence[int],
        sigmas: Sequence[float] = (),
        sigma_source: str = "default",
    ) -> None:
        super().__init__()
        self.dataset = dataset
        self.report = report
        self.source_ids = {a["id"]: i for a, i in zip(dataset["annotations"], source_ids)}
        self.category_id = report.category_id
        self.num_keypoints = report.num_keypoints
        self.keypoint_names = tuple(dataset["categories"][0].get("keypoints") or ())
        self.sigmas = tuple(sigmas)
        self.sigma_source = sigma_source
        self._source_id_list = list(source_ids)
        with contextlib.redirect_stdout(io.StringIO()):
            self.createIndex()

    def with_sigmas(self, sigmas: Sequence[float], sigma_source: str = "given") -> CocoGroundTruth:
        """The same ground truth scored with other OKS sigmas (a new object).

        Args:
            sigmas: one per keypoint.
            sigma_source: where they come from.

        Returns:
            The new [`CocoGroundTruth`][CocoGroundTruth].

        Raises:
            KeypointSetError: (a ``ValueError``) for sigmas of the wrong count or value.
        """
        sigmas = check_oks_sigmas(sigmas, self.num_keypoints, f"{self.report.source}: sigmas")
        return CocoGroundTruth(
            self.dataset, self.report, self._source_id_list, sigmas, sigma_source
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.report})"


def load_coco(
    coco_gt: str | os.PathLike | Mapping[str, Any] | COCO,
    require_annotations: bool = True,
    categories: Categories = None,
    sigmas: Sequence[float] | None = None,
) -> CocoGroundTruth:
    """The ground truth to evaluate against, checked as training checks it.

    The OKS sigmas keypoint AP is scored with are ``sigmas``, else the category's
    ``sigmas`` list (cgalib's optional key), else COCO's for COCO's 17 keypoints, else
    [`DEFAULT_OKS_SIGMA`][cgalib.utils.keypoint_set.DEFAULT_OKS_SIGMA] for each keypoint (scoring then
    warns that AP is not comparable to published numbers).

    Args:
        coco_gt: a ``person_keypoints_*.json`` file, its parsed dict, a ``COCO`` object or
            a [`CocoGroundTruth`][CocoGroundTruth] (returned as is, or with ``sigmas`` if given).
        require_annotations: refuse a file without an ``annotations`` list (prediction on
            an image-info file, such as COCO's test-dev one, passes ``False``).
        categories: the keypoint categories (see [`Categories`][cgalib.data.Categories]; default
            the one named ``"person"``); several are scored as one class.
        sigmas: the OKS sigmas, one per keypoint.

    Returns:
        The [`CocoGroundTruth`][CocoGroundTruth]: the keypoint category's annotations only, dropped
        people left out, ids renumbered where pycocotools needs it (see its docstring).

    Raises:
        FileNotFoundError: if the file does not exist.
        AnnotationError: (a ``ValueError``) for a file that is not a JSON object (read by
            [`cgalib.data.read_coco_json()`][cgalib.data.read_coco_json]), for a set training
            refuses, naming the file and the annotation id (see
            [`cgalib.data.check_coco()`][cgalib.data.check_coco]), or sigmas (given or in the
            category) of the wrong count or value.

    Warns:
        AnnotationWarning: (a ``UserWarning``) when people are left out, with the count of
            each reason, and, as training warns them
            ([`cgalib.data.warn_report()`][cgalib.data.warn_report]), for keypoints at ``(0, 0)``
            read as unlabelled and for suspect boxes.

    Examples:
        >>> gt = load_coco({
        ...     "images": [{"id": 7}],
        ...     "annotations": [{"id": 0, "image_id": 7, "category_id": 1,
        ...                      "bbox": [0, 0, 10, 20], "keypoints": [5, 5, 2]}],
        ...     "categories": [{"id": 1, "name": "person", "keypoints": ["nose"]}],
        ... })
        >>> gt.getImgIds(), gt.getAnnIds(), gt.source_ids
        ([7], [1], {1: 0})
        >>> gt.report.notes[0]
        'annotation ids renumbered 1..1 for pycocotools, which takes an id of 0 for "no match" (the source is unchanged)'
    """
    if isinstance(coco_gt, CocoGroundTruth):
        return coco_gt if sigmas is None else coco_gt.with_sigmas(sigmas)
    data, source = coco_dataset(coco_gt)
    report = check_coco(
        data, source, require_annotations=require_annotations, categories=categories
    )
    dataset, source_ids, notes = _evaluation_dataset(data, report)
    category = dataset["categories"][0]
    names = category.get("keypoints") or []
    found_sigmas, sigma_source = (), "default"
    if names:
        where = f"{source}: category {category.get('name')!r}"
        given = sigmas if sigmas is not None else category.get("sigmas")
        try:
            found_sigmas, sigma_source = oks_sigmas(names, given, where)
        except KeypointSetError as err:
            raise AnnotationError(str(err)) from None
    warn_report(report)
    if report.num_dropped:
        warnings.warn(
            f"{source}: {report.num_dropped} of {report.people} people are left out of the "
            f"evaluation, as training leaves them out ({report.describe_dropped()})",
            AnnotationWarning,
            stacklevel=2,
        )
    report = dataclasses.replace(report, notes=report.notes + notes)
    return CocoGroundTruth(dataset, report, source_ids, found_sigmas, sigma_source)


def _evaluation_dataset(
    data: Mapping[str, Any], report: AnnotationReport
) -> tuple[dict, list[int], tuple[str, ...]]:
    """The dataset pycocotools gets (copied annotation dicts), the source id of each of its
    annotations and the notes on what changed."""
    person, k = report.category_id, report.num_keypoints
    kinds = set(report.category_ids)
    dropped = report.dropped_ids
    anns, recounted, areas = [], 0, 0
    for source_ann in data.get("annotations", []):
        if source_ann["category_id"] not in kinds or source_ann["id"] in dropped:
            continue
        ann = dict(source_ann)  # pycocotools writes 'ignore' into its ground-truth dicts
        ann["category_id"] = person  # several keypoint categories: one class
        points = ann.get("keypoints") or [0] * (3 * k)
        labelled = labelled_mask(np.asarray(points, np.float64).reshape(-1, 3))
        if (np.asarray(points[2::3]) > 0).sum() != labelled.sum():  # at (0, 0): unlabelled
            points = [0 if not labelled[j // 3] else value for j, value in enumerate(points)]
        ann["keypoints"] = points
        count = int(labelled.sum())
        recounted += ann.get("num_keypoints", count) != count
        ann["num_keypoints"] = count
        ann["iscrowd"] = int(ann.get("iscrowd", 0))
        if ann.get("area") is None:
            ann["area"] = float(ann["bbox"][2]) * float(ann["bbox"][3])
            areas += 1
        anns.append(ann)
    notes = []
    if len(kinds) > 1:
        notes.append(
            f"categories {report.describe_categories()} scored as one class (category_id {person})"
        )
    if report.num_dropped:
        notes.append(f"{report.num_dropped} dropped people left out")
    source_ids = [a["id"] for a in anns]
    if any(not (is_integer(i) and i >= 1) for i in source_ids):
        for i, ann in enumerate(anns, 1):
            ann["id"] = i
        notes.append(
            f"annotation ids renumbered 1..{len(anns)} for pycocotools, which takes an id of 0 "
            'for "no match" (the source is unchanged)'
        )
    if recounted:
        notes.append(
            f"num_keypoints of {recounted} annotations disagreed with their keypoints; "
            "counted from the keypoints"
        )
    if areas:
        notes.append(f"area taken from the box of {areas} annotations")
    category = next(c for c in data["categories"] if c["id"] == person)
    dataset = {
        "info": data.get("info", {}),
        "images": data["images"],
        "annotations": anns,
        "categories": [category],
    }
    return dataset, source_ids, tuple(notes)


def require_ground_truth(gt: CocoGroundTruth, iou_type: str) -> None:
    """Refuse a ground truth that an iou type cannot score (pycocotools would give -1 or fail).

    Args:
        gt: the ground truth from [`load_coco()`][load_coco].
        iou_type: ``"keypoints"``, ``"bbox"`` or ``"segm"``.

    Raises:
        AnnotationError: naming the file: for keypoints, a keypoint category without
            keypoint names or no kept person with a labelled keypoint; for boxes and
            masks, no kept person; for masks, a person without a ``segmentation``.
    """
    report = gt.report
    if iou_type == "keypoints":
        if not report.num_keypoints:
            raise AnnotationError(
                f"{report.source}: category {report.category_names[0]!r} names no keypoints; "
                "keypoint AP needs the category's 'keypoints' names"
            )
        if not report.labelled:
            raise AnnotationError(
                f"{report.source} has no person with a labelled keypoint to score against "
                f"({report}); keypoint AP would be -1"
            )
    elif not report.kept:
        raise AnnotationError(
            f"{report.source} has no person to score against ({report}); {iou_type} AP would be -1"
        )
    if iou_type == "segm":
        bare = [
            gt.source_ids[a["id"]] for a in gt.dataset["annotations"] if not a.get("segmentation")
        ]
        if bare:
            raise AnnotationError(
                f"{report.source}: annotation {bare[0]} (and {len(bare) - 1} more) has no "
                "segmentation; mask AP needs one for every person"
            )
