"""COCO keypoint (and person box) AP as a ``torchmetrics.Metric``: batch updates, DDP sync."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import torch
from pycocotools.coco import COCO
from torch import Tensor
from torchmetrics import Metric

from cgalib.eval.coco_eval import IOU_TYPES, check_results, coco_ap
from cgalib.eval.ground_truth import load_coco, require_ground_truth

__all__ = ["BOX_PREFIX", "CocoKeypointAP"]

BOX_PREFIX = "box_"
"""Prefix of the person box stats in [`CocoKeypointAP.compute()`][CocoKeypointAP.compute] (``box_AP``, ...)."""

_METRIC_IOU_TYPES = ("keypoints", "bbox")


class CocoKeypointAP(Metric):
    """COCO OKS keypoint AP of results fed batch by batch, equal to [`coco_keypoint_ap()`][coco_keypoint_ap].

    Each [`update()`][update] takes the standard COCO results of the images of one batch and
    appends them, as float64 tensors that give back the same Python floats, to list states
    that torchmetrics concatenates across DDP ranks. [`compute()`][compute] rebuilds the result
    dicts and runs pycocotools' ``COCOeval`` on exactly the images that were updated: ranks
    that split a dataset between them all get the AP of the whole of it (or, with
    ``sync_on_compute=False``, each the AP of its own images). torchmetrics has no keypoint
    AP of its own (its ``MeanAveragePrecision`` covers boxes and masks, with torchvision).

    Every image must be passed to [`update()`][update] once, even one without detections (list
    it in ``image_ids``): a ``DistributedSampler`` that pads the split with repeated
    images makes [`compute()`][compute] raise. Leave the metric's dtype alone (``set_dtype``
    would round the float64 states).

    Args:
        coco_gt: the ground truth, as [`load_coco()`][cgalib.eval.load_coco] accepts it (a
            ``person_keypoints_*.json`` path, its dict or a ``COCO`` object).
        iou_types: ``"keypoints"`` (OKS AP) and/or ``"bbox"`` (person box AP of each
            result's ``bbox``).
        sigmas: the OKS sigmas of keypoint AP, one per keypoint (default: the ground
            truth's; see [`load_coco()`][cgalib.eval.load_coco]).
        **kwargs: passed to ``torchmetrics.Metric`` (``sync_on_compute``,
            ``process_group``, ``compute_on_cpu``, ...).

    Attributes:
        coco_gt: the checked ground truth (a [`CocoGroundTruth`][cgalib.eval.CocoGroundTruth]; its
            ``report`` counts the people scored and says what was converted).

    Raises:
        AnnotationError: (a ``ValueError``) for a ground truth training refuses or one
            with nobody to score (see [`require_ground_truth()`][cgalib.eval.require_ground_truth]).
        ValueError: for unknown or repeated ``iou_types``, or ``sigmas`` that are not one
            positive number per keypoint.

    Shape:
        - results of one update: N dicts with ``keypoints`` of length `3K` (K from the
          ground truth's category) and ``bbox`` of length 4
        - states: image ids `(I,)`, result image and category ids `(N,)`, scores `(N,)`,
          boxes `(N, 4)` (NaN where a result has none), keypoints `(N, 3K)`

    Example:
        >>> gt = {
        ...     "images": [{"id": 1, "width": 100, "height": 100}, {"id": 2}],
        ...     "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0,
        ...                      "bbox": [10, 10, 40, 80], "area": 3200, "num_keypoints": 17,
        ...                      "keypoints": [20, 40, 2] * 17}],
        ...     "categories": [{"id": 1, "name": "person", "keypoints": list("abcdefghijklmnopq")}],
        ... }
        >>> metric = CocoKeypointAP(gt, iou_types=("keypoints", "bbox"), sigmas=[0.05] * 17)
        >>> person = {"image_id": 1, "category_id": 1, "score": 0.9,
        ...           "keypoints": [20.0, 40.0, 1.0] * 17, "bbox": [10, 10, 40, 80]}
        >>> metric.update([person], image_ids=[1])
        >>> metric.update([], image_ids=[2])  # an image without detections still counts
        >>> stats = metric.compute()
        >>> round(stats["AP"], 6), round(stats["box_AP"], 6)
        (1.0, 1.0)
    """

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    image_ids: list[Tensor] | Tensor
    result_image_ids: list[Tensor] | Tensor
    category_ids: list[Tensor] | Tensor
    scores: list[Tensor] | Tensor
    boxes: list[Tensor] | Tensor
    keypoints: list[Tensor] | Tensor

    def __init__(
        self,
        coco_gt: str | os.PathLike | dict | COCO,
        iou_types: Sequence[str] = ("keypoints",),
        sigmas: Sequence[float] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        iou_types = tuple(iou_types)
        if (
            not iou_types
            or len(set(iou_types)) != len(iou_types)
            or not set(iou_types) <= set(_METRIC_IOU_TYPES)
        ):
            raise ValueError(
                f"iou_types must be distinct names from {_METRIC_IOU_TYPES}, got {iou_types!r}"
            )
        self.coco_gt = load_coco(coco_gt)
        for iou_type in iou_types:
            require_ground_truth(self.coco_gt, iou_type)
        if sigmas is not None and "keypoints" in iou_types:
            self.coco_gt = self.coco_gt.with_sigmas(sigmas)
        self.iou_types = iou_types
        self.num_keypoints = self.coco_gt.num_keypoints if "keypoints" in iou_types else 0
        self._gt_image_ids = frozenset(self.coco_gt.getImgIds())
        for name in self._state_widths():
            self.add_state(name, default=[], dist_reduce_fx="cat")

    def _state_widths(self) -> dict[str, tuple[torch.dtype, int | None]]:
        """Each state's dtype and row width (``None``: one value per row)."""
        return {
            "image_ids": (torch.int64, None),
            "result_image_ids": (torch.int64, None),
            "category_ids": (torch.int64, None),
            "scores": (torch.float64, None),
            "boxes": (torch.float64, 4),
            "keypoints": (torch.float64, 3 * self.num_keypoints),
        }

    def update(self, results: Sequence[dict], image_ids: Sequence[int] | None = None) -> None:
        """Add the COCO results of one batch of images.

        Args:
            results: COCO results (``image_id``, ``category_id``, ``score``, ``keypoints``
                flat `3K` when evaluating keypoints, ``bbox`` xywh when evaluating boxes;
                other keys are ignored).
            image_ids: the images of this batch, those without results included (default:
                the images that ``results`` name).

        Raises:
            ValueError: for a malformed result (see [`check_results()`][cgalib.eval.check_results]:
                a missing key, another category, the wrong number of values, NaN), a
                result naming an image missing from ``image_ids``, or an image that is not
                in the ground truth.
        """
        results = list(results)
        check_results(results, self.coco_gt, self.iou_types)
        width = 3 * self.num_keypoints
        rows: dict[str, list] = {name: [] for name in self._state_widths() if name != "image_ids"}
        for r in results:
            box = r.get("bbox")
            rows["result_image_ids"].append(int(r["image_id"]))
            rows["category_ids"].append(int(r["category_id"]))
            rows["scores"].append(r["score"])
            rows["boxes"].append(list(box) if box is not None else [math.nan] * 4)
            rows["keypoints"].append(list(r["keypoints"]) if width else [])
        named = list(dict.fromkeys(rows["result_image_ids"]))
        if image_ids is None:
            images = named
        else:
            images = [int(i) for i in image_ids]
            stray = set(named) - set(images)
            if stray:
                raise ValueError(
                    f"results for images {sorted(stray)[:5]} that image_ids does not list"
                )
        unknown = set(images) - self._gt_image_ids
        if unknown:
            raise ValueError(f"images missing from the ground truth: {sorted(unknown)[:5]}")
        rows["image_ids"] = images
        for name, (dtype, w) in self._state_widths().items():
            value = torch.tensor(rows[name], dtype=dtype, device=self.device)
            getattr(self, name).append(value if w is None else value.reshape(len(rows[name]), w))

    def sync(
        self,
        dist_sync_fn: Callable | None = None,
        process_group: Any | None = None,
        should_sync: bool = True,
        distributed_available: Callable | None = None,
    ) -> None:
        """Sync states across ranks (see ``torchmetrics.Metric.sync``).

        A rank that saw no batch first gets empty states of the right dtype and width;
        torchmetrics would otherwise gather them as 1-D float32.
        """
        for name, (dtype, w) in self._state_widths().items():
            state = getattr(self, name)
            if isinstance(state, list) and not state:
                shape = (0,) if w is None else (0, w)
                state.append(torch.empty(shape, dtype=dtype, device=self.device))
        super().sync(dist_sync_fn, process_group, should_sync, distributed_available)

    def compute(self) -> dict[str, float]:
        """Run pycocotools on the updated images.

        Returns:
            The keypoint stats named by [`KEYPOINT_METRICS`][cgalib.eval.KEYPOINT_METRICS] (``AP``,
            ``AP50``, ...) when ``"keypoints"`` is evaluated, then the box stats of
            [`BOX_METRICS`][cgalib.eval.BOX_METRICS] prefixed with ``box_`` (``box_AP``, ...) when
            ``"bbox"`` is; all 0.0 for a type when there are no results.

        Raises:
            ValueError: if an image was updated more than once (on any rank).
        """
        states = {name: _cat(getattr(self, name)) for name in self._state_widths()}
        ids, counts = torch.unique(states["image_ids"], return_counts=True)
        repeated = ids[counts > 1].tolist()
        if repeated:
            raise ValueError(
                f"images {repeated[:5]} were passed to update() more than once (counting all "
                "ranks); each image must be evaluated once: a DistributedSampler pads the "
                "split with repeated images, drop them before update()"
            )
        columns = {name: value.cpu().tolist() for name, value in states.items()}
        results = []
        for i in range(len(columns["result_image_ids"])):
            r = {
                "image_id": columns["result_image_ids"][i],
                "category_id": columns["category_ids"][i],
                "score": columns["scores"][i],
            }
            if self.num_keypoints:
                r["keypoints"] = columns["keypoints"][i]
            if not math.isnan(columns["boxes"][i][0]):
                r["bbox"] = columns["boxes"][i]
            results.append(r)
        out: dict[str, float] = {}
        for iou_type in self.iou_types:
            if ids.numel():
                stats = coco_ap(self.coco_gt, results, iou_type, image_ids=ids.tolist())
            else:
                stats = dict.fromkeys(IOU_TYPES[iou_type], 0.0)
            prefix = BOX_PREFIX if iou_type == "bbox" else ""
            out.update({prefix + k: v for k, v in stats.items()})
        return out

    def extra_repr(self) -> str:
        return f"iou_types={self.iou_types}, images={len(self._gt_image_ids)}"


def _cat(state: list[Tensor] | Tensor) -> Tensor:
    """A state as one tensor: concatenated by torchmetrics after a sync, a list before."""
    return state if isinstance(state, Tensor) else torch.cat(state)
