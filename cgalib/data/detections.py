"""Person boxes per image for top-down models: a COCO detection-results file (the
detections-file contract), or the ground truth.

Both give the same mapping, ``{image_id: (N, 5) tensor}``, each row a continuous xyxy box
in image pixels and its score, for every image of the ground truth (an image without
people gets a `(0, 5)` tensor).

**The detections-file contract.** [`load_detections()`][load_detections] is the one reader of
a detections file (``evaluate_coco(boxes="dets.json")``, ``cgalib eval --boxes``). Like an
annotation file, each entry is checked and either kept, kept after a conversion, or dropped
for a reason, and the file's [`DetectionsReport`][DetectionsReport] counts each, with an
example entry; when anything was converted, dropped (but for ``min_score``, the caller's
own choice) or noted, the report is one [`DetectionsWarning`][DetectionsWarning] line. Nothing is
changed or left out without a word:

- **refused** (one line naming the file, and the entry when one is at fault): a file that
  is not JSON, not a list, or an empty list; an entry that is not an object or lacks a
  field; an id that is neither an integer nor one written as text; a bbox that is not 4
  finite numbers with width, height >= 0; a score that is not a finite number; scores
  outside [0, 1] (see below); a file that numbers several categories from 0; a file where
  most boxes reach past their image's edge (corners ``[x1, y1, x2, y2]`` written for
  ``[x, y, width, height]``); and a file with nothing left after the drops.
- **converted**, counted: ids written as text or as decimals (``"1"``, ``1.0``); an
  ``image_id`` given as the image's ``file_name``; bbox values and scores written as text;
  ``category_id`` 0 in a file whose only category is 0, when the ground truth has no
  category 0 (a person detector that counts classes from 0).
- **dropped**, counted: entries of another category than the person one (a detector's
  file may hold every class), of an image that is not in the ground truth (detections of
  a larger split), exact repeats of an earlier entry (results gathered from several GPUs,
  whose sampler pads with repeated images), and boxes scored below ``min_score``.
- **noted**, counted and kept: a few boxes reaching past their image's edge.

*Scores outside [0, 1] are refused, not converted.* A negative score says logits, scores
up to 100 say percentages, but the file cannot tell which scale it holds (a log-probability
is negative too), and the score of each box is multiplied into its people's scores, so a
guessed conversion would rank people silently wrong. The message says what was seen and
how to convert.
"""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, NamedTuple

import torch
from pycocotools.coco import COCO

from cgalib.utils.numbers import is_integer, is_number

__all__ = [
    "Detections",
    "DetectionsError",
    "DetectionsReport",
    "DetectionsWarning",
    "ground_truth_boxes",
    "load_detections",
]

_FIELDS = "entries need image_id, category_id, bbox [x, y, width, height] and score"
_INTEGER_TEXT = re.compile(r"[+-]?\d+")

ID_TEXT = "ids written as text or decimals"
"""Conversion: an ``image_id`` or ``category_id`` given as ``"1"`` or ``1.0``."""
FILE_NAME = "image_id given as the image's file name"
"""Conversion: an ``image_id`` that is the ``file_name`` (or its stem) of a ground-truth image."""
NUMBER_TEXT = "bbox or score written as text"
"""Conversion: bbox values or a score given as strings (``"10.5"``)."""
UNKNOWN_IMAGE = "unknown image"
"""Drop reason: the entry's image is not in the ground truth."""
DUPLICATE = "duplicate"
"""Drop reason: the entry repeats an earlier one exactly (image, category, box, score)."""
PAST_EDGE = "box past the image edge"
"""Note: a kept box that reaches past its image's edge by more than 2% of its side."""


class DetectionsError(ValueError):
    """A detections file that cannot be used; the one-line message names the file, the entry
    when one is at fault, and what to do."""


class DetectionsWarning(UserWarning):
    """The one-line [`DetectionsReport`][DetectionsReport] of a file whose entries were converted,
    dropped or noted."""


@dataclass(frozen=True)
class DetectionsReport:
    """What [`load_detections()`][load_detections] kept, converted, dropped and noted in a file.

    Each of ``converted``, ``dropped`` and ``noted`` maps a reason to ``(count, example)``,
    the example one entry in words (``"entry 3 has category_id 2"``). ``str(report)`` is a
    one-line summary.

    Args:
        source: the file.
        category_id: the person category the entries are read for.
        entries: entries in the file.
        kept: boxes kept (in the returned table).
        images: images of the ground truth.
        images_with_boxes: images that got at least one box.
        converted: conversions (the entry is kept).
        dropped: drop reasons.
        noted: kept boxes that look wrong (e.g. past the image edge).
        min_score: the ``min_score`` the file was read with.

    Example:
        >>> report = DetectionsReport("d.json", 1, entries=3, kept=2, images=2,
        ...                           images_with_boxes=1,
        ...                           dropped={"unknown image": (1, "entry 2 names image 9")})
        >>> print(report)
        d.json: 3 detections, 2 kept for 1 of 2 images; 1 dropped (unknown image: 1, e.g. entry 2 names image 9)
        >>> report.needs_warning
        True
    """

    source: str
    category_id: int
    entries: int
    kept: int
    images: int
    images_with_boxes: int
    converted: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    dropped: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    noted: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    min_score: float = 0.0

    @property
    def num_dropped(self) -> int:
        """Entries dropped, all reasons together."""
        return sum(n for n, _ in self.dropped.values())

    @property
    def needs_warning(self) -> bool:
        """Whether anything was converted, noted, or dropped for another reason than
        ``min_score`` (the caller's own threshold)."""
        dropped = [reason for reason in self.dropped if reason != _low_score(self.min_score)]
        return bool(self.converted or self.noted or dropped)

    def __str__(self) -> str:
        text = (
            f"{self.source}: {self.entries} detections, {self.kept} kept for "
            f"{self.images_with_boxes} of {self.images} images"
        )
        if self.dropped:
            text += f"; {self.num_dropped} dropped ({_describe(self.dropped)})"
        if self.converted:
            text += f"; converted: {_describe(self.converted)}"
        if self.noted:
            text += f"; kept but noted: {_describe(self.noted)}"
        return text


class Detections(dict):
    """``{image_id: (N, 5)}`` person boxes, rows ``(x1, y1, x2, y2, score)``, with the
    [`DetectionsReport`][DetectionsReport] of the file they were read from (``.report``)."""

    def __init__(self, table: Mapping[int, torch.Tensor], report: DetectionsReport) -> None:
        super().__init__(table)
        self.report = report


class _Row(NamedTuple):
    entry: int
    image_id: int
    category_id: int
    box: tuple[float, float, float, float]  # x, y, w, h
    score: float


class _Tally:
    """Counts per reason, each with its first example."""

    def __init__(self) -> None:
        self.counts: dict[str, list] = {}

    def add(self, reason: str, example: str) -> None:
        self.counts.setdefault(reason, [0, example])[0] += 1

    def frozen(self) -> dict[str, tuple[int, str]]:
        return {reason: (n, example) for reason, (n, example) in self.counts.items()}


def _describe(counts: Mapping[str, tuple[int, str]]) -> str:
    return "; ".join(f"{reason}: {n}, e.g. {example}" for reason, (n, example) in counts.items())


def _low_score(min_score: float) -> str:
    return f"score below min_score {min_score:g}"


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


def _integer(value: Any) -> tuple[int | None, bool]:
    """An id: ``(value, converted)``; ``"1"`` and ``1.0`` are converted, ``None`` if not an id."""
    if is_integer(value):
        return int(value), False
    if isinstance(value, float) and value.is_integer():
        return int(value), True
    if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
        return int(value.strip()), True
    return None, False


def _real(value: Any) -> tuple[float | None, bool]:
    """A finite number: ``(value, converted)``; ``"0.5"`` is converted, ``None`` if not one."""
    if type(value) is float:  # the common case first: called five times per entry
        return (value, False) if math.isfinite(value) else (None, False)
    converted = False
    if isinstance(value, str):
        try:
            value, converted = float(value.strip()), True
        except ValueError:
            return None, False
    if not is_number(value):
        return None, False
    try:
        value = float(value)
    except OverflowError:  # an integer too large for a float
        return None, False
    return (value, converted) if math.isfinite(value) else (None, False)


def _table(rows: dict[int, list[list[float]]], image_ids: Iterable[int]) -> dict[int, torch.Tensor]:
    return {
        int(i): torch.tensor(rows.get(int(i), []), dtype=torch.float32).reshape(-1, 5)
        for i in image_ids
    }


def _read_entries(path: Path) -> list:
    if not path.is_file():
        raise FileNotFoundError(f"detections file not found: {path}")
    try:
        entries = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
        raise DetectionsError(f"detections file {path} is not valid JSON: {err}") from None
    if not isinstance(entries, list):
        raise DetectionsError(
            f"detections file {path} must hold a JSON list of detections ({_FIELDS}), "
            f"got {type(entries).__name__}"
        )
    if not entries:
        raise DetectionsError(
            f"detections file {path} holds no detections (an empty list); run the detector "
            "again, or give boxes='gt' to evaluate on the ground-truth boxes"
        )
    return entries


class _Images:
    """The ground truth's images: ids, and where known file names and sizes."""

    def __init__(self, image_ids: Iterable[int] | COCO) -> None:
        self.names: dict[str, int] = {}
        self.stems: dict[str, int] = {}
        self.sizes: dict[int, tuple[float, float]] = {}
        self.categories: set | None = None
        if isinstance(image_ids, COCO):
            self.ids = sorted(image_ids.getImgIds())
            self.categories = set(image_ids.cats)
            for i, info in image_ids.imgs.items():
                name = info.get("file_name")
                if isinstance(name, str) and name:
                    self.names.setdefault(name, i)
                    self.names.setdefault(PurePath(name).name, i)
                    self.stems.setdefault(PurePath(name).stem, i)
                w, h = info.get("width"), info.get("height")
                if is_number(w) and is_number(h) and w > 0 and h > 0:
                    self.sizes[i] = (float(w), float(h))
        else:
            self.ids = sorted(image_ids)
        self.known = set(self.ids)

    def resolve(self, value: Any) -> tuple[int | None, str | None]:
        """``(image id, conversion)`` of an entry's ``image_id``; ``(None, None)`` if it is none."""
        if isinstance(value, str) and value in self.names:
            return self.names[value], FILE_NAME
        image_id, converted = _integer(value)
        if image_id is not None:
            return image_id, ID_TEXT if converted else None
        if isinstance(value, str) and value in self.stems:
            return self.stems[value], FILE_NAME
        return None, None


def _parse(entries: list, path: Path, images: _Images, converted: _Tally) -> list[_Row]:
    """Every entry as a row (conversions counted), or the first malformed one refused."""
    rows = []
    for i, entry in enumerate(entries):
        where = f"detections file {path}, entry {i}"
        if not isinstance(entry, dict):
            raise DetectionsError(f"{where} is a {type(entry).__name__}, not an object; {_FIELDS}")
        missing = [k for k in ("image_id", "category_id", "bbox", "score") if k not in entry]
        if missing:
            raise DetectionsError(f"{where} has no {missing[0]!r}; {_FIELDS}")
        image_id, how = images.resolve(entry["image_id"])
        if image_id is None:
            names = " or the file name of an image" if images.names else ""
            raise DetectionsError(
                f"{where} has image_id {entry['image_id']!r}, expected an integer id{names}"
            )
        if how is not None:
            converted.add(how, f"entry {i} has image_id {entry['image_id']!r}")
        category_id, text = _integer(entry["category_id"])
        if category_id is None:
            raise DetectionsError(
                f"{where} (image {image_id}) has category_id {entry['category_id']!r}, "
                "expected an integer id"
            )
        if text:
            converted.add(ID_TEXT, f"entry {i} has category_id {entry['category_id']!r}")
        bbox = entry["bbox"]
        values = [_real(v) for v in bbox] if isinstance(bbox, (list, tuple)) else []
        box = tuple(v for v, _ in values)
        if len(box) != 4 or None in box or box[2] < 0 or box[3] < 0:
            raise DetectionsError(
                f"{where} (image {image_id}) has bbox {bbox!r}; expected [x, y, width, height], "
                "4 finite numbers with width, height >= 0"
            )
        score, score_text = _real(entry["score"])
        if score is None:
            raise DetectionsError(
                f"{where} (image {image_id}) has score {entry['score']!r}, expected a finite number"
            )
        if score_text or any(text for _, text in values):
            shown = "score" if score_text else "bbox"
            converted.add(NUMBER_TEXT, f"entry {i} has {shown} {entry[shown]!r}")
        rows.append(_Row(i, image_id, category_id, box, score))
    return rows


def _zero_based(
    rows: list[_Row], path: Path, category_id: int, images: _Images, converted: _Tally
) -> list[_Row]:
    """Read category 0 as ``category_id`` in a file whose only category is 0 (a detector
    counting classes from 0); refuse a file that numbers several categories from 0."""
    counts = Counter(r.category_id for r in rows)
    if 0 not in counts or category_id == 0 or (images.categories and 0 in images.categories):
        return rows
    if len(counts) > 1:
        seen = ", ".join(f"category_id {c}: {n}" for c, n in sorted(counts.items())[:4])
        more = ", ..." if len(counts) > 4 else ""
        raise DetectionsError(
            f"detections file {path} counts categories from 0 ({seen}{more} entries), so its "
            f"category_id {category_id} is not necessarily the ground truth's category "
            f"{category_id}; keep only the person detections and give them category_id "
            f"{category_id}"
        )
    reason = f"category_id 0 read as {category_id} (a detector counting classes from 0)"
    for r in rows:
        converted.add(reason, f"entry {r.entry}")
    return [r._replace(category_id=category_id) for r in rows]


def _check_scores(rows: list[_Row], path: Path) -> None:
    """Refuse scores outside [0, 1], saying what was seen and how to convert."""
    lo = min(rows, key=lambda r: r.score)
    hi = max(rows, key=lambda r: r.score)
    if lo.score >= 0 and hi.score <= 1:
        return
    seen = f"scores outside [0, 1], from {lo.score:g} to {hi.score:g}"
    if lo.score < 0:
        n = sum(r.score < 0 for r in rows)
        todo = (
            f"{n} negative, e.g. entry {lo.entry}): logits? give probabilities, "
            "1 / (1 + exp(-score))"
        )
    else:
        n = sum(r.score > 1 for r in rows)
        todo = f"{n} above 1, e.g. entry {hi.entry}): " + (
            "percentages? divide them by 100" if hi.score <= 100 else "scale them into [0, 1]"
        )
    raise DetectionsError(
        f"detections file {path} has {seen} ({todo}); each box's score is multiplied into its "
        "people's scores, so it must be a probability"
    )


def _past_edge(row: _Row, images: _Images) -> bool:
    size = images.sizes.get(row.image_id)
    if size is None:
        return False
    x, y, w, h = row.box
    tol_x, tol_y = 0.02 * size[0] + 1, 0.02 * size[1] + 1
    return x < -tol_x or y < -tol_y or x + w > size[0] + tol_x or y + h > size[1] + tol_y


def _check_edges(rows: list[_Row], path: Path, images: _Images, noted: _Tally) -> None:
    """Note boxes past their image's edge; refuse a file where most are (corner boxes)."""
    past = [r for r in rows if _past_edge(r, images)]
    if not past:
        return
    first = past[0]
    w, h = images.sizes[first.image_id]
    box = ", ".join(f"{v:g}" for v in first.box)
    example = f"entry {first.entry} has bbox [{box}] in image {first.image_id}, {w:g} x {h:g}"
    if len(past) >= 3 and len(past) > len(rows) / 2:
        raise DetectionsError(
            f"detections file {path}: {len(past)} of {len(rows)} boxes reach past the image "
            f"edge (e.g. {example}); are they [x1, y1, x2, y2]? COCO detections are [x, y, "
            "width, height]: width = x2 - x1, height = y2 - y1"
        )
    for _ in past:
        noted.add(PAST_EDGE, example)


def load_detections(
    path: str | os.PathLike,
    image_ids: Iterable[int] | COCO,
    category_id: int = 1,
    min_score: float = 0.0,
) -> Detections:
    """Read person boxes from a COCO detection-results JSON, checking every entry.

    The file is the standard results list, ``[{"image_id", "category_id", "bbox": [x, y,
    w, h], "score"}, ...]`` (like the detections the paper's top-down rows used). Each
    entry is kept, converted, dropped or refused as the module notes list, and counted in
    the returned table's ``report``; when anything was converted, dropped (but for
    ``min_score``) or noted, the report is issued as one [`DetectionsWarning`][DetectionsWarning].

    Args:
        path: the JSON file.
        image_ids: the images of the ground truth, or its ``COCO`` index (which also gives
            the images' file names and sizes, for ``image_id`` given as file names and for
            boxes past the image edge).
        category_id: the person category.
        min_score: drop boxes scored below this (counted, not warned).

    Returns:
        [`Detections`][Detections]: ``{image_id: (N, 5)}``, rows ``(x1, y1, x2, y2, score)``
        sorted by descending score, for every image of ``image_ids``, with ``.report``.

    Raises:
        FileNotFoundError: if the file does not exist.
        DetectionsError: (a ``ValueError``) one line naming the file (and the entry): see
            the module notes (not JSON, not a list, empty, a malformed entry, scores
            outside [0, 1], categories counted from 0, corner boxes, nothing left).

    Warns:
        DetectionsWarning: the report, when entries were converted, dropped or noted.

    Examples:
        >>> import json, tempfile, pathlib
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = pathlib.Path(d) / "dets.json"
        ...     _ = p.write_text(json.dumps([{"image_id": 7, "category_id": 1,
        ...                                   "bbox": [10, 20, 30, 40], "score": 0.9}]))
        ...     dets = load_detections(p, [7, 8])
        >>> dets[7].tolist(), dets[8].shape
        ([[10.0, 20.0, 40.0, 60.0, 0.8999999761581421]], torch.Size([0, 5]))
        >>> dets.report.kept, dets.report.entries
        (1, 1)
    """
    path = Path(path)
    entries = _read_entries(path)
    images = _Images(image_ids)
    converted, dropped, noted = _Tally(), _Tally(), _Tally()
    rows = _zero_based(
        _parse(entries, path, images, converted), path, category_id, images, converted
    )
    kept: list[_Row] = []
    seen: dict[tuple, int] = {}
    for r in rows:
        if r.image_id not in images.known:
            dropped.add(
                UNKNOWN_IMAGE,
                f"entry {r.entry} names image {r.image_id}, which is not in the ground truth",
            )
        elif r.category_id != category_id:
            dropped.add(
                f"another category than {category_id}",
                f"entry {r.entry} has category_id {r.category_id}",
            )
        elif (r.image_id, r.category_id, r.box, r.score) in seen:
            first = seen[(r.image_id, r.category_id, r.box, r.score)]
            dropped.add(DUPLICATE, f"entry {r.entry} repeats entry {first}")
        else:
            seen[(r.image_id, r.category_id, r.box, r.score)] = r.entry
            kept.append(r)
    if kept:
        _check_scores(kept, path)
        for r in kept:
            if r.score < min_score:
                dropped.add(_low_score(min_score), f"entry {r.entry} scores {r.score:g}")
        kept = [r for r in kept if r.score >= min_score]
    if not kept:
        reasons = dropped.frozen()
        hint = ""
        if UNKNOWN_IMAGE in reasons:
            hint = "; detections of another split?"
        elif not any(reason.startswith("score below") for reason in reasons):
            hint = f"; every person box needs category_id {category_id}"
        raise DetectionsError(
            f"nothing is left of detections file {path}: its {len(entries)} entries are all "
            f"dropped ({_describe(reasons)}){hint}"
        )
    _check_edges(kept, path, images, noted)
    table: dict[int, list[list[float]]] = {}
    for r in sorted(kept, key=lambda r: -r.score):
        x, y, w, h = r.box
        table.setdefault(r.image_id, []).append([x, y, x + w, y + h, r.score])
    report = DetectionsReport(
        str(path),
        category_id,
        entries=len(entries),
        kept=len(kept),
        images=len(images.ids),
        images_with_boxes=len(table),
        converted=converted.frozen(),
        dropped=dropped.frozen(),
        noted=noted.frozen(),
        min_score=min_score,
    )
    if report.needs_warning:
        warnings.warn(str(report), DetectionsWarning, stacklevel=2)
    return Detections(_table(table, images.ids), report)


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
