"""Figures made of several panels: predictions next to ground truth."""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch

from cgalib.utils.keypoint_set import KeypointSet
from cgalib.viz.poses import DISPLAY_SCORE_THRESHOLD, draw_people

__all__ = ["save_prediction_grid"]


def save_prediction_grid(
    path: str | os.PathLike,
    images: Sequence[torch.Tensor],
    predictions: Sequence[Sequence[dict]],
    ground_truth: Sequence[Sequence[dict]] | None = None,
    score_threshold: float = DISPLAY_SCORE_THRESHOLD,
    columns: int = 2,
    keypoint_set: KeypointSet | None = None,
) -> None:
    """Save a grid of images with predicted (and optionally ground-truth) people.

    Args:
        path: the PNG/JPG to write.
        images: `(3, H, W)` images (``uint8`` or 0..1 floats).
        predictions: per image, COCO-style people (``keypoints``, ``bbox``, ``score`` and
            optionally ``extended_box`` as xyxy, drawn dashed).
        ground_truth: per image, COCO annotations to draw in a panel beside each prediction.
        score_threshold: people below it are not drawn; each prediction panel's title says
            the threshold, and says so when no one reached it.
        columns: most images per row (each takes two panels with ground truth); the
            default 2 keeps a row of prediction and truth pairs readable in a page's text
            column, and fewer images make a narrower figure, without empty panels.
        keypoint_set: the keypoints drawn (skeleton and colours); default COCO's.

    Raises:
        ValueError: for people whose keypoint count is not the set's.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    panels = 2 if ground_truth is not None else 1
    columns = max(1, min(columns, len(images)))
    rows = (len(images) + columns - 1) // columns
    fig, axes = plt.subplots(
        rows, columns * panels, figsize=(3.2 * columns * panels, 3.4 * rows), squeeze=False
    )
    for ax in axes.flat:
        ax.set_axis_off()
    for i, (image, people) in enumerate(zip(images, predictions)):
        r, c = divmod(i, columns)
        draw_people(
            axes[r, c * panels],
            image,
            people,
            score_threshold=score_threshold,
            extra_box_key="extended_box",
            title=_prediction_title(people, score_threshold),
            keypoint_set=keypoint_set,
        )
        if ground_truth is not None:
            draw_people(
                axes[r, c * panels + 1],
                image,
                ground_truth[i],
                keypoint_threshold=0.5,
                title="ground truth",
                keypoint_set=keypoint_set,
            )
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _prediction_title(people: Sequence[dict], score_threshold: float) -> str:
    """A prediction panel's title: the threshold, and whether anyone reached it.

    Examples:
        >>> _prediction_title([{"score": 0.5}, {"score": 0.1}], 0.3)
        'prediction, score >= 0.3: 1'
        >>> _prediction_title([{"score": 0.1}], 0.3)
        'prediction: no one scored 0.3 or more'
    """
    shown = sum(p.get("score", 1.0) >= score_threshold for p in people)
    if shown == 0:
        return f"prediction: no one scored {score_threshold:g} or more"
    return f"prediction, score >= {score_threshold:g}: {shown}"
