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

What the check does with what it finds, the same for training and evaluation:

- **refused** (one [`AnnotationError`][AnnotationError] line): a malformed file, two images with
  one ``file_name``, and a file where most boxes are past the image edge or far from their
  keypoints (with the likely cause: ``[x1, y1, x2, y2]`` boxes, centre boxes, boxes or
  keypoints normalised to 0..1);
- **converted**, counted and warned: a keypoint at ``(0, 0)`` marked labelled (``v > 0``) is
  read as unlabelled ([`ORIGIN_POINTS`][ORIGIN_POINTS]; CVAT and Label Studio write
  unlabelled points so), see [`labelled_mask()`][labelled_mask];
- **dropped**, counted by reason: see [`DROP_REASONS`][DROP_REASONS];
- **kept**, counted and warned: boxes past the image edge or far from their keypoints
  ([`SUSPECT_REASONS`][SUSPECT_REASONS]).

[`AnnotationReport.warnings()`][AnnotationReport.warnings] gives the warnings;
[`warn_report()`][warn_report] emits them, once per file read, as
[`AnnotationWarning`][AnnotationWarning]s.
[`check_image_files()`][check_image_files] checks the image files the set lists (see
``cgalib.data.images``).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from pycocotools.coco import COCO

from cgalib.data.images import ImageFilesReport, check_annotated_images
from cgalib.utils.keypoint_set import KeypointSet, KeypointSetError
from cgalib.utils.numbers import is_integer, is_number, number_rows

__all__ = [
    "DROP_REASONS",
    "FAR_FROM_KEYPOINTS",
    "FEW_KEYPOINTS",
    "NO_BOX",
    "OFF_IMAGE",
    "ORIGIN_POINTS",
    "PAST_EDGE",
    "REPEATED",
    "SUSPECT_REASONS",
    "ZERO_AREA",
    "AnnotationError",
    "AnnotationReport",
    "AnnotationWarning",
    "check_coco",
    "Categories",
    "check_image_files",
    "coco_dataset",
    "labelled_mask",
    "read_coco_json",
    "read_keypoint_set",
    "validate_coco",
    "warn_report",
]

NO_BOX = "no box"
"""Drop reason: a person annotation without ``bbox`` (missing, ``null`` or ``[]``)."""
ZERO_AREA = "zero-area box"
"""Drop reason: a person box of zero width or height."""
OFF_IMAGE = "box outside the image"
"""Drop reason: a person box that lies entirely outside its image (``width``/``height``)."""
REPEATED = "repeats another annotation"
"""Drop reason: a person identical to an earlier one of the same image (the same category,
box and keypoints under another annotation id: a file merged with itself, a shape exported
twice). The first is kept; evaluation would otherwise count the copy as a person never
found."""
FEW_KEYPOINTS = "too few labelled keypoints"
"""Drop reason: fewer labelled keypoints (see [`labelled_mask()`][labelled_mask]) than the
loader's ``min_keypoints``."""
DROP_REASONS: tuple[str, ...] = (NO_BOX, ZERO_AREA, OFF_IMAGE, REPEATED, FEW_KEYPOINTS)
"""Why a person is dropped, in the order they are tested (a person gets the first that applies)."""

ORIGIN_POINTS = "keypoints at (0, 0) marked labelled"
"""Conversion: a keypoint at ``(0, 0)`` with ``v > 0`` is read as unlabelled (``v = 0``). CVAT
and Label Studio export unlabelled points as ``(0, 0, 2)``; trained as labelled they pull
the model to the image corner, scored they lower the AP of correct predictions."""

PAST_EDGE = "box past the image edge"
"""Suspect box (kept, warned): it reaches past its image (``width``/``height``) by more than
1 pixel plus 1% of the image side."""
FAR_FROM_KEYPOINTS = "box far from its keypoints"
"""Suspect box (kept, warned): most of the person's keypoints (at least 2) lie outside the
box by more than a quarter of the box's width or height (plus 2 pixels), or the box
reaches both more than half its width right of the keypoints (at least 8) and more than
half its height below them. The keypoints judged are the visible ones (``v = 2``) when
the person has any, else every labelled one: a box covers the visible part of a
person, and an occluded keypoint (``v = 1``) may lie outside it (what an ``[x1, y1, x2, y2]`` box read as
``[x, y, width, height]`` does, unless the person is near the image's top-left corner,
where the two readings differ little)."""
SUSPECT_REASONS: tuple[str, ...] = (PAST_EDGE, FAR_FROM_KEYPOINTS)
"""Why a kept person's box is suspect, in the order they are tested. A file where at
least 3 and more than half of the kept people's boxes are suspect is refused, with the
likely cause."""

_EDGE_PIXELS, _EDGE_SHARE = 1.0, 0.01  # PAST_EDGE: 1 px + 1% of the image side
_FAR_SHARE, _FAR_PIXELS = 0.25, 2.0  # FAR_FROM_KEYPOINTS: a quarter of the box + 2 px
_LOOSE_SHARE, _LOOSE_POINTS = 0.5, 8  # ... or half the box right of and below 8+ keypoints
_MOST_SUSPECT = 3  # at least this many suspect boxes (and more than half) refuse a file

_PERSON = "person"
_ALL = "*"

Categories = str | Sequence[str | int] | None
"""Which categories hold the people: ``None`` for the one named ``"person"``, ``"*"`` for
every category with a ``keypoints`` list, or a list of category names or ids (they must
share one ``keypoints`` list)."""


class AnnotationError(ValueError):
    """A COCO annotation set that cannot be used; the one-line message names the file, the
    annotation (or image) id and what to do."""


class AnnotationWarning(UserWarning):
    """Something in a COCO annotation set that was converted or looks wrong but is kept; the
    one-line message names the file, the count, an example annotation id and what was done."""


def labelled_mask(keypoints: np.ndarray) -> np.ndarray:
    """Which keypoints are labelled: ``v > 0`` and not at ``(0, 0)``.

    The one rule of every reader (the validator's counts, the training targets, the
    top-down people, the evaluation ground truth): a point at ``(0, 0)`` marked labelled is
    how CVAT and Label Studio export an unlabelled point ([`ORIGIN_POINTS`][ORIGIN_POINTS]).

    Args:
        keypoints: ``(x, y, v)`` rows, `(..., K, 3)`.

    Returns:
        `(..., K)` bool.

    Example:
        >>> labelled_mask(np.array([[3.0, 4.0, 2], [0, 0, 2], [5, 0, 1], [7, 7, 0]])).tolist()
        [True, False, True, False]
    """
    keypoints = np.asarray(keypoints)
    x, y, v = keypoints[..., 0], keypoints[..., 1], keypoints[..., 2]
    return (v > 0) & ~((x == 0) & (y == 0))


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
        notes: conversions made by the reader: keypoints at ``(0, 0)`` read as unlabelled,
            and in evaluation e.g. renumbered ids.
        category_ids: the ids of every keypoint category (default ``(category_id,)``).
        category_names: their names (default ``("person",)``).
        converted: ``{conversion: ids of the annotations it changed}``
            ([`ORIGIN_POINTS`][ORIGIN_POINTS]).
        converted_points: the keypoints converted (a person may have several).
        suspect: ``{reason: ids of the kept people}`` whose box is suspect (see
            [`SUSPECT_REASONS`][SUSPECT_REASONS]); they are kept, and warned about.

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
    converted: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    converted_points: int = 0
    suspect: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

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

    def describe_suspect(self) -> str:
        """The suspect boxes with counts and an example id, e.g. ``"box past the image
        edge: 2, e.g. annotation 5"``; empty when there are none."""
        return "; ".join(
            f"{reason}: {len(ids)}, e.g. annotation {ids[0]}"
            for reason, ids in self.suspect.items()
        )

    def warnings(self) -> tuple[str, ...]:
        """One line for each conversion and each kind of suspect box, naming the file, the
        count, an example annotation id and what was done; ``()`` for a clean set.

        [`warn_report()`][warn_report] emits them (training and evaluation alike).

        Example:
            >>> report = AnnotationReport("a.json", 1, 17, 2, 2, 3, 3, 0, 0,
            ...                           converted={ORIGIN_POINTS: (4,)}, converted_points=2)
            >>> print(report.warnings()[0])
            a.json: 2 keypoints at (0, 0) marked labelled (v > 0), in 1 annotations (e.g. annotation 4), are read as unlabelled (v=0), as CVAT and Label Studio mean them; the file is unchanged
        """
        lines = []
        ids = self.converted.get(ORIGIN_POINTS, ())
        if ids:
            lines.append(
                f"{self.source}: {_origin_note(self.converted_points, ids)}, as CVAT and Label "
                "Studio mean them; the file is unchanged"
            )
        people = self.kept
        what = {
            PAST_EDGE: (
                "a box past the image edge",
                "kept (training clips the box to the image); check that bbox is [x, y, width, "
                "height] in pixels of the picture as displayed",
            ),
            FAR_FROM_KEYPOINTS: (
                "a box far from their keypoints (most labelled keypoints outside it)",
                "kept as annotated; check that each box belongs to its keypoints",
            ),
        }
        for reason, ids in self.suspect.items():
            problem, done = what[reason]
            lines.append(
                f"{self.source}: {len(ids)} of {people} kept people have {problem}, e.g. "
                f"annotation {ids[0]}; {done}"
            )
        return tuple(lines)

    def __str__(self) -> str:
        text = (
            f"{self.source}: {self.images} images ({self.images_with_people} with people), "
            f"{self.people} people: {self.kept} kept ({self.labelled} with labelled keypoints)"
        )
        if self.num_dropped:
            text += f", {self.num_dropped} dropped ({self.describe_dropped()})"
        if self.suspect:
            text += f"; suspect boxes kept ({self.describe_suspect()})"
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


def warn_report(report: AnnotationReport, stacklevel: int = 2) -> None:
    """Emit each of ``report.warnings()`` as an [`AnnotationWarning`][AnnotationWarning].

    Called once per file read by [`CocoKeypoints`][cgalib.data.CocoKeypoints] (training,
    top-down included) and [`cgalib.eval.load_coco()`][cgalib.eval.load_coco] (evaluation), so
    the two warn alike.

    Args:
        report: the report of a checked set.
        stacklevel: as for ``warnings.warn``, counted from the caller of this function.
    """
    for line in report.warnings():
        warnings.warn(line, AnnotationWarning, stacklevel=stacklevel + 1)


def _origin_note(points: int, ids: Sequence[int]) -> str:
    """The note of [`ORIGIN_POINTS`][ORIGIN_POINTS]: counts and an example id."""
    return (
        f"{points} keypoints at (0, 0) marked labelled (v > 0), in {len(ids)} annotations "
        f"(e.g. annotation {ids[0]}), are read as unlabelled (v=0)"
    )


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
    image id, a non-positive ``width``/``height``, a ``file_name`` that is not a string, a
    ``file_name`` listed by two images (the same picture under two ids would train each
    copy's people as the other's background: merge their annotations under one id);
    category ids that are not integers or repeat, no category named ``"person"`` or more
    than one (without ``categories``), a chosen category that is not in the file, chosen
    categories with different ``keypoints`` lists; an annotation without an integer ``id``, a repeated annotation id (ids of 0 or
    below are fine: evaluation renumbers them), an ``image_id`` that is not an image
    (orphan), a ``category_id`` that is not a category; for person annotations: an
    ``iscrowd`` other than 0/1, a ``bbox`` that is not 4 finite numbers or has a negative
    width or height, a crowd region without a box, a ``keypoints`` list whose length is
    not `3K` (`K` the keypoint category's keypoint names) or that holds a non-number, NaN or
    infinity, an ``area`` that is not a finite number >= 0; at least 3 and more than half
    of the kept people's boxes suspect (see below), with the likely cause (``[x1, y1, x2,
    y2]`` boxes, ``[center x, center y, width, height]`` boxes, boxes or keypoints
    normalised to 0..1).

    **Converted with a count** (``converted``, a note, a warning): keypoints at ``(0, 0)``
    marked labelled are unlabelled ([`ORIGIN_POINTS`][ORIGIN_POINTS],
    [`labelled_mask()`][labelled_mask]); every count of labelled keypoints below uses the rule.

    **Dropped with a count** (people only, the first reason that applies, see
    [`DROP_REASONS`][DROP_REASONS]): no box; a zero-area box; a box entirely outside its image (left
    of or above it always; right of or below it when the image has ``width`` and
    ``height``, as COCO's images do); a repeat of an earlier person of the same image (same
    category, box and keypoints); fewer than ``min_keypoints`` labelled keypoints.
    Training does not use these people and evaluation leaves them
    out of the ground truth. People without keypoints but with a box are kept (detection
    targets; keypoint AP ignores them, as pycocotools does). Crowd regions and annotations
    of other categories are counted, never dropped.

    **Kept with a count** (``suspect``, a warning): people whose box reaches past the
    image edge, or lies far from their labelled keypoints (see
    [`SUSPECT_REASONS`][SUSPECT_REASONS]).

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
    boxes, points = _check_numbers(people, source, box_of, kp_of, k)
    n = len(people.ids)
    crowd = np.asarray(people.crowd, dtype=bool).reshape(n)
    mask = labelled_mask(points.reshape(len(kp_of), k, 3))
    labelled = np.zeros(n, dtype=np.int64)
    labelled[kp_of] = mask.sum(axis=1)
    origin = (points[:, 2::3] > 0) & ~mask  # at (0, 0), marked labelled
    origin[crowd[kp_of]] = False  # crowd regions' points are never read
    effective = np.where(np.repeat(mask, 3, axis=1), points, 0.0) + 0.0  # + 0.0: no -0.0
    repeated = _repeated(people, sizes, kind, box_of, boxes, kp_of, effective)
    reason = _drop_reasons(
        people, sizes, has_box, box_of, boxes, repeated, labelled < min_keypoints
    )
    reason[crowd] = -1  # crowd regions are never dropped
    kept = (reason < 0) & ~crowd
    suspect = _suspect_boxes(people, sizes, box_of, boxes, kp_of, points, mask, kept)
    _refuse_most_suspect(source, people, sizes, box_of, boxes, kp_of, points, mask, kept, suspect)
    converted_ids = tuple(int(people.ids[kp_of[i]]) for i in np.flatnonzero(origin.any(axis=1)))
    converted_points = int(origin.sum())
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
        dropped=_dropped_by_reason(people.ids, reason, DROP_REASONS),
        min_keypoints=min_keypoints,
        notes=(_origin_note(converted_points, converted_ids),) if converted_ids else (),
        category_ids=tuple(int(i) for i in kind),
        category_names=tuple(str(n) for n in kind.values()),
        converted={ORIGIN_POINTS: converted_ids} if converted_ids else {},
        converted_points=converted_points,
        suspect=_dropped_by_reason(people.ids, suspect, SUSPECT_REASONS),
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
        ``(boxes, points)``: the boxes of the people ``box_of`` `(len(box_of), 4)` and the
        keypoints of the people ``kp_of`` `(len(kp_of), 3K)`.
    """
    ids = np.asarray(people.ids, dtype=object)
    area_of = [i for i, area in enumerate(people.areas) if area is not None]
    area_values, bad = number_rows([[people.areas[i]] for i in area_of], 1)
    bad |= area_values[:, 0] < 0
    _fail_rows(source, ids[area_of], bad, "has an area that is not a finite number >= 0")
    points, bad = number_rows([people.keypoints[i] for i in kp_of], 3 * k)
    _fail_rows(source, ids[kp_of], bad, "has a keypoint that is not a finite number")
    boxes, bad = number_rows([people.boxes[i] for i in box_of], 4)
    _fail_rows(source, ids[box_of], bad, "has a bbox value that is not a finite number")
    _fail_rows(
        source,
        ids[box_of],
        (boxes[:, 2] < 0) | (boxes[:, 3] < 0),
        "has a bbox of negative width or height",
        "COCO boxes are [x, y, width, height]",
    )
    return boxes, points.reshape(len(kp_of), 3 * k)


def _drop_reasons(
    people: _People,
    sizes: Mapping[Any, tuple[float, float]],
    has_box: list[bool],
    box_of: list[int],
    boxes: np.ndarray,
    repeated: np.ndarray,
    few: np.ndarray,
) -> np.ndarray:
    """Each person's drop reason, an index into [`DROP_REASONS`][DROP_REASONS] (the first one that
    applies), -1 when kept; ``repeated`` flags the repeats of an earlier person, ``few`` the
    people with too few labelled keypoints."""
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
    for code, hit in reversed(list(enumerate([no_box, zero, outside, repeated, few]))):
        reason[hit] = code
    return reason


def _dropped_by_reason(
    ids: list[Any], reason: np.ndarray, names: Sequence[str]
) -> dict[str, tuple[int, ...]]:
    """``{name: ids of the annotations}`` for each reason (an index into ``names``) that
    applies."""
    ids = np.asarray(ids, dtype=object)
    return {
        names[code]: tuple(int(i) for i in ids[reason == code])
        for code in range(len(names))
        if (reason == code).any()
    }


def _rows(n: int, of: list[int]) -> np.ndarray:
    """For each of ``n`` people, its row in an array over the people ``of`` (-1 if none)."""
    rows = np.full(n, -1, dtype=np.int64)
    rows[of] = np.arange(len(of))
    return rows


def _repeated(
    people: _People,
    sizes: Mapping[Any, Any],
    kind: Mapping[Any, Any],
    box_of: list[int],
    boxes: np.ndarray,
    kp_of: list[int],
    points: np.ndarray,
) -> np.ndarray:
    """Flags `(N,)` the non-crowd people identical to an earlier one (same image, category,
    box and labelled keypoints; ``points`` holds zeros where unlabelled).

    Boxes are compared first, vectorised; keypoints only within groups of equal boxes.
    """
    n = len(people.ids)
    repeated = np.zeros(n, dtype=bool)
    which = [i for i in box_of if not people.crowd[i]]
    if len(which) < 2:
        return repeated
    image_code = {image_id: j for j, image_id in enumerate(sizes)}
    kind_code = {c: j for j, c in enumerate(kind)}
    box_row = _rows(n, box_of)
    key = np.column_stack(
        [
            [image_code[people.image_ids[i]] for i in which],
            [kind_code[people.categories[i]] for i in which],
            boxes[box_row[which]],
        ]
    )
    _, group, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    group = group.reshape(-1)
    kp_row = _rows(n, kp_of)
    seen: set = set()
    for j in np.flatnonzero(counts[group] > 1):  # file order
        i = which[j]
        row = kp_row[i]
        person = (int(group[j]), b"" if row < 0 or not points[row].any() else points[row].tobytes())
        if person in seen:
            repeated[i] = True
        seen.add(person)
    return repeated


def _edge_tolerance(side: np.ndarray) -> np.ndarray:
    """How far a box may reach past an image side (NaN side: unknown, 1 pixel)."""
    return _EDGE_PIXELS + _EDGE_SHARE * np.nan_to_num(side, nan=0.0)


def _outside_share(
    box: np.ndarray, xs: np.ndarray, ys: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For boxes `(M, 4)` xywh and their keypoints `(M, K)`: how many labelled keypoints lie
    outside the box by more than the [`FAR_FROM_KEYPOINTS`][FAR_FROM_KEYPOINTS] margin, and
    how many are labelled."""
    x, y, w, h = (box[:, j : j + 1] for j in range(4))
    mx, my = _FAR_SHARE * w + _FAR_PIXELS, _FAR_SHARE * h + _FAR_PIXELS
    out = (xs < x - mx) | (xs > x + w + mx) | (ys < y - my) | (ys > y + h + my)
    return (out & mask).sum(axis=1), mask.sum(axis=1)


def _seen(points: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The keypoints `(M, K)` a box is judged against: the visible ones (``v = 2``) of the
    people with any, every labelled one of the others."""
    visible = mask & (points[:, 2::3] == 2)
    return np.where(visible.any(axis=1)[:, None], visible, mask)


def _far(box: np.ndarray, xs: np.ndarray, ys: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Which boxes `(M, 4)` are [`FAR_FROM_KEYPOINTS`][FAR_FROM_KEYPOINTS] of their keypoints
    `(M, K)`."""
    outside, count = _outside_share(box, xs, ys, mask)
    x, y, w, h = box.T
    right = np.where(mask, xs, -np.inf).max(axis=1, initial=-np.inf)
    below = np.where(mask, ys, -np.inf).max(axis=1, initial=-np.inf)
    loose = (x + w - right > _LOOSE_SHARE * w) & (y + h - below > _LOOSE_SHARE * h)
    return ((count >= 2) & (2 * outside > count)) | ((count >= _LOOSE_POINTS) & loose)


def _suspect_boxes(
    people: _People,
    sizes: Mapping[Any, tuple[float, float]],
    box_of: list[int],
    boxes: np.ndarray,
    kp_of: list[int],
    points: np.ndarray,
    mask: np.ndarray,
    kept: np.ndarray,
) -> np.ndarray:
    """Each person's suspect-box reason, an index into [`SUSPECT_REASONS`][SUSPECT_REASONS],
    -1 when not suspect (only kept people with a box are judged)."""
    n = len(people.ids)
    reason = np.full(n, -1, dtype=np.int64)
    box_row, kp_row = _rows(n, box_of), _rows(n, kp_of)
    judged = np.flatnonzero(kept & (box_row >= 0))
    if not judged.size:
        return reason
    box = boxes[box_row[judged]]
    size = np.array([sizes[people.image_ids[i]] for i in judged], dtype=np.float64).reshape(-1, 2)
    tol = _edge_tolerance(size)
    past = ((box[:, :2] < -tol) | (box[:, :2] + box[:, 2:] > size + tol)).any(axis=1)
    far = np.zeros(len(judged), dtype=bool)
    with_points = np.flatnonzero(kp_row[judged] >= 0)
    if with_points.size:
        rows = kp_row[judged[with_points]]
        seen = _seen(points[rows], mask[rows])
        far[with_points] = _far(box[with_points], points[rows, 0::3], points[rows, 1::3], seen)
    reason[judged[far]] = 1
    reason[judged[past]] = 0
    return reason


def _refuse_most_suspect(
    source: str,
    people: _People,
    sizes: Mapping[Any, tuple[float, float]],
    box_of: list[int],
    boxes: np.ndarray,
    kp_of: list[int],
    points: np.ndarray,
    mask: np.ndarray,
    kept: np.ndarray,
    suspect: np.ndarray,
) -> None:
    """Refuse a set where at least ``_MOST_SUSPECT`` and more than half of the kept people's
    boxes are suspect, naming the likely cause."""
    n = len(people.ids)
    box_row, kp_row = _rows(n, box_of), _rows(n, kp_of)
    judged = int((kept & (box_row >= 0)).sum())
    hit = np.flatnonzero(suspect >= 0)
    if hit.size < _MOST_SUSPECT or 2 * hit.size <= judged:
        return
    box = boxes[box_row[hit]]
    size = np.array([sizes[people.image_ids[i]] for i in hit], dtype=np.float64).reshape(-1, 2)
    rows = kp_row[hit]
    k = mask.shape[1]
    xs, ys, labelled = (
        np.zeros((len(hit), k)),
        np.zeros((len(hit), k)),
        np.zeros((len(hit), k), bool),
    )
    has = rows >= 0
    xs[has], ys[has] = points[rows[has], 0::3], points[rows[has], 1::3]
    labelled[has] = _seen(points[rows[has]], mask[rows[has]])
    cause = _likely_cause(box, size, xs, ys, labelled)
    first = hit[0]
    image = people.image_ids[first]
    width, height = sizes[image]
    on = f"image {image}" + ("" if np.isnan(width) else f" ({width:g}x{height:g})")
    counts = ", ".join(
        f"{name}: {int((suspect == code).sum())}"
        for code, name in enumerate(SUSPECT_REASONS)
        if (suspect == code).any()
    )
    raise AnnotationError(
        f"{source}: {hit.size} of the {judged} kept people have a suspect box ({counts}), "
        f"e.g. annotation {people.ids[first]} bbox {_short(list(people.boxes[first]), 60)} on "
        f"{on}; {cause}"
    )


def _likely_cause(
    box: np.ndarray, size: np.ndarray, xs: np.ndarray, ys: np.ndarray, labelled: np.ndarray
) -> str:
    """Why most boxes of a set are suspect: the first reading of the boxes (or keypoints)
    that fits more than half of them."""
    count = labelled.sum(axis=1)
    tol = _edge_tolerance(size)

    def inside(b: np.ndarray) -> np.ndarray:  # within the image (unknown sides: any)
        return ((b[:, :2] >= -tol) & ~(b[:, :2] + b[:, 2:] > size + tol)).all(axis=1)

    def holds(b: np.ndarray) -> np.ndarray:  # holds most of its keypoints (or has none)
        outside, _ = _outside_share(b, xs, ys, labelled)
        return (count == 0) | (2 * outside <= count)

    x, y, w, h = box.T
    big = np.where(labelled, np.maximum(np.abs(xs), np.abs(ys)), 0).max(axis=1, initial=0)
    readings = [
        (
            (count >= 2) & (big <= 1) & ((w > 2) | (h > 2)),
            "keypoints look normalised to 0..1; COCO keypoints are x, y in pixels (multiply "
            "by the image width and height)",
        ),
        (
            (box >= 0).all(axis=1) & (box <= 1).all(axis=1),
            "bbox looks normalised to 0..1; COCO's bbox is [x, y, width, height] in pixels "
            "(multiply by the image width and height)",
        ),
        (
            (w > x)
            & (h > y)
            & inside(np.column_stack([x, y, w - x, h - y]))
            & holds(np.column_stack([x, y, w - x, h - y])),
            "bbox looks like [x1, y1, x2, y2]; COCO's bbox is [x, y, width, height] "
            "(width = x2 - x1, height = y2 - y1)",
        ),
        (
            inside(np.column_stack([x - w / 2, y - h / 2, w, h]))
            & holds(np.column_stack([x - w / 2, y - h / 2, w, h])),
            "bbox looks like [center x, center y, width, height]; COCO's bbox is [x, y, "
            "width, height] with x, y its top-left corner",
        ),
    ]
    for fits, cause in readings:
        if 2 * int(fits.sum()) > len(box):
            return cause
    return (
        "check that bbox is [x, y, width, height] and the keypoints x, y, in pixels of the "
        "picture as displayed, and the images' width and height"
    )


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
    names: dict[str, Any] = {}  # file name (normalised) -> the first image id listing it
    repeats: list[tuple[Any, Any, str]] = []
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
        if name is not None:
            key = os.path.normpath(name)
            if key in names:
                repeats.append((names[key], image_id, name))
            else:
                names[key] = image_id
        sizes[image_id] = size
    if repeats:
        first, second, name = repeats[0]
        more = f" (and {len(repeats) - 1} more repeated file names)" if len(repeats) > 1 else ""
        raise AnnotationError(
            f"{source}: images {first} and {second} both have file_name {name!r}{more}; the "
            "same picture under two ids trains each copy's people as the other's background "
            "and scores them twice: merge their annotations under one image id and remove "
            "the other image"
        )
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
        AnnotationError: naming the file and the category: no keypoint names, names
            that cannot be paired for the flip (listing them), a wrong flip map, or sigmas
            of the wrong count.

    Warns:
        KeypointSetWarning: naming the file and the category, for a skeleton or colours
            dropped (they only draw) and for keypoints whose mirror the names do not tell.
    """
    category = next(c for c in data["categories"] if c["id"] == report.category_id)
    source = f"{report.source}: category {category.get('name')!r}"
    try:
        found = KeypointSet.from_category(category, flip_index, sigmas, source=source)
        return replace(found, categories=report.category_names)
    except KeypointSetError as err:
        raise AnnotationError(str(err)) from None


def check_image_files(
    root: str | os.PathLike, images: Sequence[Mapping], source: str
) -> ImageFilesReport:
    """Check up front that every listed image has a usable file under ``root``.

    Every image of the set, before the first training step (training, top-down training)
    or the first prediction (evaluation): the file exists, opens, is complete and has its
    annotated size as displayed; a set with a file that fails is refused (see
    [`check_annotated_images()`][cgalib.data.check_annotated_images], which does the work).

    Args:
        root: the image folder.
        images: the ``images`` entries (each with ``id`` and ``file_name``).
        source: the annotation file, for the message.

    Returns:
        The [`ImageFilesReport`][cgalib.data.ImageFilesReport].

    Raises:
        AnnotationError: if an image has no ``file_name``.
        FileNotFoundError: if files are missing (the count, the first one and its image id).
        ImageFileError: (a ``ValueError``) for files that are not images, truncated,
            damaged, or of another size than their annotation (the count by problem, the
            first one and its image id).

    Warns:
        ImageWarning: for files with the same bytes under two names.
    """
    root = Path(root)
    for image in images:
        if not image.get("file_name"):
            raise AnnotationError(
                f"{source}: image {image.get('id')} has no file_name; give the image file's "
                f"path relative to {root}"
            )
    return check_annotated_images(root, images, source)


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
