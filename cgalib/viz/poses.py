"""Draw people (skeletons, keypoints, boxes) over images with matplotlib."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch
from PIL import Image

from cgalib.utils.image import to_rgb_tensor
from cgalib.utils.keypoint_set import KeypointSet, keypoint_side

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "DISPLAY_SCORE_THRESHOLD",
    "LIMB_COLORS",
    "PoseStyle",
    "check_people_keypoints",
    "draw_people",
    "keypoint_colors",
    "limb_colors",
    "limb_side",
    "pose_style",
]

DISPLAY_SCORE_THRESHOLD = 0.3
"""The person score below which what a person sees leaves a person out: the default of
[`Predictor`][cgalib.Predictor] results, ``cgalib predict`` and every drawing (mmpose draws
from 0.3, ultralytics keeps from 0.25). Evaluation keeps every candidate instead (COCO's
rule: AP ranks them by score)."""

LIMB_COLORS = {"left": "#1f77ff", "right": "#ff7f0e", "center": "#2ca02c"}
"""Colours by body side, after the COCO visualisations: left limbs blue, right limbs orange,
the head and the torso centre-line green.
"""


def limb_side(names: Sequence[str], a: int, b: int) -> str:
    """``"left"``, ``"right"`` or ``"center"`` for the limb between keypoints ``a`` and ``b``.

    A limb is on a side when both its keypoints are (sides read from the names by
    `keypoint_side()`).

    Examples:
        >>> limb_side(["left_hip", "left_knee", "right_hip"], 0, 1)
        'left'
        >>> limb_side(["left_hip", "left_knee", "right_hip"], 0, 2)
        'center'
    """
    sides = {keypoint_side(names[a])[0], keypoint_side(names[b])[0]}
    return sides.pop() if len(sides) == 1 else "center"


def keypoint_colors(keypoint_set: KeypointSet) -> list[str]:
    """The drawing colour of each keypoint: the set's ``colors``, else by body side.

    Examples:
        >>> keypoint_colors(KeypointSet.coco())[:2] == [LIMB_COLORS["center"], LIMB_COLORS["left"]]
        True
    """
    if keypoint_set.colors is not None:
        return list(keypoint_set.colors)
    return [LIMB_COLORS[side] for side in keypoint_set.sides]


def limb_colors(keypoint_set: KeypointSet) -> list[str]:
    """The drawing colour of each limb: the set's ``limb_colors``, else by body side
    ([`limb_side()`][limb_side])."""
    if keypoint_set.limb_colors is not None:
        return list(keypoint_set.limb_colors)
    return [LIMB_COLORS[limb_side(keypoint_set.names, a, b)] for a, b in keypoint_set.skeleton]


def check_people_keypoints(people: Sequence[dict], keypoint_set: KeypointSet) -> None:
    """Refuse people whose keypoint count is not the set's, before anything is drawn.

    Args:
        people: COCO-style dicts with flat ``keypoints``.
        keypoint_set: the set they are drawn with.

    Raises:
        ValueError: naming the person, its keypoint count and the set's (people without
            keypoints, from a segmentation-only model, pass).
    """
    k = len(keypoint_set)
    for i, person in enumerate(people):
        n = np.asarray(person.get("keypoints") or []).size
        if n and n != 3 * k:
            raise ValueError(
                f"person {i}: {n // 3 if n % 3 == 0 else n / 3:g} keypoints, but {k} names; "
                "pass the keypoint set the people were predicted with (keypoint_set=...)"
            )


class PoseStyle(NamedTuple):
    """How the people of one keypoint set are drawn (see [`pose_style()`][pose_style]).

    Attributes:
        keypoint_set: the set.
        point_colors: the colour of each keypoint.
        skeleton: ``((a, b), colour)`` of each limb.
    """

    keypoint_set: KeypointSet
    point_colors: list[str]
    skeleton: list[tuple[tuple[int, int], str]]


def pose_style(people: Sequence[dict], keypoint_set: KeypointSet | None = None) -> PoseStyle:
    """The set people are drawn with (COCO's when ``None``), checked against them, and its
    colours: what every drawing of poses (pictures, video frames) starts with.

    Args:
        people: COCO-style dicts with flat ``keypoints``.
        keypoint_set: the set they were predicted with.

    Returns:
        The [`PoseStyle`][PoseStyle].

    Raises:
        ValueError: for a person whose keypoint count is not the set's.

    Examples:
        >>> style = pose_style([])
        >>> len(style.point_colors), style.skeleton[0][0]
        (17, (15, 13))
    """
    keypoint_set = KeypointSet.of(keypoint_set)
    check_people_keypoints(people, keypoint_set)
    skeleton = list(zip(keypoint_set.skeleton, limb_colors(keypoint_set)))
    return PoseStyle(keypoint_set, keypoint_colors(keypoint_set), skeleton)


def _as_numpy_image(image) -> np.ndarray:
    """`(H, W, 3)` ``uint8``, by the image-value rule of [`to_rgb_tensor()`][cgalib.utils.to_rgb_tensor]."""
    return (
        to_rgb_tensor(image.detach() if isinstance(image, torch.Tensor) else image)
        .cpu()
        .permute(1, 2, 0)
        .numpy()
    )


def draw_people(
    ax: Axes,
    image: torch.Tensor | np.ndarray | Image.Image,
    people: Sequence[dict],
    score_threshold: float = DISPLAY_SCORE_THRESHOLD,
    keypoint_threshold: float = 0.2,
    box_key: str | None = "bbox",
    extra_box_key: str | None = None,
    title: str | None = None,
    keypoint_set: KeypointSet | None = None,
    image_size: tuple[int, int] | None = None,
) -> Axes:
    """Draw an image and its people on a matplotlib axis.

    Args:
        ax: a matplotlib ``Axes``.
        image: `(3, H, W)` tensor or `(H, W, 3)` array (``uint8`` 0..255 or floats 0..1, the
            rule of [`to_rgb_tensor()`][cgalib.utils.to_rgb_tensor]), or a PIL image.
        people: COCO-style dicts with ``keypoints`` (flat ``3K``: x, y, score or
            visibility; optional, a segmentation model gives none), optional ``score``, and boxes under ``box_key`` (COCO xywh) and
            ``extra_box_key`` (xyxy, drawn dashed, e.g. the DEA-extended boxes).
        score_threshold: people with a lower ``score`` are skipped.
        keypoint_threshold: keypoints with a lower third value are skipped (use 0.5 for
            ground truth, where the third value is the visibility flag 0/1/2).
        box_key: key of the COCO ``[x, y, w, h]`` box to draw solid; ``None`` for none.
        extra_box_key: key of an ``[x1, y1, x2, y2]`` box to draw dashed; ``None`` for none.
        title: the axis title.
        keypoint_set: the people's keypoints (skeleton and colours); default COCO's.
        image_size: ``(H, W)`` of the picture the people's coordinates are in, when
            ``image`` is a smaller copy of it (a large photo drawn at a bounded size): the
            copy is stretched over those coordinates. ``None``: the image's own size. The
            axes span exactly the picture: boxes and labels past its border are cut there.

    Returns:
        ``ax``.

    Raises:
        ValueError: for a person whose keypoint count is not the set's (nothing is drawn),
            or an image outside the image-value rule.
    """
    from matplotlib.patches import Rectangle

    keypoint_set, point_colors, skeleton = pose_style(people, keypoint_set)
    pixels = _as_numpy_image(image)
    height, width = image_size if image_size is not None else pixels.shape[:2]
    # pixel i spans [i - 0.5, i + 0.5) of the picture's coordinates, as imshow's own
    ax.imshow(pixels, extent=(-0.5, width - 0.5, height - 0.5, -0.5))
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    for person in people:
        if person.get("score", 1.0) < score_threshold:
            continue
        kps = np.asarray(person.get("keypoints") or [], dtype=float).reshape(-1, 3)
        ok = kps[:, 2] >= keypoint_threshold
        for (a, b), color in skeleton if len(kps) else ():  # a segmentation model has none
            if ok[a] and ok[b]:
                ax.plot(kps[[a, b], 0], kps[[a, b], 1], color=color, linewidth=2, alpha=0.9)
        for i in np.flatnonzero(ok):
            ax.scatter(
                kps[i, 0],
                kps[i, 1],
                s=10,
                zorder=3,
                edgecolors="black",
                linewidths=0.4,
                color=point_colors[i],
            )
        if box_key and box_key in person:
            x, y, w, h = person[box_key]
            ax.add_patch(Rectangle((x, y), w, h, fill=False, color="#ffff33", linewidth=1))
            if "score" in person:
                ax.text(
                    x,
                    y,
                    f"{person['score']:.2f}",
                    color="black",
                    fontsize=6,
                    bbox={"facecolor": "#ffff33", "pad": 0.5, "linewidth": 0},
                    clip_on=True,
                )
        if extra_box_key and extra_box_key in person:
            x1, y1, x2, y2 = person[extra_box_key]
            ax.add_patch(
                Rectangle(
                    (x1, y1),
                    x2 - x1,
                    y2 - y1,
                    fill=False,
                    color="#ff33ff",
                    linewidth=1,
                    linestyle="--",
                )
            )
    # the axes stay the picture's: a box past its border is cut there, never shrinks it
    ax.set_xlim(-0.5, width - 0.5)
    ax.set_ylim(height - 0.5, -0.5)
    return ax
