"""Draw people's masks (COCO ``segmentation``) over an image with matplotlib."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from cgalib.codecs.roi_masks import segmentation_to_mask

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["draw_masks"]


def draw_masks(
    ax: Axes,
    people: Sequence[dict],
    image_size: tuple[int, int],
    score_threshold: float = 0.2,
    alpha: float = 0.45,
    colormap: str = "tab10",
) -> Axes:
    """Overlay each person's ``segmentation``: a semi-transparent fill and an outline, one
    colour per person.

    Draw the image first (e.g. [`draw_people()`][cgalib.viz.draw_people], which also draws the
    boxes); people without ``segmentation`` or with a ``score`` below ``score_threshold``
    are skipped.

    Args:
        ax: a matplotlib ``Axes`` showing the image.
        people: COCO-style dicts with ``segmentation`` and optional ``score``.
        image_size: ``(H, W)`` of the image.
        score_threshold: people with a lower ``score`` are skipped.
        alpha: opacity of the fill.
        colormap: matplotlib colour map the person colours cycle through.

    Returns:
        ``ax``.
    """
    import matplotlib

    height, width = int(image_size[0]), int(image_size[1])
    colors = matplotlib.colormaps[colormap]
    overlay = np.zeros((height, width, 4))
    drawn = 0
    for person in people:
        if "segmentation" not in person or person.get("score", 1.0) < score_threshold:
            continue
        mask = segmentation_to_mask(person["segmentation"], height, width)
        if not mask.any():
            continue
        color = np.asarray(colors(drawn % colors.N))
        overlay[mask] = [*color[:3], alpha]
        ax.contour(mask.astype(float), levels=[0.5], colors=[color[:3]], linewidths=1)
        drawn += 1
    if drawn:
        ax.imshow(overlay, extent=(-0.5, width - 0.5, height - 0.5, -0.5), zorder=2)
    return ax
