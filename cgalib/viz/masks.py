"""Draw people's masks (COCO ``segmentation``) over an image with matplotlib."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from cgalib.codecs.roi_masks import segmentation_to_mask
from cgalib.viz.poses import DISPLAY_SCORE_THRESHOLD

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["draw_masks"]


def draw_masks(
    ax: Axes,
    people: Sequence[dict],
    image_size: tuple[int, int],
    score_threshold: float = DISPLAY_SCORE_THRESHOLD,
    alpha: float = 0.45,
    colormap: str = "tab10",
    draw_size: tuple[int, int] | None = None,
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
        draw_size: ``(H, W)`` of the overlay, when smaller than the image (a large photo
            drawn at a bounded size): masks are sampled at that many points, so the overlay
            and its outlines take memory of the drawing's size, not the photo's.
            ``None``: the image's size.

    Returns:
        ``ax``.
    """
    import matplotlib

    height, width = int(image_size[0]), int(image_size[1])
    dh, dw = (height, width) if draw_size is None else (int(draw_size[0]), int(draw_size[1]))
    # the image pixel under the centre of each overlay pixel
    rows = np.minimum(((np.arange(dh) + 0.5) * height / dh).astype(int), height - 1)
    cols = np.minimum(((np.arange(dw) + 0.5) * width / dw).astype(int), width - 1)
    sampled = (dh, dw) != (height, width)
    # the centres of the first and last overlay pixels, in image coordinates
    extent = (0.5 * width / dw - 0.5, (dw - 0.5) * width / dw - 0.5,
              0.5 * height / dh - 0.5, (dh - 0.5) * height / dh - 0.5)  # fmt: skip
    colors = matplotlib.colormaps[colormap]
    overlay = np.zeros((dh, dw, 4), np.float32)
    drawn = 0
    for person in people:
        if "segmentation" not in person or person.get("score", 1.0) < score_threshold:
            continue
        mask = segmentation_to_mask(person["segmentation"], height, width)
        if sampled:
            mask = mask[rows][:, cols]
        if not mask.any():
            continue
        color = np.asarray(colors(drawn % colors.N))
        overlay[mask] = [*color[:3], alpha]
        if sampled:
            ax.contour(mask.astype(np.float32), levels=[0.5], colors=[color[:3]], linewidths=1,
                       extent=extent)  # fmt: skip
        else:
            ax.contour(mask.astype(float), levels=[0.5], colors=[color[:3]], linewidths=1)
        drawn += 1
    if drawn:
        ax.imshow(overlay, extent=(-0.5, width - 0.5, height - 0.5, -0.5), zorder=2)
    return ax
