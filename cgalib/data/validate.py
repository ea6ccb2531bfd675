"""One check of a COCO keypoint annotation set, shared by training and evaluation.

[`validate_coco()`][validate_coco] reads the file once and returns the pycocotools index with an
[`AnnotationReport`][AnnotationReport] (images, people, people kept and labelled, people dropped by
reason, crowd regions), or raises one [`AnnotationError`][AnnotationError] naming the file, the
annotation id and what to do. [`CocoKeypoints`][cgalib.data.CocoKeypoints] and every ground truth of
[`cgalib.eval`][cgalib.eval] go through it, so a file is accepted, and a person dropped, the same way
in both.

Annotation files are read in one place, [`read_coco_json()`][read_coco_json] (a one-line error for a
missing file, a file that is not JSON and one that is not a JSON object).
[`coco_dataset()`][coco_dataset] gives the dataset of a file (read by it), a parsed dict or a
``COCO`` object, with the name messages use, to [`validate_coco()`][validate_coco] and
[`cgalib.eval.load_coco()`][cgalib.eval.load_coco] alike.

The people are the annotations of the *keypoint categories*: the category named
``"person"`` by default (COCO), or the categories chosen with ``categories`` (any
keypoint category, e.g. an animal set's species, which must share one ``keypoints``
list and are read as one class). The category's ``keypoints`` list gives `K`.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from pycocotools.coco import COCO

from cgalib.utils.keypoint_set import KeypointSet, KeypointSetError
from cgalib.utils.numbers import is_integer, is_number, number_rows

__all__ = [
    "DROP_REASONS",
    "FEW_KEYPOINTS",
    "NO_BOX",
    "OFF_IMAGE",
    "ZERO_AREA",
    "AnnotationError",
    "AnnotationReport",
    "check_coco",
    "Categories",
    "check_image_files",
    "coco_dataset",
    "read_coco_json",
    "read_keypoint_set",
    "validate_coco",
]

NO_BOX = "no box"
"""Drop reason: a person annotation without ``bbox`` (missing, ``null`` or ``[]``)."""
ZERO_AREA = "zero-area box"
"""Drop reason: a person box of zero width or height."""
OFF_IMAGE = "box outside the image"
"""Drop reason: a person box that lies entirely outside its image (``width``/``height``)."""
FEW_KEYPOINTS = "too few labelled keypoints"
"""Drop reason: fewer labelled keypoints (``v > 0``) than the loader's ``min_keypoints``."""
DROP_REASONS: tuple[str, ...] = (NO_BOX, ZERO_AREA, OFF_IMAGE, FEW_KEYPOINTS)
"""Why a person is dropped, in the order they are tested (a person gets the first that applies)."""

_PERSON = "person"
_ALL = "*"

Categories = str | Sequence[str | int] | None
"""Which categories hold the people: ``None`` for the one named ``"person"``, ``"*"`` for
every category with a ``keypoints`` list, or a list of category names or ids (they must
share one ``keypoints`` list)."""


class AnnotationError(ValueError):
    """A COCO annotation set that cannot be used; the one-line message names the file, the
    annotation (or image) id and what to do."""


@dataclass(frozen=True)
class AnnotationReport:
    """What a COCO keypoint annotation set holds, and which people are dropped.

    "People" are the non-crowd annotations of the keypoint categories (the person
    category unless others were chosen); each is either kept
    (a training target, a ground truth in evaluation) or dropped for one of
    [`DROP_REASONS`][DROP_REASONS]. ``str(report)`` is a one-line summary.

    Args:
        source: the file (or ``"the dataset dict"``).
        category_id: the (first) keypoint category's id.
        num_keypoints: `K`, the length of the keypoint categories' ``keypoints`` names (0
            if they have none).
        images: entries of ``images``.
        images_with_people: images with at least one kept person.
        people: non-crowd person annotations.
        labelled: kept people with at least one labelled keypoint (``v > 0``).
        crowd: crowd regions (``iscrowd=1`` person annotations).
        other: annotations of other categories (not read).
        dropped: ``{reason: ids of the dropped annotations}`` for each reason that applies.
        min_keypoints: the loader's ``min_keypoints`` the report was made with.
        notes: conversions made by the reader (e.g. renumbered ids in evaluation).
        category_ids: the ids of every keypoint category (default ``(category_id,)``).
        category_names: their names (default ``("person",)``).

    Example:
        >>> report = AnnotationReport("a.json", 1, 17, images=2, images_with_people=1,
        ...                           people=3, labelled=1, crowd=0, other=0,
        ...                           dropped={ZERO_AREA: (7,)})
        >>> report.kept, report.dropped_ids
        (2, frozenset({7}))
        >>> print(report)
        a.json: 2 images (1 with people), 3 people: 2 kept (1 with labelled keypoints), 1 dropped (zero-area box: 1, e.g. annotation 7)
    """

    source: str
    category_id: int
    num_keypoints: int
    images: int
    images_with_people: int
    people: int
    labelled: int
    crowd: int
    other: int
    dropped: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    min_keypoints: int = 0
    notes: tuple[str, ...] = ()
    category_ids: tuple[int, ...] = ()
    category_names: tuple[str, ...] = (_PERSON,)

    def __post_init__(self) -> None:
        if not self.category_ids:
            object.__setattr__(self, "category_ids", (self.category_id,))

    def describe_categories(self) -> str:
        """The keypoint categories for messages: ``"'person' (id 1)"``, or
        ``"'cat', 'dog' (ids 1, 2)"``."""
        names = ", ".join(repr(n) for n in self.category_names)
        if len(self.category_ids) == 1:
            return f"{names} (id {self.category_ids[0]})"
        return f"{names} (ids {', '.join(str(i) for i in self.category_ids)})"

    @property
    def num_dropped(self) -> int:
        """People dropped, all reasons together."""
        return sum(len(ids) for ids in self.dropped.values())

    @property
    def kept(self) -> int:
        """People kept (``people - num_dropped``)."""
        return self.people - self.num_dropped

    @cached_property
    def dropped_ids(self) -> frozenset[int]:
        """The annotation ids of the dropped people."""
        return frozenset(i for ids in self.dropped.values() for i in ids)

    def describe_dropped(self) -> str:
        """The drop reasons with counts and an example id, e.g.
        ``"zero-area box: 3, e.g. annotation 17"``; empty when nobody is dropped."""
        parts = []
        for reason, ids in self.dropped.items():
            name = reason
            if reason == FEW_KEYPOINTS:
                name = f"fewer than {self.min_keypoints} labelled keypoints"
            parts.append(f"{name}: {len(ids)}, e.g. annotation {ids[0]}")
        return "; ".join(parts)

    def __str__(self) -> str:
        text = (
            f"{self.source}: {self.images} images ({self.images_with_people} with people), "
            f"{self.people} people: {self.kept} kept ({self.labelled} with labelled keypoints)"
        )
        if self.num_dropped:
            text += f", {self.num_dropped} dropped ({self.describe_dropped()})"
        if self.crowd:
            text += f"; {self.crowd} crowd regions"
        if self.other:
            text += (
                f"; {self.other} annotations of other categories than "
                f"{self.describe_categories()}, not read"
            )
        return "".join([text, *(f"; {note}" for note in self.notes)])

    def check_for_training(self, max_dropped: float = 0.2) -> str | None:
        """Refuse a set with nothing to learn from; a warning when many people are dropped.

        Args:
            max_dropped: the share of dropped people above which a warning is returned.

        Returns:
            A one-line warning naming the reasons when more than ``max_dropped`` of the
            people are dropped, else ``None``.

        Raises:
            AnnotationError: when no kept person has a labelled keypoint (training would
                run to the end on empty targets).
        """
        if self.labelled == 0:
            ids = " or ".join(str(i) for i in self.category_ids)
            names = ", ".join(repr(n) for n in self.category_names)
            raise AnnotationError(
                f"nothing to train on: {self}; every person needs category_id {ids} "
                f"({names}), a box inside its image and a keypoint with v > 0"
            )
        if self.people and self.num_dropped / self.people > max_dropped:
            return (
                f"{self.source}: {self.num_dropped} of {self.people} people "
                f"({self.num_dropped / self.people:.0%}) are dropped ({self.describe_dropped()}); "
                "training goes on with the others"
            )
        return None


def read_coco_json(path: str | os.PathLike) -> dict:
    """Read a COCO annotation file into its dict.

    The one reader of annotation files: [`coco_dataset()`][coco_dataset] (and so
    [`validate_coco()`][validate_coco] and [`cgalib.eval.load_coco()`][cgalib.eval.load_coco]) and
    [`synthetic_summary()`][cgalib.data.synthetic_summary] read through it. Nothing is checked
    beyond the JSON object (see [`check_coco()`][check_coco]).

    Args:
        path: the JSON file.

    Returns:
        The parsed JSON object.

    Raises:
        FileNotFoundError: if ``path`` is not a file.
        AnnotationError: if it is not JSON or not a JSON object (naming the file and, for a
            syntax error, the line and column).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"annotation file not found: {path}")
    try:
        data = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise AnnotationError(f"annotation file {path} is not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise AnnotationError(
            f"annotation file {path} must hold a JSON object with 'images', 'annotations' "
            f"and 'categories', got a {type(data).__name__}"
        )
    return data


def coco_dataset(
    source: str | os.PathLike | Mapping[str, Any] | COCO,
) -> tuple[Mapping[str, Any], str]:
    """The parsed annotation set of a file, a dict or a ``COCO`` object, and its name for
    messages.

    A file is read by [`read_coco_json()`][read_coco_json], the one reader of annotation files; a
    dict is taken as it is, a ``COCO`` object gives its ``dataset``. Nothing is checked
    (see [`check_coco()`][check_coco]).

    Args:
        source: a ``person_keypoints_*.json`` file, its parsed dict or a ``COCO`` object.

    Returns:
        ``(data, name)``: the dataset, and the file's path, ``"the dataset dict"`` or
        ``"the COCO object's dataset"``.

    Raises:
        FileNotFoundError: if the file does not exist.
        AnnotationError: if it is not JSON or not a JSON object.

    Example:
        >>> coco_dataset({"images": []})
        ({'images': []}, 'the dataset dict')
    """
    if isinstance(source, COCO):
        return source.dataset, "the COCO object's dataset"
    if isinstance(source, Mapping):
        return source, "the dataset dict"
    return read_coco_json(source), str(source)


def check_coco(
    data: Mapping[str, Any],
    source: str = "the dataset dict",
    min_keypoints: int = 0,
    require_annotations: bool = True,
    categories: Categories = None,
) -> AnnotationReport:
    """Check a parsed COCO keypoint set; its report, or one error for the first problem.

    **Errors** ([`AnnotationError`][AnnotationError], naming ``source`` and the annotation or image id):
    a missing or non-list ``images``, ``annotations`` (unless ``require_annotations`` is
    false) or ``categories``; no images; an image without an integer ``id``, a repeated
    image id, a non-positive ``width``/``height``, a ``file_name`` that is not a string;
    category ids that are not integers or repeat, no category named ``"person"`` or more
    than one (without ``categories``), a chosen category that is not in the file, chosen
    categories with different ``keypoints`` lists; an annotation without an integer ``id``, a repeated annotation id (ids of 0 or
    below are fine: evaluation renumbers them), an ``image_id`` that is not an image
    (orphan), a ``category_id`` that is not a category; for person annotations: an
    ``iscrowd`` other than 0/1, a ``bbox`` that is not 4 finite numbers or has a negative
    width or height, a crowd region without a box, a ``keypoints`` list whose length is
    not `3K` (`K` the keypoint category's keypoint names) or that holds a non-number, NaN or
    infinity, an ``area`` that is not a finite number >= 0.

    **Dropped with a count** (people only, the first reason that applies, see
    [`DROP_REASONS`][DROP_REASONS]): no box; a zero-area box; a box entirely outside its image (left
    of or above it always; right of or below it when the image has ``width`` and
    ``height``, as COCO's images do); fewer than ``min_keypoints`` labelled keypoints
    (``v > 0``). Training does not use these people and evaluation leaves them
    out of the ground truth. People without keypoints but with a box are kept (detection
    targets; keypoint AP ignores them, as pycocotools does). Crowd regions and annotations
    of other categories are counted, never dropped.

    Args:
        data: the parsed JSON (``images``, ``annotations``, ``categories``).
        source: how messages name the set, normally its file.
        min_keypoints: drop people with fewer labelled keypoints (0 keeps all).
        require_annotations: refuse a set without an ``annotations`` list (an image-info
            file such as COCO's test-dev one has none; prediction accepts it).
        categories: the keypoint categories (see [`Categories`][Categories]; default the one
            named ``"person"``).

    Returns:
        The [`AnnotationReport`][AnnotationReport].

    Raises:
        AnnotationError: for the first problem found.

    Example:
        >>> person = {"id": 1, "name": "person", "keypoints": ["nose"]}
        >>> ann = {"id": 0, "image_id": 1, "category_id": 1, "bbox": [5, 5, 0, 9],
        ...        "keypoints": [7, 7, 2]}
        >>> data = {"images": [{"id": 1, "width": 50, "height": 50}],
        ...         "categories": [person], "annotations": [ann]}
        >>> check_coco(data).dropped
        {'zero-area box': (0,)}
        >>> ann["keypoints"] = [7, 7]
        >>> check_coco(data, "a.json")
        Traceback (most recent call last):
        ...
        cgalib.data.validate.AnnotationError: a.json: annotation 0 has 2 keypoint values, expected 3 ...
    """
    _check_lists(data, source, require_annotations)
    sizes = _check_images(data["images"], source)
    category_ids, chosen = _check_categories(data["categories"], source, categories)
    kind = {c["id"]: c.get("name") for c in chosen}  # the keypoint categories' names
    k = len(chosen[0].get("keypoints") or [])
    people, other = _read_people(data.get("annotations", []), source, sizes, category_ids, kind)
    has_box, box_of, kp_of = _check_lengths(people, source, kind, k)
    boxes, labelled = _check_numbers(people, source, box_of, kp_of, k)
    crowd = np.asarray(people.crowd, dtype=bool).reshape(len(people.ids))
    reason = _drop_reasons(people, sizes, has_box, box_of, boxes, labelled < min_keypoints)
    reason[crowd] = -1  # crowd regions are never dropped
    kept = (reason < 0) & ~crowd
    return AnnotationReport(
        source=source,
        category_id=int(chosen[0]["id"]),
        num_keypoints=k,
        images=len(sizes),
        images_with_people=len({people.image_ids[i] for i in np.flatnonzero(kept)}),
        people=int((~crowd).sum()),
        labelled=int((kept & (labelled > 0)).sum()),
        crowd=int(crowd.sum()),
        other=other,
        dropped=_dropped_by_reason(people.ids, reason),
        min_keypoints=min_keypoints,
        category_ids=tuple(int(i) for i in kind),
        category_names=tuple(str(n) for n in kind.values()),
    )


class _People(NamedTuple):
    """The person annotations of a set (crowd regions included), one list per field, in the
    order of the file; the fields are as read, unchecked."""

    ids: list[Any]
    image_ids: list[Any]
    crowd: list[Any]
    boxes: list[Any]
    keypoints: list[Any]
    areas: list[Any]
    categories: list[Any]


def _annotation_error(
    source: str, ann_id: Any, problem: str, fix: str = "fix or remove the annotation"
) -> AnnotationError:
    """The one-line error for a problem of one annotation."""
    return AnnotationError(f"{source}: annotation {ann_id} {problem}; {fix}")


def _check_lists(data: Mapping[str, Any], source: str, require_annotations: bool) -> None:
    """Errors for a missing or non-list ``images``, ``annotations`` or ``categories``."""
    required = ("images", "annotations", "categories")
    lists = required if require_annotations else ("images", "categories")
    for key in required:
        if not isinstance(data.get(key), list) and (key in data or key in lists):
            raise AnnotationError(
                f"{source} has no {key!r} list (keys: {sorted(data)}); a COCO keypoint file "
                "has 'images', 'annotations' and 'categories' lists"
            )


def _read_people(
    annotations: list,
    source: str,
    sizes: Mapping[Any, tuple[float, float]],
    category_ids: set,
    kind: Mapping[Any, Any],
) -> tuple[_People, int]:
    """The people of the keypoint categories ``kind``, and the count of other annotations.

    One lean pass over every annotation: errors for an entry that is not an object, an id
    that is not an integer or repeats, an ``image_id`` not in ``sizes``, a ``category_id``
    not in ``category_ids``, and a person's ``iscrowd`` other than 0/1. The other fields
    are checked by `_check_lengths()` and `_check_numbers()`.
    """
    seen: dict[Any, int] = {}
    other = 0
    people: list[tuple] = []  # (id, image_id, iscrowd, bbox, keypoints, area, category)
    for j, ann in enumerate(annotations):
        if type(ann) is not dict and not isinstance(ann, dict):
            raise _annotation_error(
                source, f"at index {j}", f"is a {type(ann).__name__}, not an object"
            )
        ann_id = ann.get("id")
        if not is_integer(ann_id):
            raise _annotation_error(
                source, f"at index {j}", f"has id {ann_id!r}", "give every annotation an integer id"
            )
        if ann_id in seen:
            raise _annotation_error(
                source,
                ann_id,
                f"is listed twice (at index {seen[ann_id]} and {j})",
                "give every annotation its own id",
            )
        seen[ann_id] = j
        image_id = ann.get("image_id")
        if not is_integer(image_id) or image_id not in sizes:
            raise _annotation_error(
                source, ann_id, f"has image_id {image_id!r}, which is not in 'images'"
            )
        category = ann.get("category_id")
        if category not in kind:
            if not is_integer(category) or category not in category_ids:
                raise _annotation_error(
                    source,
                    ann_id,
                    f"has category_id {category!r}, which is not in 'categories' "
                    f"(ids {sorted(category_ids)})",
                )
            other += 1
            continue
        crowd = ann.get("iscrowd", 0)
        if crowd != 0 and (crowd != 1 or not (is_integer(crowd) or crowd is True)):
            raise _annotation_error(
                source, ann_id, f"has iscrowd {crowd!r}", "use 0 for a person, 1 for a crowd region"
            )
        people.append(
            (
                ann_id,
                image_id,
                crowd,
                ann.get("bbox"),
                ann.get("keypoints"),
                ann.get("area"),
                category,
            )  # fmt: skip
        )
    columns = [list(c) for c in zip(*people)] if people else [[] for _ in _People._fields]
    return _People(*columns), other


def _check_lengths(
    people: _People, source: str, kind: Mapping[Any, Any], k: int
) -> tuple[list[bool], list[int], list[int]]:
    """Errors for a crowd region without a box, a box that is not 4 values and a keypoint
    list that is not `3K` values (in this order: the first problem of the file wins).

    Returns:
        ``(has_box, box_of, kp_of)``: whether each person has a box, and the indices of the
        people with a box and of those with keypoints.
    """
    has_box = [b is not None and not (type(b) is list and not b) for b in people.boxes]
    i = next((i for i, crowd in enumerate(people.crowd) if crowd and not has_box[i]), None)
    if i is not None:
        raise _annotation_error(
            source,
            people.ids[i],
            "is a crowd region without a bbox",
            "add its [x, y, width, height]",
        )
    box_of = [i for i, has in enumerate(has_box) if has]
    i = next((i for i in box_of if _length(people.boxes[i]) != 4), None)
    if i is not None:
        raise _annotation_error(
            source,
            people.ids[i],
            f"has bbox {_short(people.boxes[i])}",
            "COCO boxes are [x, y, width, height]",
        )
    kp_of = [
        i
        for i, v in enumerate(people.keypoints)
        if v is not None and not (type(v) is list and not v)
    ]
    i = next((i for i in kp_of if _length(people.keypoints[i]) != 3 * k), None)
    if i is not None:
        name = kind[people.categories[i]]
        if k == 0:
            raise _annotation_error(
                source,
                people.ids[i],
                f"has keypoints, but category {name!r} has no 'keypoints' name list",
                "add the keypoint names to the category",
            )
        count = _length(people.keypoints[i])
        raise _annotation_error(
            source,
            people.ids[i],
            f"has {_short(people.keypoints[i]) if count is None else count} keypoint values, "
            f"expected {3 * k} (x, y, v for each of the {k} keypoints of category {name!r})",
        )
    return has_box, box_of, kp_of


def _check_numbers(
    people: _People, source: str, box_of: list[int], kp_of: list[int], k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Errors for an area, a keypoint or a box value that is not a finite number, a negative
    area and a box of negative width or height (each counting the annotations it hits).

    Returns:
        ``(boxes, labelled)``: the boxes of the people ``box_of`` `(len(box_of), 4)` and each
        person's count of labelled keypoints (``v > 0``) `(N,)`.
    """
    ids = np.asarray(people.ids, dtype=object)
    area_of = [i for i, area in enumerate(people.areas) if area is not None]
    area_values, bad = number_rows([[people.areas[i]] for i in area_of], 1)
    bad |= area_values[:, 0] < 0
    _fail_rows(source, ids[area_of], bad, "has an area that is not a finite number >= 0")
    points, bad = number_rows([people.keypoints[i] for i in kp_of], 3 * k)
    _fail_rows(source, ids[kp_of], bad, "has a keypoint that is not a finite number")
    labelled = np.zeros(len(ids), dtype=np.int64)
    labelled[kp_of] = (points[:, 2::3] > 0).sum(axis=1)
    boxes, bad = number_rows([people.boxes[i] for i in box_of], 4)
    _fail_rows(source, ids[box_of], bad, "has a bbox value that is not a finite number")
    _fail_rows(
        source,
        ids[box_of],
        (boxes[:, 2] < 0) | (boxes[:, 3] < 0),
        "has a bbox of negative width or height",
        "COCO boxes are [x, y, width, height]",
    )
    return boxes, labelled


def _drop_reasons(
    people: _People,
    sizes: Mapping[Any, tuple[float, float]],
    has_box: list[bool],
    box_of: list[int],
    boxes: np.ndarray,
    few: np.ndarray,
) -> np.ndarray:
    """Each person's drop reason, an index into [`DROP_REASONS`][DROP_REASONS] (the first one that
    applies), -1 when kept; ``few`` flags the people with too few labelled keypoints."""
    n = len(people.ids)
    zero = np.zeros(n, dtype=bool)
    zero[box_of] = (boxes[:, 2] == 0) | (boxes[:, 3] == 0)
    size = np.array([sizes[people.image_ids[i]] for i in box_of], dtype=np.float64).reshape(-1, 2)
    outside = np.zeros(n, dtype=bool)
    # the loader's clipping: [max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)] is empty
    low = np.fmax(boxes[:, :2], 0)
    high = np.fmin(boxes[:, :2] + boxes[:, 2:], size)  # fmin: an unknown size clips nothing
    outside[box_of] = (high <= low).any(axis=1)
    no_box = ~np.asarray(has_box, dtype=bool).reshape(n)
    reason = np.full(n, -1, dtype=np.int64)
    for code, hit in reversed(list(enumerate([no_box, zero, outside, few]))):
        reason[hit] = code
    return reason


def _dropped_by_reason(ids: list[Any], reason: np.ndarray) -> dict[str, tuple[int, ...]]:
    """``{reason: ids of the dropped annotations}`` for each reason that applies."""
    ids = np.asarray(ids, dtype=object)
    return {
        DROP_REASONS[code]: tuple(int(i) for i in ids[reason == code])
        for code in range(len(DROP_REASONS))
        if (reason == code).any()
    }


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _length(values: Any) -> int | None:
    """The length of a list or tuple, ``None`` for anything else."""
    return len(values) if type(values) is list or type(values) is tuple else None


def _fail_rows(
    source: str, ids: np.ndarray, bad: np.ndarray, problem: str, fix: str = "fix or remove it"
) -> None:
    """Raise for the first flagged annotation, counting the others with the same problem."""
    hits = np.flatnonzero(bad)
    if hits.size:
        more = f" (and {hits.size - 1} more annotations)" if hits.size > 1 else ""
        raise AnnotationError(f"{source}: annotation {ids[hits[0]]}{more} {problem}; {fix}")


def _check_images(images: list, source: str) -> dict[Any, tuple[float, float]]:
    """``{image id: (width, height)}``, NaN where unknown; errors for bad entries."""
    if not images:
        raise AnnotationError(f"{source} has an empty 'images' list; there is nothing to use")
    sizes: dict[Any, tuple[float, float]] = {}
    for j, image in enumerate(images):
        if type(image) is not dict and not isinstance(image, dict):
            raise AnnotationError(
                f"{source}: image at index {j} is a {type(image).__name__}, not an object"
            )
        image_id = image.get("id")
        if not is_integer(image_id):
            raise AnnotationError(
                f"{source}: image at index {j} has id {image_id!r}; give every image an integer id"
            )
        if image_id in sizes:
            raise AnnotationError(
                f"{source}: image id {image_id} is listed twice; give every image its own id"
            )
        size = (image.get("width"), image.get("height"))
        if not (type(size[0]) is int and type(size[1]) is int and size[0] > 0 and size[1] > 0):
            size = (_image_side(image, "width", source), _image_side(image, "height", source))
        name = image.get("file_name")
        if (type(name) is not str and name is not None) or name == "":
            raise AnnotationError(
                f"{source}: image {image_id} has file_name {name!r}; give the image file's "
                "path relative to the image folder"
            )
        sizes[image_id] = size
    return sizes


def _image_side(image: dict, key: str, source: str) -> float:
    """An image's ``width`` or ``height``: a positive number, NaN when absent."""
    value = image.get(key)
    if value is None:
        return np.nan
    if not (is_number(value) and value > 0):
        raise AnnotationError(
            f"{source}: image {image['id']} has {key} {value!r}; give its size in pixels or "
            "leave the key out"
        )
    return value


def _check_categories(
    categories: list, source: str, selection: Categories
) -> tuple[set, list[dict]]:
    """The category ids and the keypoint categories; errors for bad entries."""
    ids: set = set()
    for j, category in enumerate(categories):
        if not isinstance(category, dict) or not is_integer(category.get("id")):
            raise AnnotationError(
                f"{source}: category at index {j} ({_short(category)}) has no integer 'id'"
            )
        if category["id"] in ids:
            raise AnnotationError(
                f"{source}: category id {category['id']} is listed twice; give every category "
                "its own id"
            )
        ids.add(category["id"])
    listed = [c.get("name") for c in categories]
    if selection is None:
        chosen = [c for c in categories if c.get("name") == _PERSON]
        if len(chosen) != 1:
            raise AnnotationError(
                f"{source} has {len(chosen) or 'no'} categories named {_PERSON!r} (categories: "
                f"{listed}); cgalib reads person keypoints, name exactly one category 'person', "
                "or choose the keypoint categories to read (categories=[...]; --categories on "
                "the command line)"
            )
    elif selection == _ALL:
        chosen = [c for c in categories if c.get("keypoints")]
        if not chosen:
            raise AnnotationError(
                f"{source} has no category with a 'keypoints' name list (categories: {listed})"
            )
    else:
        wanted = [selection] if isinstance(selection, (str, int)) else list(selection)
        chosen = []
        for item in wanted:
            key = "id" if is_integer(item) else "name"
            match = [c for c in categories if c.get(key) == item]
            if not match:
                raise AnnotationError(
                    f"{source} has no category {key} {item!r} (categories: {listed}, ids "
                    f"{sorted(ids)}); choose categories the file has"
                )
            chosen += [c for c in match if c not in chosen]
    for category in chosen:
        names = category.get("keypoints")
        if names is not None and not (
            isinstance(names, list) and all(isinstance(n, str) for n in names)
        ):
            raise AnnotationError(
                f"{source}: category {category.get('name')!r} has keypoints {_short(names)}; it "
                "must list the keypoint names"
            )
        if (names or []) != (chosen[0].get("keypoints") or []):
            raise AnnotationError(
                f"{source}: categories {chosen[0].get('name')!r} and {category.get('name')!r} "
                "name different keypoints; the categories read together must share one "
                "'keypoints' list (choose the categories of one keypoint set)"
            )
    return ids, chosen


def read_keypoint_set(
    data: Mapping[str, Any],
    report: AnnotationReport,
    flip_index: Sequence[int] | None = None,
    sigmas: Sequence[float] | None = None,
) -> KeypointSet:
    """The [`KeypointSet`][cgalib.utils.keypoint_set.KeypointSet] of a checked annotation set.

    Read from the (first) keypoint category by
    [`KeypointSet.from_category`][cgalib.utils.keypoint_set.KeypointSet.from_category]
    (names, 1-based skeleton, flip map, sigmas); its ``categories`` are all the keypoint
    categories of ``report``.

    Args:
        data: the parsed JSON that ``report`` was made from.
        report: its [`AnnotationReport`][AnnotationReport] (from [`check_coco()`][check_coco]).
        flip_index: the flip map, when the names do not give it.
        sigmas: the OKS sigmas, overriding the category's.

    Returns:
        The keypoint set.

    Raises:
        AnnotationError: naming the file and the category: no keypoint names, a skeleton
            limb out of range, names that cannot be paired for the flip (listing them), a
            wrong flip map, or sigmas of the wrong count.
    """
    category = next(c for c in data["categories"] if c["id"] == report.category_id)
    source = f"{report.source}: category {category.get('name')!r}"
    try:
        found = KeypointSet.from_category(category, flip_index, sigmas, source=source)
        return replace(found, categories=report.category_names)
    except KeypointSetError as err:
        raise AnnotationError(str(err)) from None


def check_image_files(root: str | os.PathLike, images: Sequence[Mapping], source: str) -> None:
    """Check up front that every listed image has a file under ``root``.

    Args:
        root: the image folder.
        images: the ``images`` entries (each with ``id`` and ``file_name``).
        source: the annotation file, for the message.

    Raises:
        AnnotationError: if an image has no ``file_name``.
        FileNotFoundError: if files are missing (the count, the first one and its image id).
    """
    root = Path(root)
    missing = []
    for image in images:
        name = image.get("file_name")
        if not name:
            raise AnnotationError(
                f"{source}: image {image.get('id')} has no file_name; give the image file's "
                f"path relative to {root}"
            )
        if not (root / name).is_file():
            missing.append(image)
    if missing:
        first = missing[0]
        raise FileNotFoundError(
            f"{len(missing)} of {len(images)} images listed in {source} are missing from "
            f"{root}, e.g. {root / first['file_name']} (image {first['id']}); check the image "
            "folder"
        )


def validate_coco(
    source: str | os.PathLike | Mapping[str, Any] | COCO,
    min_keypoints: int = 0,
    require_annotations: bool = True,
    categories: Categories = None,
) -> tuple[COCO, AnnotationReport]:
    """Read and check a COCO keypoint set: its pycocotools index and its report.

    The checks and the drop rules are those of [`check_coco()`][check_coco]. The index is built over
    the data as it is (nothing is changed or dropped in it; the report says which people
    to leave out).

    Args:
        source: a ``person_keypoints_*.json`` file, its parsed dict or a ``COCO`` object.
        min_keypoints: drop people with fewer labelled keypoints (0 keeps all).
        require_annotations: refuse a set without an ``annotations`` list.
        categories: the keypoint categories (see [`Categories`][Categories]; default the one
            named ``"person"``).

    Returns:
        ``(coco, report)``.

    Raises:
        FileNotFoundError: if the file does not exist.
        AnnotationError: for a file that is not JSON or the first problem
            [`check_coco()`][check_coco] finds.

    Example:
        >>> import json, tempfile
        >>> from cgalib.data import make_synthetic_coco
        >>> with tempfile.TemporaryDirectory() as d:
        ...     paths = make_synthetic_coco(d, num_train=2, num_val=0, size=96)
        ...     coco, report = validate_coco(paths["train_ann"])
        >>> report.images, report.num_keypoints, report.people == len(coco.anns)
        (2, 17, True)
    """
    data, name = coco_dataset(source)
    report = check_coco(data, name, min_keypoints, require_annotations, categories)
    if isinstance(source, COCO):
        return source, report
    coco = COCO()  # an index over the data as it is
    coco.dataset = data
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco, report
