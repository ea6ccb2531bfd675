"""A PyTorch dataset over COCO keypoint annotations (real COCO, the synthetic set, any
COCO-format keypoint set)."""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from cgalib.codecs.letterbox import letterbox, letterbox_target
from cgalib.codecs.roi_masks import segmentation_to_mask
from cgalib.data.images import read_annotated_image
from cgalib.data.masks import check_segmentations
from cgalib.data.validate import (
    AnnotationError,
    Categories,
    check_image_files,
    labelled_mask,
    read_keypoint_set,
    validate_coco,
    warn_report,
)

__all__ = ["CocoKeypoints", "collate", "collate_letterboxed", "find_split"]


class CocoKeypoints(Dataset):
    """People with `K` keypoints from a COCO keypoint file and its image folder.

    Each item is ``(image, target)``: the image as ``uint8`` `(3, H, W)` RGB (grayscale,
    palette, RGBA and 16-bit files are converted; ``uint8`` keeps worker-to-main-process
    traffic 4x smaller than float; convert on the device, e.g. with
    [`PoseAugmentation`][cgalib.data.PoseAugmentation]) and a dict of tensors:

    - ``boxes`` `(N, 4)` float32 xyxy pixels (COCO ``bbox`` converted, clipped to the image)
    - ``keypoints`` `(N, K, 3)` float32 ``(x, y, v)``, pixel indices; unlabelled entries
      are zero: ``v=0``, and points at ``(0, 0)`` marked labelled (how CVAT and Label
      Studio write unlabelled points; see [`labelled_mask()`][cgalib.data.labelled_mask]) (`K`
      is the length of the category's ``keypoints`` names, 17 for COCO)
    - ``areas`` `(N,)` float32 and ``ann_ids`` `(N,)` int64
    - ``crowd_boxes`` `(M, 4)` float32 xyxy and ``ignore_mask`` `(H, W)` bool: the
      ``iscrowd=1`` regions (their segmentation), where no negatives should be taken
    - ``masks`` `(N, H, W)` bool, only with ``with_masks=True``: each person's
      ``segmentation`` (polygons or RLE, rasterised by pycocotools); people without one
      are dropped and counted ([`NO_SEGMENTATION`][cgalib.data.NO_SEGMENTATION]), a malformed one is
      an ``AnnotationError`` naming the annotation id ([`check_segmentations()`][cgalib.data.check_segmentations])
    - ``labels`` `(N,)` int64, only with ``separate_categories=True``: each person's
      category as an index into `category_ids`
    - ``image_id`` int64 scalar, ``orig_size`` `(2,)` int64 ``(H, W)`` of the file
    - with ``input_size``: ``scale`` float32 scalar and ``size`` `(2,)`, see
      [`letterbox_target()`][cgalib.data.letterbox_target]

    The annotation file is checked once, up front, by [`validate_coco()`][cgalib.data.validate_coco]
    (a malformed file raises one error naming the annotation id), as evaluation checks it.
    People without a labelled keypoint but with a box are kept (they are
    detection targets; their keypoints are all ``v=0``); people without a box, with a
    zero-area box, with a box outside their image, repeating an earlier person or with
    fewer than ``min_keypoints`` labelled keypoints are dropped, and counted by reason in
    `report` (``print`` it). What was converted (keypoints at ``(0, 0)``) and the suspect
    boxes kept (past the image edge, far from their keypoints) are warned once, as
    [`AnnotationWarning`][cgalib.data.AnnotationWarning]s ([`warn_report()`][cgalib.data.warn_report]).

    Every listed image file is checked up front too, before the first item
    ([`check_image_files()`][cgalib.data.check_image_files]): a missing, unreadable, truncated or
    damaged file, or one whose size as displayed differs from its annotation, refuses the
    set with one line naming it (never a DataLoader-worker traceback mid-epoch); files
    with the same bytes are warned. Images are read by
    [`read_annotated_image()`][cgalib.data.read_annotated_image], as evaluation reads them: upright
    as displayed (the EXIF orientation tag applied), so an annotation's ``height``,
    ``width`` and coordinates must describe the displayed picture, as those of annotation
    tools that show it upright do.
    Images without people are kept as negatives unless ``keep_empty=False``.

    **Keypoint sets.** The people are those of the category named ``"person"``, or of the
    ``categories`` chosen (e.g. the species of an animal set, which share one
    ``keypoints`` list): they load as one class, or, with ``separate_categories=True``,
    with a ``labels`` entry saying which category each person has. The
    `keypoint_set` (names, skeleton, flip map, OKS sigmas) is read from the category
    (`read_keypoint_set()`); its flip map is what
    [`PoseAugmentation`][cgalib.data.PoseAugmentation] needs for other sets than COCO's.

    Args:
        root: the image folder (``file_name`` is relative to it).
        ann_file: the annotation file.
        keep_empty: keep images without (non-crowd) people.
        with_masks: also return the instance masks (and check every segmentation up
            front); keypoint-only training leaves it off and never reads one.
        input_size: if set, letterbox images and targets to ``input_size x input_size``
            in the worker (see [`letterbox()`][cgalib.data.letterbox]).
        min_keypoints: drop people with fewer labelled keypoints (0 keeps all).
        categories: the keypoint categories to read (see [`Categories`][cgalib.data.Categories];
            default the one named ``"person"``).
        separate_categories: give each person a ``labels`` entry (its category) instead
            of reading all categories as one class.
        flip_index: the keypoint set's flip map, when its names do not give it.
        sigmas: the keypoint set's OKS sigmas, overriding the category's.

    Attributes:
        report: the [`AnnotationReport`][cgalib.data.AnnotationReport] of the annotation file (images,
            people kept and dropped by reason, crowd regions, conversions, suspect boxes).
        image_report: the [`ImageFilesReport`][cgalib.data.ImageFilesReport] of the image
            files (files with the same bytes).
        category_id: the (first) keypoint category's id.
        category_ids: the ids of the keypoint categories.
        keypoint_set: the [`KeypointSet`][cgalib.utils.keypoint_set.KeypointSet] of the file.
        num_keypoints: `K`.

    Raises:
        FileNotFoundError: for a missing annotation file or image folder, or images the
            file lists that are not in the folder (the count and the first one).
        ImageFileError: (a ``ValueError``) for image files that are not images,
            truncated, damaged or of another size than their annotation (the count by
            problem and the first one).
        AnnotationError: (a ``ValueError``) for a malformed annotation file, naming the
            file and the annotation id (see [`check_coco()`][cgalib.data.check_coco]), a keypoint
            category without keypoint names, or a keypoint set that cannot be used (names
            that cannot be paired for the flip, a wrong flip map, sigmas of the wrong
            count; see `read_keypoint_set()`).

    Warns:
        KeypointSetWarning: for drawing fields dropped (a skeleton written for another
            set or 0-based, bad limbs, colours of the wrong count) and for keypoints whose
            mirror the names do not tell (see
            `cgalib.utils.keypoint_set.flip_index_from_names()`).
        AnnotationWarning: for keypoints at ``(0, 0)`` read as unlabelled and for suspect
            boxes (counts and an example annotation id).
        ImageWarning: for image files with the same bytes.

    Examples:
        >>> import tempfile
        >>> from cgalib.data import make_synthetic_coco
        >>> with tempfile.TemporaryDirectory() as d:
        ...     paths = make_synthetic_coco(d, num_train=2, num_val=0, size=96)
        ...     ds = CocoKeypoints(paths["train_images"], paths["train_ann"], input_size=64)
        ...     image, target = ds[0]
        >>> len(ds), image.shape, image.dtype, target["keypoints"].shape[1:]
        (2, torch.Size([3, 64, 64]), torch.uint8, torch.Size([17, 3]))
    """

    def __init__(
        self,
        root: str | os.PathLike,
        ann_file: str | os.PathLike,
        keep_empty: bool = True,
        with_masks: bool = False,
        input_size: int | None = None,
        min_keypoints: int = 0,
        categories: Categories = None,
        separate_categories: bool = False,
        flip_index: Sequence[int] | None = None,
        sigmas: Sequence[float] | None = None,
    ) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"image folder not found: {self.root}")
        self.ann_file = Path(ann_file)
        self.coco, self.report = validate_coco(
            self.ann_file, min_keypoints=min_keypoints, categories=categories
        )
        if with_masks:
            self.report = check_segmentations(self.coco, self.report)
        warn_report(self.report)
        self.category_id = self.report.category_id
        self.category_ids = self.report.category_ids
        self.num_keypoints = self.report.num_keypoints
        if not self.num_keypoints:
            name = self.report.category_names[0]
            raise AnnotationError(
                f"{self.ann_file}: category {name!r} has no 'keypoints' name list; "
                "CocoKeypoints reads keypoint files (such as person_keypoints_*.json)"
            )
        self.keypoint_set = read_keypoint_set(self.coco.dataset, self.report, flip_index, sigmas)
        self.separate_categories = separate_categories
        self.image_report = check_image_files(
            self.root, self.coco.dataset["images"], str(self.ann_file)
        )
        self.keep_empty = keep_empty
        self.with_masks = with_masks
        self.input_size = input_size
        self.min_keypoints = min_keypoints
        ids = sorted(self.coco.imgs)
        if not keep_empty:
            ids = [i for i in ids if any(not a.get("iscrowd", 0) for a in self._anns(i))]
        self.ids = ids

    def _anns(self, image_id: int) -> list[dict]:
        """The image's crowd regions and kept people."""
        dropped = self.report.dropped_ids
        return [
            a
            for a in self.coco.imgToAnns.get(image_id, [])
            if a.get("category_id") in self.category_ids and a["id"] not in dropped
        ]

    def __len__(self) -> int:
        return len(self.ids)

    def letterboxed(self, input_size: int | None) -> CocoKeypoints:
        """The same data set letterboxed to another input size, without reading the
        annotation file again.

        Training reads the file (and its keypoint set) before it builds the model, whose
        ``input_size`` then decides the letterbox.

        Args:
            input_size: the side images and targets are letterboxed to (``None``: the
                original pixels).

        Returns:
            A new [`CocoKeypoints`][CocoKeypoints] sharing this one's checked annotations; this one
            is unchanged.

        Raises:
            ValueError: for a side that is not a positive integer.
        """
        if input_size is not None and not (type(input_size) is int and input_size > 0):
            raise ValueError(f"input_size must be a positive integer side, got {input_size!r}")
        other = copy.copy(self)
        other.input_size = input_size
        return other

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(root={str(self.root)!r}, ann_file={str(self.ann_file)!r}, "
            f"images={len(self)}, input_size={self.input_size})"
        )

    def _mask(self, ann: dict, height: int, width: int) -> np.ndarray:
        seg = ann.get("segmentation")
        if seg:
            return segmentation_to_mask(seg, height, width)
        m = np.zeros((height, width), bool)
        x, y, w, h = ann["bbox"]
        m[int(y) : int(np.ceil(y + h)), int(x) : int(np.ceil(x + w))] = True
        return m

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        image_id = self.ids[index]
        info = self.coco.imgs[image_id]
        image = read_annotated_image(self.root, info)
        height, width = image.shape[-2:]
        boxes, keypoints, areas, ann_ids, masks, labels = [], [], [], [], [], []
        crowd_boxes, ignore = [], np.zeros((height, width), bool)
        for ann in self._anns(image_id):
            x, y, w, h = (float(v) for v in ann.get("bbox", (0, 0, 0, 0)))
            box = [max(x, 0.0), max(y, 0.0), min(x + w, float(width)), min(y + h, float(height))]
            if ann.get("iscrowd", 0):
                crowd_boxes.append(box)
                ignore |= self._mask(ann, height, width)
                continue
            if box[2] <= box[0] or box[3] <= box[1]:
                # outside the image: the report counts these only when the image entry
                # has its width and height, which COCO files always do
                continue
            kps = np.zeros((self.num_keypoints, 3), np.float32)
            if ann.get("keypoints"):
                kps = np.asarray(ann["keypoints"], np.float32).reshape(self.num_keypoints, 3)
                kps[~labelled_mask(kps)] = 0.0
            boxes.append(box)
            keypoints.append(kps)
            areas.append(float(ann.get("area", w * h)))
            ann_ids.append(int(ann["id"]))
            labels.append(self.category_ids.index(ann["category_id"]))
            if self.with_masks:
                masks.append(self._mask(ann, height, width))
        n = len(boxes)
        target: dict[str, torch.Tensor] = {
            "boxes": torch.tensor(boxes, dtype=torch.float32).reshape(n, 4),
            "keypoints": torch.from_numpy(np.stack(keypoints))
            if n
            else torch.zeros(0, self.num_keypoints, 3),
            "areas": torch.tensor(areas, dtype=torch.float32),
            "ann_ids": torch.tensor(ann_ids, dtype=torch.int64),
            "crowd_boxes": torch.tensor(crowd_boxes, dtype=torch.float32).reshape(-1, 4),
            "ignore_mask": torch.from_numpy(ignore),
            "image_id": torch.tensor(image_id, dtype=torch.int64),
            "orig_size": torch.tensor([height, width], dtype=torch.int64),
        }
        if self.separate_categories:
            target["labels"] = torch.tensor(labels, dtype=torch.int64)
        if self.with_masks:
            target["masks"] = (
                torch.from_numpy(np.stack(masks))
                if n
                else torch.zeros(0, height, width, dtype=torch.bool)
            )
        if self.input_size is not None:
            image, scale = letterbox(image, self.input_size)
            target = letterbox_target(target, scale, self.input_size)
        return image, target


def collate(batch: Sequence[tuple[torch.Tensor, dict]]) -> tuple[list[torch.Tensor], list[dict]]:
    """Batch ``(image, target)`` pairs of any sizes into a list of images and a list of targets.

    Examples:
        >>> images, targets = collate([(torch.zeros(3, 4, 5), {}), (torch.zeros(3, 6, 2), {})])
        >>> [tuple(i.shape) for i in images], len(targets)
        ([(3, 4, 5), (3, 6, 2)], 2)
    """
    return [b[0] for b in batch], [b[1] for b in batch]


def collate_letterboxed(
    batch: Sequence[tuple[torch.Tensor, dict]],
) -> tuple[torch.Tensor, list[dict]]:
    """Stack same-size (letterboxed) images into `(B, 3, S, S)`; targets stay a list of dicts.

    Raises:
        ValueError: if the images differ in size (use ``CocoKeypoints(input_size=...)``).

    Examples:
        >>> images, targets = collate_letterboxed([(torch.zeros(3, 8, 8), {})] * 2)
        >>> images.shape, len(targets)
        (torch.Size([2, 3, 8, 8]), 2)
    """
    images, targets = collate(batch)
    shapes = {tuple(i.shape) for i in images}
    if len(shapes) != 1:
        raise ValueError(
            f"collate_letterboxed needs images of one size, got {sorted(shapes)}; "
            "letterbox them first (CocoKeypoints(..., input_size=S))"
        )
    return torch.stack(images), targets


def find_split(
    root: str | os.PathLike,
    split: str,
    images: str | os.PathLike | None = None,
    ann_file: str | os.PathLike | None = None,
) -> tuple[Path, Path]:
    """Locate a split's image folder and annotation file under a data root.

    Looks for ``root/{split}`` or ``root/{split}2017`` and
    ``root/annotations/person_keypoints_{split}.json`` or ``..._{split}2017.json`` (the
    synthetic set's and COCO's layouts). Explicit ``images``/``ann_file`` win.

    Args:
        root: the data root.
        split: ``"train"`` or ``"val"`` (any name).
        images: the image folder, if not in the default place.
        ann_file: the annotation file, if not in the default place.

    Returns:
        ``(image_folder, annotation_file)``.

    Raises:
        FileNotFoundError: listing the places that were tried.
    """
    root = Path(root)

    def pick(given, candidates: list[Path], what: str, test) -> Path:
        if given is not None:
            candidates = [Path(given)]
        for c in candidates:
            if test(c):
                return c
        tried = ", ".join(str(c) for c in candidates)
        raise FileNotFoundError(f"no {what} for split {split!r}; tried {tried}")

    img_dir = pick(images, [root / split, root / f"{split}2017"], "image folder", Path.is_dir)
    ann = pick(
        ann_file,
        [root / "annotations" / f"person_keypoints_{s}.json" for s in (split, f"{split}2017")],
        "annotation file",
        Path.is_file,
    )
    return img_dir, ann
