"""The keypoint set of a model: what its builders and constructors share (private).

A model is built for one [`KeypointSet`][cgalib.utils.keypoint_set.KeypointSet]: ``K`` is the
set's, its flip map is the flip test's (and the top-down flip augmentation's), and the set
is stored in the checkpoint through the builder's ``keypoint_set`` argument.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cgalib.utils.keypoint_set import KeypointSet

__all__ = ["builder_keypoints", "model_keypoint_set"]


def builder_keypoints(
    keypoint_set: KeypointSet | Mapping | None, num_keypoints: int | None
) -> tuple[KeypointSet | None, int]:
    """A builder's ``keypoint_set`` and ``num_keypoints`` arguments, reconciled.

    Args:
        keypoint_set: the set (or its ``to_dict()``), or ``None``.
        num_keypoints: ``K`` given to the builder, or ``None``.

    Returns:
        ``(keypoint_set, K)``: the set read, and ``K`` (the set's, else ``num_keypoints``,
        else COCO's 17).

    Raises:
        KeypointSetError: (a ``ValueError``) for a ``keypoint_set`` that is not a valid set.
        ValueError: for a ``num_keypoints`` other than the set's.
    """
    if keypoint_set is None:
        return None, 17 if num_keypoints is None else num_keypoints
    keypoint_set = KeypointSet.from_dict(keypoint_set, "keypoint_set")
    if num_keypoints is not None and num_keypoints != len(keypoint_set):
        raise ValueError(
            f"num_keypoints={num_keypoints} but the keypoint_set has {len(keypoint_set)} "
            "keypoints; leave num_keypoints out (it is the set's)"
        )
    return keypoint_set, len(keypoint_set)


def model_keypoint_set(
    keypoint_set: KeypointSet | Mapping | None,
    num_keypoints: int,
    flip_index: Sequence[int] | None,
) -> KeypointSet | None:
    """A model's keypoint set: the one given (checked against ``K`` and ``flip_index``),
    else COCO's when ``K = 17`` and ``flip_index`` is absent or COCO's, else ``None``.

    Args:
        keypoint_set: the set given to the model (or its ``to_dict()``), or ``None``.
        num_keypoints: the model's ``K`` (its head's outputs).
        flip_index: the flip map given to the model, or ``None``.

    Returns:
        The set, or ``None`` for a model of another ``K`` composed without one.

    Raises:
        ValueError: for a set of another ``K``, or with another flip map than
            ``flip_index``.
    """
    if keypoint_set is None:
        coco = KeypointSet.coco()
        same_flip = flip_index is None or tuple(flip_index) == coco.flip_index
        return coco if num_keypoints == len(coco) and same_flip else None
    keypoint_set = KeypointSet.from_dict(keypoint_set, "keypoint_set")
    if len(keypoint_set) != num_keypoints:
        raise ValueError(
            f"keypoint_set has {len(keypoint_set)} keypoints but the keypoint head "
            f"{num_keypoints} outputs; build the head for the set (num_keypoints="
            f"{len(keypoint_set)}, or leave num_keypoints out)"
        )
    if flip_index is not None and tuple(flip_index) != keypoint_set.flip_index:
        raise ValueError(
            f"flip_index {list(flip_index)} differs from the keypoint_set's "
            f"{list(keypoint_set.flip_index)}; give one of them"
        )
    return keypoint_set
