"""The model contract: the facts every pose model declares, and every caller reads.

A caller above the models (the [`Predictor`][cgalib.Predictor], evaluation, training, the CLI,
video, export) never checks a model's class: it asks the model.

- ``keypoint_set``: the [`KeypointSet`][cgalib.utils.keypoint_set.KeypointSet] the model
  predicts (names, skeleton, flip map, OKS sigmas; ``K`` is its length). Everything
  keypoint-shaped is derived from it.
- ``input_rule``: an [`InputRule`][InputRule], the images the model takes (its default size
  and the multiple every side must be).
- ``outputs``: what it predicts per person, ``"keypoints"``, ``"masks"`` or both.
- ``needs_boxes``: how it finds people. ``False``: in the whole image, on its own
  (bottom-up, [`CGANet`][cgalib.CGANet]; it trains on whole images). ``True``: one person per
  given box (top-down, [`TopDownPose`][cgalib.TopDownPose]; it predicts from person boxes that a
  detector or a file gives, and trains on person crops).
- ``flip_test``: whether inference averages the input with its mirror.
- ``predict_batch(images)``: inference as batched tensors in input pixels, the one call
  every caller makes (see [`PoseModel.predict_batch()`][PoseModel.predict_batch]), with
  ``prediction_names()`` its keys and ``check_exportable()`` its limits as a traced graph.

[`PoseModel`][PoseModel] is the base class of cgalib's models: it stores and checks these facts
once. A model of your own either derives from it or carries the same attributes;
[`check_pose_model()`][check_pose_model] checks either at a public boundary.

Example:
    >>> rule = InputRule((256, 192))
    >>> rule.resized(384), rule.resized((128, 96)).size
    (InputRule(size=(384, 384), multiple=32, square=False), (128, 96))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from cgalib.utils.keypoint_set import KeypointSet

__all__ = [
    "PICTURE_SIDE_FACTOR",
    "PREDICTIONS",
    "InputRule",
    "PoseModel",
    "check_outputs",
    "check_pose_model",
]

PREDICTIONS = ("keypoints", "masks")
"""What a model can predict per person (the values of its ``outputs``)."""

PICTURE_SIDE_FACTOR = 2.0
"""The largest letterbox side [`InputRule.side_for_picture()`][InputRule.side_for_picture] picks,
as a multiple of the training side."""


@dataclass(frozen=True)
class InputRule:
    """The images a model takes: its default size and the sides it accepts.

    A bottom-up model (``needs_boxes`` false) is fed whole images letterboxed so that their
    longer side is [`side`][side], each side padded up to a multiple of ``multiple``; a
    top-down model is fed person crops of exactly ``size``.

    Args:
        size: the default input ``(H, W)`` in pixels, the size the model was trained on.
        multiple: every input side must be a multiple of it (the backbone's largest
            stride).
        square: the model is sized by one side (its training inputs are square), so an
            ``(H, W)`` other than a square is refused by [`resized()`][resized].

    Raises:
        ValueError: for sides that are not positive multiples of ``multiple``.

    Examples:
        >>> InputRule.square_side(512).side
        512
        >>> InputRule.square_side(500)
        Traceback (most recent call last):
        ...
        ValueError: input size 500x500: every side must be a positive multiple of 32 (e.g. 512x512)
        >>> InputRule.square_side((256, 192))
        Traceback (most recent call last):
        ...
        ValueError: input_size 256x192: this model takes one side (its images are letterboxed to a square), e.g. 256
    """

    size: tuple[int, int]
    multiple: int = 32
    square: bool = False

    def __post_init__(self) -> None:
        if not (isinstance(self.multiple, int) and self.multiple >= 1):
            raise ValueError(f"multiple must be a positive integer, got {self.multiple!r}")
        size = _pair(self.size, "input size")
        object.__setattr__(self, "size", size)
        self._check(size)
        if self.square and size[0] != size[1]:
            raise ValueError(f"a square input rule needs equal sides, got {size[0]}x{size[1]}")

    @classmethod
    def square_side(cls, side: int | Sequence[int], multiple: int = 32) -> InputRule:
        """The rule of a model sized by one side, ``side x side``.

        Raises:
            ValueError: for an ``(H, W)`` that is not a square, or a side that is not a
                positive multiple of ``multiple``.
        """
        pair = _pair(side, "input_size")
        if pair[0] != pair[1]:
            raise ValueError(
                f"input_size {pair[0]}x{pair[1]}: this model takes one side (its images are "
                f"letterboxed to a square), e.g. {max(pair)}"
            )
        return cls(pair, multiple, square=True)

    @property
    def side(self) -> int:
        """The longer side, the letterbox size of whole images."""
        return max(self.size)

    def resized(self, size: int | Sequence[int] | None, name: str = "input_size") -> InputRule:
        """The same rule at another size (a user's ``input_size``), checked.

        Args:
            size: one side (a square, or the longer side of a letterbox) or ``(H, W)``;
                ``None`` keeps this rule.
            name: how messages name the argument.

        Returns:
            The rule at ``size``.

        Raises:
            ValueError: naming ``name``, for a side that is not a positive multiple of
                ``multiple``, or an ``(H, W)`` that is not square for a square rule.
        """
        if size is None:
            return self
        pair = _pair(size, name)
        if self.square and pair[0] != pair[1]:
            raise ValueError(
                f"{name} {pair[0]}x{pair[1]}: this model takes one side (its images are "
                f"letterboxed to a square), e.g. {max(pair)}"
            )
        self._check(pair, name)
        return InputRule(pair, self.multiple, self.square)

    def side_for_picture(self, height: int, width: int) -> int:
        """The letterbox side that suits one picture: its longer side, within the model's range.

        A picture is fed near its own resolution, so its people keep the size they have
        (a bottom-up model finds small people only when they cover enough heatmap cells,
        and large ones only when they fit its receptive field): the longer side rounded to
        the nearest multiple of ``multiple``, and at least [`side`][side] (the training
        size; a smaller picture is enlarged to it) and at most
        ``PICTURE_SIDE_FACTOR`` (2) times it (a larger picture is shrunk to that).

        Args:
            height: the picture's height in pixels.
            width: the picture's width in pixels.

        Returns:
            The side, a multiple of ``multiple``.

        Examples:
            >>> rule = InputRule.square_side(192)
            >>> rule.side_for_picture(100, 80), rule.side_for_picture(384, 384)
            (192, 384)
            >>> rule.side_for_picture(480, 640), rule.side_for_picture(3000, 4000)
            (384, 384)
            >>> InputRule.square_side(512).side_for_picture(480, 640)
            640
        """
        most = int(self.side * PICTURE_SIDE_FACTOR) // self.multiple * self.multiple
        near = (max(height, width) + self.multiple // 2) // self.multiple * self.multiple
        return min(max(near, self.side), most)

    def _check(self, size: tuple[int, int], name: str = "input size") -> None:
        if any(s <= 0 or s % self.multiple for s in size):
            up = "x".join(str(max(1, -(-s // self.multiple)) * self.multiple) for s in size)
            raise ValueError(
                f"{name} {size[0]}x{size[1]}: every side must be a positive multiple of "
                f"{self.multiple} (e.g. {up})"
            )


def check_outputs(outputs: str | Sequence[str]) -> tuple[str, ...]:
    """A model's ``outputs`` as a tuple, checked.

    Args:
        outputs: ``"keypoints"``, ``"masks"`` or both (one name or a sequence).

    Returns:
        The names as a tuple.

    Raises:
        ValueError: unless the names are ``"keypoints"`` and/or ``"masks"``, once each.

    Examples:
        >>> check_outputs("masks"), check_outputs(["keypoints", "masks"])
        (('masks',), ('keypoints', 'masks'))
    """
    outputs = (outputs,) if isinstance(outputs, str) else tuple(outputs)
    if not outputs or len(set(outputs)) != len(outputs) or not set(outputs) <= set(PREDICTIONS):
        raise ValueError(
            f"outputs must name 'keypoints', 'masks' or both, once each, got {outputs!r}"
        )
    return outputs


def _pair(size: int | Sequence[int], name: str) -> tuple[int, int]:
    """``size`` as ``(H, W)``: one int is a square."""
    if isinstance(size, int) and not isinstance(size, bool):
        return (size, size)
    if isinstance(size, torch.Size | tuple | list) and len(size) == 2:
        if all(isinstance(s, int) and not isinstance(s, bool) for s in size):
            return (int(size[0]), int(size[1]))
    raise ValueError(f"{name} must be one side or (H, W) in pixels, got {size!r}")


class PoseModel(nn.Module):
    """Base class of cgalib's pose models: the contract's facts, stored and checked once.

    Subclasses set the class attribute ``needs_boxes`` and implement
    [`predict_batch()`][predict_batch]; every setting is fixed at construction (read-only
    properties; a variant is rebuilt, e.g. with [`cgalib.create_variant()`][cgalib.create_variant]).

    Args:
        keypoint_set: the keypoints the model predicts (a
            [`KeypointSet`][cgalib.utils.keypoint_set.KeypointSet] or its ``to_dict()``); its flip
            map is the flip test's. Default: COCO's 17 person keypoints.
        input_rule: the images the model takes.
        outputs: what it predicts per person: ``"keypoints"``, ``"masks"`` or both, once
            each.
        flip_test: at inference, also run the mirrored input and average.

    Raises:
        ValueError: for an ``outputs`` that does not name ``"keypoints"``/``"masks"`` once
            each, a ``keypoint_set`` that is not a valid set, or an ``input_rule`` that is
            not an [`InputRule`][InputRule].
    """

    needs_boxes: ClassVar[bool] = False
    """``False``: finds the people in whole images on its own (bottom-up, trains on whole
    images). ``True``: one pose per given person box (top-down, trains on person crops)."""

    def __init__(
        self,
        keypoint_set: KeypointSet | Mapping | None,
        input_rule: InputRule,
        outputs: Sequence[str] = ("keypoints",),
        flip_test: bool = False,
    ) -> None:
        super().__init__()
        outputs = check_outputs(outputs)
        if not isinstance(input_rule, InputRule):
            raise ValueError(f"input_rule must be an InputRule, got {type(input_rule).__name__}")
        self._keypoint_set = KeypointSet.of(keypoint_set)
        self._input_rule = input_rule
        self._outputs = outputs
        self._flip_test = bool(flip_test)

    @property
    def keypoint_set(self) -> KeypointSet:
        """The keypoints the model predicts (names, skeleton, flip map, OKS sigmas)."""
        return self._keypoint_set

    @property
    def input_rule(self) -> InputRule:
        """The images the model takes (default size, the multiple of every side)."""
        return self._input_rule

    @property
    def outputs(self) -> tuple[str, ...]:
        """What the model predicts per person: ``"keypoints"``, ``"masks"`` or both."""
        return self._outputs

    @property
    def flip_test(self) -> bool:
        """Whether inference averages the input with its mirror."""
        return self._flip_test

    @property
    def num_keypoints(self) -> int:
        """``K``, the keypoints predicted per person (0 for a model without keypoints)."""
        return len(self._keypoint_set) if "keypoints" in self._outputs else 0

    def predict_batch(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Inference as batched tensors, in input pixels: the one call callers make.

        Args:
            images: `(B, 3, H, W)` RGB in 0..1, sides multiples of ``input_rule.multiple``.

        Returns:
            A bottom-up model: ``boxes`` `(B, k, 4)` xyxy, ``scores`` `(B, k)` in [0, 1]
            sorted descending, and per ``outputs`` ``keypoints`` `(B, k, K, 3)` as
            (x, y, probability), ``extended_boxes`` and ``masks`` (see the model). A
            top-down model, whose ``B`` images are person crops: ``keypoints``
            `(B, K, 3)`.
        """
        raise NotImplementedError

    def prediction_names(self) -> tuple[str, ...]:
        """The keys of [`predict_batch()`][predict_batch]'s dict, in its order (the outputs of an
        exported graph)."""
        raise NotImplementedError

    def check_exportable(self) -> None:
        """Refuse, with one line, what a traced graph of ``predict_batch`` cannot express
        (the base accepts everything; a model overrides this with its limits).

        Raises:
            ValueError: naming what the graph cannot hold and what to export instead.
        """

    def check_images(self, images: torch.Tensor, what: str = "images") -> None:
        """Refuse what the model cannot take, with one line: not `(B, 3, H, W)`, not
        float, or sides that are not multiples of ``input_rule.multiple``.

        Args:
            images: the model's input.
            what: how the message names them (e.g. ``"person crops"``).

        Raises:
            ValueError: naming the model, the problem and the fix.
        """
        name = type(self).__name__
        if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[1] != 3:
            shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
            raise ValueError(f"{name} expects {what} (B, 3, H, W), got {shape}")
        if not images.is_floating_point():
            raise ValueError(
                f"{name} expects float {what} in 0..1, got {images.dtype} (divide by 255)"
            )
        h, w = images.shape[-2:]
        m = self._input_rule.multiple
        if h % m or w % m:
            example = "x".join(map(str, self._input_rule.size))
            raise ValueError(
                f"{name} needs {what} whose sides are multiples of {m} (e.g. {example}), got "
                f"{h}x{w}"
            )

    def extra_repr(self) -> str:
        size = "x".join(map(str, self._input_rule.size))
        return f"input_size={size}, flip_test={self._flip_test}"


def check_pose_model(model: object, caller: str) -> None:
    """Check that ``model`` carries the contract, at a public boundary.

    Args:
        model: the model given to ``caller``.
        caller: how the message names the caller (e.g. ``"Predictor"``).

    Raises:
        TypeError: one line naming the first fact the model lacks.

    Examples:
        >>> check_pose_model(nn.Linear(2, 2), "Predictor")
        Traceback (most recent call last):
        ...
        TypeError: Predictor needs a pose model (cgalib.models.PoseModel: keypoint_set, input_rule, outputs, needs_boxes, predict_batch); Linear has no keypoint_set
    """
    wanted = {
        "keypoint_set": KeypointSet,
        "input_rule": InputRule,
        "outputs": tuple,
        "needs_boxes": bool,
    }
    head = (
        f"{caller} needs a pose model (cgalib.models.PoseModel: "
        f"{', '.join(wanted)}, predict_batch); {type(model).__name__}"
    )
    if not isinstance(model, nn.Module):
        raise TypeError(f"{head} is not a torch module")
    for name, kind in wanted.items():
        try:
            value = getattr(model, name)
        except AttributeError:
            raise TypeError(f"{head} has no {name}") from None
        if not isinstance(value, kind):
            raise TypeError(f"{head} has a {name} of type {type(value).__name__}")
    if not hasattr(type(model), "predict_batch"):
        raise TypeError(f"{head} has no predict_batch")
