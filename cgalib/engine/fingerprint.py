"""The fingerprint of a run's training data, kept in ``last.pt`` so that a resume on other
data is refused, naming what changed.

A resume on the same number of images passes every count check, yet an edited annotation
file (a keypoint moved, two file names swapped, a category added) trains the rest of the run
on other data than its first part. [`DataFingerprint`][DataFingerprint] keeps, per image id,
a 64-bit hash of the image's entry (file name, height, width) and one of its people (each
annotation's id, category, crowd flag, box and keypoints, in id order), plus the categories
trained on: about 16 bytes per image, computed in about a second for COCO's 250k
annotations. Segmentations are not part of it. Reordering or re-indenting the file
changes nothing.
"""

from __future__ import annotations

import array
import hashlib
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import torch

__all__ = ["DataFingerprint"]


def _digest(h: Any) -> int:
    return int.from_bytes(h.digest(), "little", signed=True)


def _image_hash(image: Mapping[str, Any]) -> int:
    entry = (image.get("file_name"), image.get("height"), image.get("width"))
    return _digest(hashlib.blake2b(repr(entry).encode(), digest_size=8))


def _person_bytes(ann: Mapping[str, Any]) -> bytes:
    """An annotation's id, category, crowd flag, box and keypoints as bytes."""
    box, points = ann.get("bbox") or (), ann.get("keypoints") or ()
    head = (ann.get("id"), ann.get("category_id"), ann.get("iscrowd", 0))
    try:
        return array.array("d", (*head, len(box), *box, len(points), *points)).tobytes()
    except (TypeError, OverflowError):  # not all numbers: their text
        return repr((head, box, points)).encode()


def _description(dataset: Mapping[str, Any]) -> str | None:
    """A COCO dict's ``info.description``, when it is a string."""
    info = dataset.get("info")
    text = info.get("description") if isinstance(info, Mapping) else None
    return text if isinstance(text, str) and text else None


def _sort_key(ann: Mapping[str, Any]) -> tuple[str, str]:
    return repr(ann.get("image_id")), repr(ann.get("id"))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


class DataFingerprint:
    """What a run's training data was: per image id, a hash of its entry and of its people.

    Build it from a COCO dict with [`of_coco()`][of_coco]; [`state_dict()`][state_dict] is what
    ``last.pt`` keeps (tensors and plain values), and [`changes()`][changes] compares a kept
    one with this one.

    Args:
        image_ids: `(N,)` the image ids, ascending.
        images: `(N,)` the hash of each image's file name and size.
        people: `(N,)` the hash of each image's people.
        categories: the ids of the categories trained on.
        names: the file name of each image id (for messages; not kept).
        description: the annotation file's ``info.description`` (e.g. the synthetic set's),
            what the trained model knows; kept, not compared.

    Example:
        >>> person = {"id": 7, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2],
        ...           "keypoints": [1, 1, 2]}
        >>> coco = {"images": [{"id": 1, "file_name": "a.jpg", "height": 4, "width": 4}],
        ...         "annotations": [person]}
        >>> kept = DataFingerprint.of_coco(coco).state_dict()
        >>> person["keypoints"] = [3, 1, 2]  # a keypoint moved
        >>> DataFingerprint.of_coco(coco).changes(kept)
        ['the people (ids, boxes or keypoints) of 1 image (first: id 1, a.jpg)']
    """

    def __init__(
        self,
        image_ids: torch.Tensor,
        images: torch.Tensor,
        people: torch.Tensor,
        categories: Sequence[int] = (),
        names: Mapping[int, str] | None = None,
        description: str | None = None,
    ) -> None:
        self.image_ids, self.images, self.people = image_ids, images, people
        self.categories = sorted(categories)
        self.names = dict(names or {})
        self.description = description

    @classmethod
    def of_coco(
        cls, dataset: Mapping[str, Any], category_ids: Collection[int] | None = None
    ) -> DataFingerprint:
        """The fingerprint of a COCO dict's images and of the people of ``category_ids``.

        Args:
            dataset: a COCO dict (``images``, ``annotations``), checked.
            category_ids: the categories trained on (``None``: every annotation).

        Returns:
            The fingerprint.
        """
        images = sorted(dataset.get("images", []), key=lambda i: repr(i.get("id")))
        people: dict[Any, Any] = {}
        for ann in sorted(dataset.get("annotations", []), key=_sort_key):
            if category_ids is not None and ann.get("category_id") not in category_ids:
                continue
            h = people.get(ann.get("image_id"))
            if h is None:
                h = people[ann.get("image_id")] = hashlib.blake2b(digest_size=8)
            h.update(_person_bytes(ann))
        ids = [int(i["id"]) for i in images]
        order = sorted(range(len(ids)), key=ids.__getitem__)
        return cls(
            torch.tensor([ids[k] for k in order], dtype=torch.int64),
            torch.tensor([_image_hash(images[k]) for k in order], dtype=torch.int64),
            torch.tensor(
                [_digest(people[ids[k]]) if ids[k] in people else 0 for k in order],
                dtype=torch.int64,
            ),
            categories=[int(c) for c in category_ids or ()],
            names={int(i["id"]): str(i.get("file_name")) for i in images},
            description=_description(dataset),
        )

    def state_dict(self) -> dict[str, Any]:
        """What ``last.pt`` keeps: the three `(N,)` tensors and the category ids."""
        return {
            "image_ids": self.image_ids,
            "images": self.images,
            "people": self.people,
            "categories": list(self.categories),
        }

    def changes(self, saved: Mapping[str, Any]) -> list[str]:
        """What differs between a kept fingerprint and this one (``[]``: the same data).

        Args:
            saved: a [`state_dict()`][state_dict] read back from ``last.pt``.

        Returns:
            One phrase per kind of change, naming the count and the first image.
        """
        found = []
        before = dict(zip(saved["image_ids"].tolist(), zip(saved["images"].tolist(),
                                                              saved["people"].tolist())))  # fmt: skip
        now = dict(zip(self.image_ids.tolist(), zip(self.images.tolist(), self.people.tolist())))
        gone = sorted(set(before) - set(now))
        new = sorted(set(now) - set(before))
        if gone or new:
            parts = [f"{len(gone)} no longer listed, first: id {gone[0]}"] if gone else []
            parts += (
                [f"{len(new)} new, first: id {new[0]}, {self.names.get(new[0])}"] if new else []
            )
            found.append(f"the image ids ({' and '.join(parts)})")
        both = sorted(set(before) & set(now))
        for index, what in (
            (0, "the file name or size"),
            (1, "the people (ids, boxes or keypoints)"),
        ):
            differ = [i for i in both if before[i][index] != now[i][index]]
            if differ:
                first = differ[0]
                found.append(
                    f"{what} of {_plural(len(differ), 'image')} (first: id {first}, "
                    f"{self.names.get(first)})"
                )
        kept_categories = sorted(saved.get("categories", []))
        if kept_categories != self.categories:
            found.append(
                f"the categories trained on ({kept_categories} before, {self.categories} now)"
            )
        return found
