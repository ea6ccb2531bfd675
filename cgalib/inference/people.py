"""People as predictions return them: one COCO-style dict per person, built in one place.

Whatever found them (a bottom-up model in the whole image, a top-down model in given
boxes), the people of an image arrive here as [`Detections`][Detections] in image pixels, and
[`to_people()`][to_people] applies the one score rule, sorts, filters and writes the dicts:

- ``score`` = the box score times the mean keypoint probability (the box score alone for a
  model without keypoints), in [0, 1];
- people are sorted by ``score``, highest first; with an OKS-NMS threshold a pose whose
  OKS to a higher-scored one exceeds it is dropped; people scored below the thresholds
  are dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from cgalib.postprocess.oks_nms import oks_nms

__all__ = ["Detections", "to_people"]


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
    """

    boxes: torch.Tensor
    box_scores: torch.Tensor
    keypoints: torch.Tensor | None = None
    extended_boxes: torch.Tensor | None = None
    segmentations: Sequence[dict] | None = None

    @classmethod
    def empty(cls, num_keypoints: int) -> Detections:
        """No people (``num_keypoints`` 0: a model without keypoints)."""
        keypoints = torch.zeros(0, num_keypoints, 3) if num_keypoints else None
        return cls(torch.zeros(0, 4), torch.zeros(0), keypoints)

    def scores(self) -> torch.Tensor:
        """`(N,)` person scores: box score times mean keypoint probability (the box score
        alone without keypoints)."""
        if self.keypoints is None or self.keypoints.shape[1] == 0:
            return self.box_scores
        return self.box_scores * self.keypoints[..., 2].mean(-1)


def to_people(
    found: Detections,
    score_threshold: float = 0.0,
    box_score_threshold: float = 0.0,
    oks_nms_threshold: float | None = None,
    sigmas: Sequence[float] | None = None,
) -> list[dict]:
    """The people of one image as COCO-style dicts, sorted by ``score``.

    Args:
        found: what the model found in the image.
        score_threshold: people with a lower ``score`` are dropped.
        box_score_threshold: people with a lower ``box_score`` are dropped.
        oks_nms_threshold: with a value, OKS-NMS drops a pose whose OKS (with ``sigmas``)
            to a higher-scored one exceeds it; ``None`` keeps every pose.
        sigmas: the OKS sigmas of the keypoint set (needed for OKS-NMS).

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
    scores = found.scores()
    order = torch.argsort(scores, descending=True)
    if oks_nms_threshold is not None and found.keypoints is not None and len(scores):
        b = found.boxes
        areas = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
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
