"""Person boxes per image for top-down models: a COCO detection-results file, or the ground truth.

Both give the same mapping, ``{image_id: (N, 5) tensor}``, each row a continuous xyxy box
in image pixels and its score, for every image of the ground truth (an image without
people gets a `(0, 5)` tensor).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path

import torch
from pycocotools.coco import COCO

__all__ = ["ground_truth_boxes", "load_detections"]

_FIELDS = "entries need image_id, category_id, bbox [x, y, width, height] and score"


def _xyxy(bbox: object) -> list[float] | None:
    """``[x, y, w, h]`` as continuous xyxy, or ``None`` if it is not 4 finite numbers, w, h >= 0."""
    if not isinstance(bbox, (list, tuple)) or len(bbox) != 4:
        return None
    try:
        x, y, w, h = (float(v) for v in bbox)
    except (TypeError, ValueError):
        return None
    if not all(math.isfinite(v) for v in (x, y, w, h)) or w < 0 or h < 0:
        return None
    return [x, y, x + w, y + h]


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _table(rows: dict[int, list[list[float]]], image_ids: Iterable[int]) -> dict[int, torch.Tensor]:
    return {
        int(i): torch.tensor(rows.get(int(i), []), dtype=torch.float32).reshape(-1, 5)
        for i in image_ids
    }


def load_detections(
    path: str | os.PathLike,
    image_ids: Iterable[int] | COCO,
    category_id: int = 1,
    min_score: float = 0.0,
) -> dict[int, torch.Tensor]:
    """Read person boxes from a COCO detection-results JSON, checking every entry.

    The file is the standard results list, ``[{"image_id", "category_id", "bbox": [x, y,
    w, h], "score"}, ...]`` (like the detections the paper's top-down rows used). Entries of
    other categories are skipped (a detector's file may hold all classes), as are boxes
    scored below ``min_score``.

    Args:
        path: the JSON file.
        image_ids: the images of the ground truth (or its ``COCO`` index); every entry must
            name one of them.
        category_id: the person category.
        min_score: drop boxes scored below this.

    Returns:
        ``{image_id: (N, 5)}``, rows ``(x1, y1, x2, y2, score)`` sorted by descending score,
        for every image of ``image_ids``.

    Raises:
        FileNotFoundError: if the file does not exist.
        ValueError: naming the file and the entry: for a file that is not a JSON list, an
            entry that is not an object or lacks a field, a bbox that is not 4 finite
            numbers with non-negative width and height, a score that is not a finite
            number, or an image id that is not in the ground truth.

    Examples:
        >>> import json, tempfile, pathlib
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = pathlib.Path(d) / "dets.json"
        ...     _ = p.write_text(json.dumps([{"image_id": 7, "category_id": 1,
        ...                                   "bbox": [10, 20, 30, 40], "score": 0.9}]))
        ...     dets = load_detections(p, [7, 8])
        >>> dets[7].tolist(), dets[8].shape
        ([[10.0, 20.0, 40.0, 60.0, 0.8999999761581421]], torch.Size([0, 5]))
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"detections file not found: {path}")
    try:
        entries = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"detections file {path} is not valid JSON: {err}") from err
    if not isinstance(entries, list):
        raise ValueError(
            f"detections file {path} must hold a JSON list of detections ({_FIELDS}), "
            f"got {type(entries).__name__}"
        )
    known = set(image_ids.getImgIds() if isinstance(image_ids, COCO) else image_ids)
    rows: dict[int, list[list[float]]] = {}
    for i, entry in enumerate(entries):
        where = f"detections file {path}, entry {i}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where} is a {type(entry).__name__}, not an object; {_FIELDS}")
        missing = [k for k in ("image_id", "category_id", "bbox", "score") if k not in entry]
        if missing:
            raise ValueError(f"{where} has no {missing[0]!r}; {_FIELDS}")
        image_id = entry["image_id"]
        if isinstance(image_id, bool) or not isinstance(image_id, int):
            raise ValueError(f"{where} has image_id {image_id!r}, expected an integer id")
        if image_id not in known:
            raise ValueError(
                f"{where} names image {image_id}, which is not in the ground truth "
                "(detections of another split?)"
            )
        if entry["category_id"] != category_id:
            continue
        box = _xyxy(entry["bbox"])
        if box is None:
            raise ValueError(
                f"{where} (image {image_id}) has bbox {entry['bbox']!r}; expected [x, y, "
                "width, height], 4 finite numbers with width, height >= 0"
            )
        score = _number(entry["score"])
        if score is None:
            raise ValueError(
                f"{where} (image {image_id}) has score {entry['score']!r}, expected a finite number"
            )
        if score >= min_score:
            rows.setdefault(image_id, []).append([*box, score])
    for boxes in rows.values():
        boxes.sort(key=lambda r: -r[4])
    return _table(rows, sorted(known))


def ground_truth_boxes(
    coco: COCO, category_id: int = 1, min_keypoints: int = 1
) -> dict[int, torch.Tensor]:
    """The ground-truth person boxes of every image, each scored 1.0.

    Crowd regions are left out, as are people with fewer than ``min_keypoints`` labelled
    keypoints: COCO's keypoint evaluation ignores people without keypoints (the
    SimpleBaseline/HRNet convention for evaluating on ground-truth boxes).

    Args:
        coco: the ground truth (a pycocotools ``COCO``).
        category_id: the person category.
        min_keypoints: the fewest labelled keypoints a person needs (0 keeps all).

    Returns:
        ``{image_id: (N, 5)}``, rows ``(x1, y1, x2, y2, 1.0)``.

    Raises:
        ValueError: for an annotation whose bbox is not 4 finite numbers with non-negative
            width and height (naming its id).
    """
    rows: dict[int, list[list[float]]] = {}
    for ann in coco.dataset.get("annotations", []):
        if ann.get("category_id") != category_id or ann.get("iscrowd", 0):
            continue
        labelled = sum(v > 0 for v in (ann.get("keypoints") or [])[2::3])
        if labelled < min_keypoints:
            continue
        box = _xyxy(ann.get("bbox"))
        if box is None:
            raise ValueError(
                f"annotation {ann.get('id')} (image {ann.get('image_id')}) has bbox "
                f"{ann.get('bbox')!r}; expected [x, y, width, height] with width, height >= 0"
            )
        rows.setdefault(int(ann["image_id"]), []).append([*box, 1.0])
    return _table(rows, sorted(coco.getImgIds()))
