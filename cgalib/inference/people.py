"""People as predictions return them: one COCO-style dict per person, built in one place.

Whatever found them (a bottom-up model in the whole image, a top-down model in given
boxes), the people of an image arrive here as [`Detections`][Detections] in image pixels, and
[`to_people()`][to_people] applies the one score rule, sorts, filters and writes the dicts:

- ``score`` = the box score times the mean keypoint probability (the box score alone for a
  model without keypoints), in [0, 1]; with a ``keypoint_score_threshold`` the mean is
  over the keypoints scored above it (0 when none is), mmpose's rule (0.2 there);
- people are sorted by ``score``, highest first, equal scores in detection order (a
  stable sort); with an OKS-NMS threshold a pose whose OKS to a higher-scored one exceeds
  it is dropped, the OKS scaled by each pose's detection box area (``oks_area="box"``) or
  by its padded, aspect-fixed crop region (``"crop"``, mmpose's ``bbox_scale``, about 1.56
  times the box for a box of the crop's aspect ratio); people scored below the thresholds
  are dropped.

Both conventions were measured on top-down evaluations (``benchmarks/decoding.py``, the
``decoding`` table of ``docs/benchmarks.md``); the defaults are the measured choices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch

from cgalib.postprocess.oks_nms import oks_nms

__all__ = ["OKS_AREAS", "Detections", "OksArea", "to_people"]

OksArea = Literal["box", "crop"]
"""What scales the OKS of OKS-NMS: a pose's detection box area, or that of the padded,
aspect-fixed crop region its keypoints were read from (top-down models)."""

OKS_AREAS = ("box", "crop")
"""The values of [`OksArea`][OksArea]."""


@dataclass(frozen=True)
class Detections:
    """The people found in one image, in its pixels, before scoring, sorting and filtering.

    Attributes:
        boxes: `(N, 4)` person boxes, continuous xyxy.
        box_scores: `(N,)` their probabilities in [0, 1].
        keypoints: `(N, K, 3)` as (x, y, probability), pixel indices; ``None`` for a
            model without keypoints.
        extended_boxes: `(N, 4)` xyxy boxes the keypoints were read from (CGANet's
            Dichotomy Extended Area), or ``None``.
        segmentations: ``N`` COCO RLE dicts of the people's masks, or ``None``.
        crop_regions: `(N, 4)` xyxy crop regions a top-down model cut around the boxes
            (padded, aspect-fixed: [`person_crop_boxes()`][cgalib.codecs.person_crop_boxes]),
            or ``None``.
    """

    boxes: torch.Tensor
    box_scores: torch.Tensor
    keypoints: torch.Tensor | None = None
    extended_boxes: torch.Tensor | None = None
    segmentations: Sequence[dict] | None = None
    crop_regions: torch.Tensor | None = None

    @classmethod
    def empty(cls, num_keypoints: int) -> Detections:
        """No people (``num_keypoints`` 0: a model without keypoints)."""
        keypoints = torch.zeros(0, num_keypoints, 3) if num_keypoints else None
        return cls(torch.zeros(0, 4), torch.zeros(0), keypoints)

    def scores(self, keypoint_score_threshold: float | None = None) -> torch.Tensor:
        """`(N,)` person scores: box score times mean keypoint probability (the box score
        alone without keypoints).

        Args:
            keypoint_score_threshold: ``None``: the mean of all keypoint probabilities; a
                value: the mean of those above it, 0 where none is (mmpose: 0.2).

        Examples:
            >>> found = Detections(torch.zeros(1, 4), torch.tensor([0.5]),
            ...                    torch.tensor([[[0, 0, 0.9], [0, 0, 0.5], [0, 0, 0.1]]]))
            >>> [round(s, 3) for s in found.scores().tolist() + found.scores(0.2).tolist()]
            [0.25, 0.35]
        """
        if self.keypoints is None or self.keypoints.shape[1] == 0:
            return self.box_scores
        probs = self.keypoints[..., 2]
        if keypoint_score_threshold is None:
            return self.box_scores * probs.mean(-1)
        above = probs > keypoint_score_threshold
        total = torch.where(above, probs, torch.zeros_like(probs)).sum(-1)
        return self.box_scores * total / above.sum(-1).clamp(min=1)

    def oks_areas(self, oks_area: OksArea = "box") -> torch.Tensor:
        """`(N,)` the areas that scale each pose's OKS in OKS-NMS (see [`OksArea`][OksArea]).

        Raises:
            ValueError: for ``"crop"`` without ``crop_regions`` (a model that finds people
                in whole images cuts no crops), or an unknown ``oks_area``.
        """
        if oks_area not in OKS_AREAS:
            raise ValueError(f"oks_area must be one of {OKS_AREAS}, got {oks_area!r}")
        b = self.boxes if oks_area == "box" else self.crop_regions
        if b is None:
            raise ValueError(
                "oks_area='crop' needs the crop regions of a model that reads person crops "
                "(a top-down model); use oks_area='box'"
            )
        return (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])


def to_people(
    found: Detections,
    score_threshold: float = 0.0,
    box_score_threshold: float = 0.0,
    oks_nms_threshold: float | None = None,
    sigmas: Sequence[float] | None = None,
    keypoint_score_threshold: float | None = None,
    oks_area: OksArea = "box",
) -> list[dict]:
    """The people of one image as COCO-style dicts, sorted by ``score``.

    Args:
        found: what the model found in the image.
        score_threshold: people with a lower ``score`` are dropped.
        box_score_threshold: people with a lower ``box_score`` are dropped.
        oks_nms_threshold: with a value, OKS-NMS drops a pose whose OKS (with ``sigmas``)
            to a higher-scored one exceeds it; ``None`` keeps every pose.
        sigmas: the OKS sigmas of the keypoint set (needed for OKS-NMS).
        keypoint_score_threshold: the person score's keypoint rule
            ([`Detections.scores()`][Detections.scores]): ``None`` averages every keypoint
            probability, a value only those above it.
        oks_area: what scales OKS-NMS's OKS ([`OksArea`][OksArea]): ``"box"`` or ``"crop"``.

    Returns:
        One dict per person: ``category_id`` 1, ``bbox`` ``[x, y, w, h]``, ``keypoints``
        (flat ``[x1, y1, s1, ...]``, when the model predicts keypoints), ``score``,
        ``box_score``, and ``segmentation`` / ``extended_box`` (xyxy) when found.

    Examples:
        >>> found = Detections(torch.tensor([[0.0, 0.0, 10.0, 20.0], [5.0, 5.0, 9.0, 9.0]]),
        ...                    torch.tensor([0.5, 0.9]), torch.tensor([[[4.0, 8.0, 0.8]],
        ...                                                          [[6.0, 6.0, 1.0]]]))
        >>> [(p["score"], p["bbox"]) for p in to_people(found)]
        [(0.8999999761581421, [5.0, 5.0, 4.0, 4.0]), (0.4000000059604645, [0.0, 0.0, 10.0, 20.0])]
    """
    if oks_nms_threshold is not None and sigmas is None:
        raise ValueError("OKS-NMS needs the OKS sigmas of the keypoint set (sigmas=...)")
    scores = found.scores(keypoint_score_threshold)
    order = torch.argsort(scores, descending=True, stable=True)
    if oks_nms_threshold is not None and found.keypoints is not None and len(scores):
        areas = found.oks_areas(oks_area)
        order = oks_nms(found.keypoints, scores, areas, oks_nms_threshold, sigmas)
    people = []
    for i in order.tolist():
        if scores[i] < score_threshold or found.box_scores[i] < box_score_threshold:
            continue
        x1, y1, x2, y2 = found.boxes[i].tolist()
        person = {"category_id": 1, "bbox": [x1, y1, x2 - x1, y2 - y1]}
        if found.keypoints is not None:
            person["keypoints"] = found.keypoints[i].flatten().tolist()
        person["score"] = float(scores[i])
        person["box_score"] = float(found.box_scores[i])
        if found.segmentations is not None:
            person["segmentation"] = found.segmentations[i]
        if found.extended_boxes is not None:
            person["extended_box"] = found.extended_boxes[i].tolist()
        people.append(person)
    return people
