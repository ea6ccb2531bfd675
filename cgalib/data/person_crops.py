"""Top-down training data: one item per labelled person of a COCO keypoint set.

The items are not cropped yet: each is the person's whole image (``uint8``) with that
person's box and keypoints, so that the crop, its random scale, rotation and flip happen
together on the device, on a batch, in one kornia warp
([`TopDownAugmentation`][cgalib.data.TopDownAugmentation]). [`collate_person_crops()`][collate_person_crops] pads the
images of a batch to one size (right and bottom, so no coordinate moves).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from cgalib.data.coco_keypoints import CocoKeypoints
from cgalib.data.validate import labelled_mask

__all__ = ["PersonCrops", "collate_person_crops"]


class PersonCrops(Dataset):
    """The people of a [`CocoKeypoints`][cgalib.data.CocoKeypoints] set, one item each.

    People are listed from the annotation index without reading images: the people the
    data set's report keeps (non-crowd annotations of its keypoint categories, none of
    [`DROP_REASONS`][cgalib.data.DROP_REASONS]) with at least ``min_keypoints`` labelled keypoints
    of its ``K`` (the one rule, [`labelled_mask()`][cgalib.data.labelled_mask]: a point at
    ``(0, 0)`` is unlabelled) and a box of positive size inside the image. People without
    a labelled keypoint teach a top-down model nothing and are skipped. The data set has
    checked the annotation file and every image file up front, as for whole-image
    training.

    Each item is ``(image, target)``: the person's image as ``uint8`` `(3, H, W)` (what
    ``CocoKeypoints`` returns) and a dict with ``boxes`` `(1, 4)` xyxy, ``keypoints``
    `(1, K, 3)` (image pixels), ``ann_ids`` `(1,)`, ``image_id`` and ``orig_size``.

    Args:
        dataset: the keypoint set, without ``input_size`` (crops are cut from the original
            pixels).
        min_keypoints: skip people with fewer labelled keypoints (at least 1).

    Raises:
        ValueError: if ``dataset`` letterboxes its images, ``min_keypoints < 1``, or an
            annotation's ``keypoints`` or ``bbox`` is malformed (naming the file and the
            annotation id).

    Examples:
        >>> import tempfile
        >>> from cgalib.data import make_synthetic_coco
        >>> with tempfile.TemporaryDirectory() as d:
        ...     paths = make_synthetic_coco(d, num_train=2, num_val=0, size=96, min_height=40)
        ...     people = PersonCrops(CocoKeypoints(paths["train_images"], paths["train_ann"]))
        ...     image, target = people[0]
        >>> image.dtype, target["boxes"].shape, target["keypoints"].shape
        (torch.uint8, torch.Size([1, 4]), torch.Size([1, 17, 3]))
    """

    def __init__(self, dataset: CocoKeypoints, min_keypoints: int = 1) -> None:
        if getattr(dataset, "input_size", None) is not None:
            raise ValueError(
                "PersonCrops needs the original pixels: build CocoKeypoints without input_size "
                f"(got input_size={dataset.input_size})"
            )
        if min_keypoints < 1:
            raise ValueError(f"min_keypoints must be >= 1, got {min_keypoints}")
        self.dataset = dataset
        self.min_keypoints = int(min_keypoints)
        self.people: list[tuple[int, int]] = []  # (index into dataset, annotation id)
        coco = dataset.coco
        num_keypoints = dataset.num_keypoints  # K of the data set's keypoint set
        dropped = dataset.report.dropped_ids
        for index, image_id in enumerate(dataset.ids):
            info = coco.imgs[image_id]
            for ann in coco.imgToAnns.get(image_id, []):
                if ann.get("category_id") not in dataset.category_ids or ann.get("iscrowd", 0):
                    continue
                if ann["id"] in dropped:
                    continue
                if _labelled(ann, num_keypoints, dataset) < self.min_keypoints:
                    continue
                if _inside(ann, info, dataset):
                    self.people.append((index, int(ann["id"])))

    def __len__(self) -> int:
        return len(self.people)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(people={len(self)}, dataset={self.dataset!r})"

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        image_index, ann_id = self.people[index]
        image, target = self.dataset[image_index]
        rows = (target["ann_ids"] == ann_id).nonzero().flatten()
        if len(rows) != 1:
            raise ValueError(
                f"annotation {ann_id} of {self.dataset.ann_file} is listed as a person but "
                "CocoKeypoints did not return it; check its bbox and keypoints"
            )
        row = rows[0]
        return image, {
            "boxes": target["boxes"][row : row + 1],
            "keypoints": target["keypoints"][row : row + 1],
            "ann_ids": target["ann_ids"][row : row + 1],
            "image_id": target["image_id"],
            "orig_size": target["orig_size"],
        }


def _labelled(ann: dict, num_keypoints: int, dataset: CocoKeypoints) -> int:
    kps = ann.get("keypoints") or []
    if not isinstance(kps, (list, tuple)) or len(kps) not in (0, 3 * num_keypoints):
        got = len(kps) if isinstance(kps, (list, tuple)) else type(kps).__name__
        raise ValueError(
            f"annotation {ann.get('id')} in {dataset.ann_file} has {got} keypoint values, "
            f"expected {3 * num_keypoints} (x, y, v for each of {num_keypoints} keypoints)"
        )
    try:
        return int(labelled_mask(np.asarray(kps, np.float64).reshape(-1, 3)).sum())
    except (TypeError, ValueError):
        raise ValueError(
            f"annotation {ann.get('id')} in {dataset.ann_file} has non-numeric keypoint values"
        ) from None


def _inside(ann: dict, info: dict, dataset: CocoKeypoints) -> bool:
    """Whether the box, clipped to the image, has a positive size (as CocoKeypoints keeps it)."""
    bbox = ann.get("bbox")
    try:
        x, y, w, h = (float(v) for v in bbox)
    except (TypeError, ValueError):
        raise ValueError(
            f"annotation {ann.get('id')} in {dataset.ann_file} has bbox {bbox!r}, "
            "expected [x, y, width, height]"
        ) from None
    width = float(info.get("width", x + w))
    height = float(info.get("height", y + h))
    return min(x + w, width) > max(x, 0.0) and min(y + h, height) > max(y, 0.0)


def collate_person_crops(
    batch: Sequence[tuple[torch.Tensor, dict]],
) -> tuple[torch.Tensor, list[dict]]:
    """Stack person items into one ``uint8`` batch, padding images right and bottom with zeros.

    Padding right and bottom moves no coordinate, and crops reaching past the image see
    zeros either way. Targets stay a list of dicts.

    Args:
        batch: ``(image, target)`` items of [`PersonCrops`][PersonCrops].

    Returns:
        Images `(B, 3, H_max, W_max)` and the B targets.

    Examples:
        >>> images, targets = collate_person_crops(
        ...     [(torch.ones(3, 4, 6, dtype=torch.uint8), {}), (torch.ones(3, 5, 2, dtype=torch.uint8), {})])
        >>> images.shape, images[1, 0, :, 2:].sum().item(), len(targets)
        (torch.Size([2, 3, 5, 6]), 0, 2)
    """
    if not batch:
        raise ValueError("collate_person_crops needs at least one item")
    images = [b[0] for b in batch]
    height = max(i.shape[-2] for i in images)
    width = max(i.shape[-1] for i in images)
    out = images[0].new_zeros(len(images), images[0].shape[0], height, width)
    for i, image in enumerate(images):
        out[i, :, : image.shape[-2], : image.shape[-1]] = image
    return out, [b[1] for b in batch]
