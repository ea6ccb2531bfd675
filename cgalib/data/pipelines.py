"""What a model trains on: the data pipeline its contract asks for.

The model says how it finds people (``needs_boxes``) and the images it takes
(``input_rule``); [`training_pipeline()`][training_pipeline] turns a checked keypoint data set into
the matching data set, collate function and device augmentation:

- ``needs_boxes`` false (bottom-up, e.g. [`CGANet`][cgalib.CGANet]): whole images letterboxed
  to ``input_rule.side`` ([`CocoKeypoints.letterboxed()`][cgalib.data.CocoKeypoints.letterboxed],
  [`collate_letterboxed()`][cgalib.data.collate_letterboxed]) and
  [`PoseAugmentation`][cgalib.data.PoseAugmentation] to the same side;
- ``needs_boxes`` true (top-down, e.g. [`TopDownPose`][cgalib.TopDownPose]): one item per person
  ([`PersonCrops`][cgalib.data.PersonCrops], [`collate_person_crops()`][cgalib.data.collate_person_crops])
  and [`TopDownAugmentation`][cgalib.data.TopDownAugmentation] cutting crops of ``input_rule.size``.

Both augmentations flip with the model's keypoint set's flip map.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from cgalib.data.augment import PoseAugmentation
from cgalib.data.coco_keypoints import CocoKeypoints, collate_letterboxed
from cgalib.data.crop_augment import TopDownAugmentation
from cgalib.data.person_crops import PersonCrops, collate_person_crops
from cgalib.models.contract import PoseModel, check_pose_model
from cgalib.utils.keypoint_set import KeypointSet

__all__ = ["TrainingPipeline", "training_pipeline"]

Collate = Callable[[Sequence[tuple[torch.Tensor, dict]]], tuple[torch.Tensor, list[dict]]]


@dataclass(frozen=True)
class TrainingPipeline:
    """The data a model trains on (what [`train_model()`][cgalib.engine.train_model] takes).

    Attributes:
        dataset: yields ``(image, target)`` items, images ``uint8`` `(3, H, W)`.
        collate_fn: batches items into ``uint8`` images `(B, 3, H, W)` and a list of B
            target dicts.
        augment: the device augmentation of ``(images, targets)`` batches, returning
            float images in 0..1 (``None``: none).
    """

    dataset: Dataset
    collate_fn: Collate
    augment: nn.Module | None


def _upper_body(
    keypoints: KeypointSet, augment_kwargs: Mapping[str, Any], source: Any
) -> dict[str, tuple[int, ...]]:
    """The ``upper_body`` of half-body crops: the keypoint set's; COCO's default for COCO;
    refused when half-body crops are asked for a set that has none."""
    if keypoints.upper_body is not None:
        return {"upper_body": keypoints.upper_body}
    if (
        augment_kwargs.get("half_body_prob", 0)
        and "upper_body" not in augment_kwargs
        and not keypoints.is_coco()
    ):
        raise ValueError(
            f"half-body crops need the upper-body keypoints of {source}'s "
            f'{keypoints.describe()}: add an "upper_body" list of names to its category, or '
            "pass upper_body=[...] in the augmentation arguments"
        )
    return {}


def training_pipeline(
    model: PoseModel,
    people: CocoKeypoints,
    augment: bool = True,
    augment_kwargs: Mapping[str, Any] | None = None,
    device: torch.device | str | None = None,
) -> TrainingPipeline:
    """The data set, collate function and augmentation that ``model`` trains on.

    Chosen by the model's contract: ``needs_boxes`` false trains on whole images
    letterboxed to ``model.input_rule.side`` with [`PoseAugmentation`][cgalib.data.PoseAugmentation];
    ``needs_boxes`` true on person crops of ``model.input_rule.size`` with
    [`TopDownAugmentation`][cgalib.data.TopDownAugmentation] (its half-body crops use the keypoint
    set's ``upper_body``). Both flip with ``model.keypoint_set.flip_index``.

    Args:
        model: a pose model (see [`cgalib.models.contract`][cgalib.models.PoseModel]), built for
            ``people``'s keypoints.
        people: the keypoint data set, read without ``input_size`` (original pixels).
        augment: build the augmentation (``False``: ``augment`` is ``None``; images are
            only converted to float by the loop).
        augment_kwargs: overrides of the augmentation's defaults (the flip map, and the
            top-down ``upper_body``, are the keypoint set's unless given here).
        device: where the augmentation runs (``None``: where it was built, the CPU).

    Returns:
        The [`TrainingPipeline`][TrainingPipeline].

    Raises:
        TypeError: for a ``model`` that does not carry the pose-model contract.
        ValueError: for half-body crops of a keypoint set that names no upper body (and no
            ``upper_body`` in ``augment_kwargs``), or a bad augmentation argument.

    Example:
        >>> import tempfile
        >>> from cgalib.data import make_synthetic_coco
        >>> from cgalib.registry import create_model
        >>> model = create_model("topdown_tnet_d1w16", input_size=(64, 32))
        >>> with tempfile.TemporaryDirectory() as d:
        ...     paths = make_synthetic_coco(d, num_train=2, num_val=0, size=96, min_height=40)
        ...     people = CocoKeypoints(paths["train_images"], paths["train_ann"])
        ...     pipeline = training_pipeline(model, people)
        ...     images, targets = pipeline.collate_fn([pipeline.dataset[0], pipeline.dataset[1]])
        ...     crops, targets = pipeline.augment(images, targets)
        >>> type(pipeline.dataset).__name__, crops.shape
        ('PersonCrops', torch.Size([2, 3, 64, 32]))
    """
    check_pose_model(model, "training_pipeline")
    kwargs = dict(augment_kwargs or {})
    flip_index = model.keypoint_set.flip_index
    if model.needs_boxes:
        dataset, collate = PersonCrops(people), collate_person_crops
        halves = _upper_body(model.keypoint_set, kwargs, people.ann_file)
        make = partial(TopDownAugmentation, model.input_rule.size, flip_index=flip_index, **halves)
    else:
        side = model.input_rule.side
        dataset, collate = people.letterboxed(side), collate_letterboxed
        make = partial(PoseAugmentation, output_size=side, flip_index=flip_index)
    aug = make(**kwargs).to(device) if augment else None
    return TrainingPipeline(dataset, collate, aug)
