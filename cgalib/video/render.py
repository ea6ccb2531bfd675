"""Draw tracked people on a video frame with PIL (fast enough for every frame of a video).

Limbs and keypoints take the colours of [`cgalib.viz.draw_people()`][cgalib.viz.draw_people] (the keypoint set's
own, or by body side: left blue, right orange, centre green); each track's box and ``#id``
label take a colour of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from cgalib.utils.keypoint_set import KeypointSet
from cgalib.viz.poses import pose_style

__all__ = ["TRACK_COLORS", "draw_tracks"]

TRACK_COLORS: tuple[str, ...] = (
    "#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6",
    "#bcf60c", "#fabebe", "#008080", "#e6beff", "#9a6324", "#fffac8", "#800000", "#aaffc3",
)  # fmt: skip
"""Box and label colour of track ``i``: ``TRACK_COLORS[i % 16]`` (Sasha Trubetskoy's
distinct colours)."""


def draw_tracks(
    image: np.ndarray | torch.Tensor,
    people: Sequence[dict],
    keypoint_threshold: float = 0.2,
    keypoint_set: KeypointSet | None = None,
) -> np.ndarray:
    """Draw people (skeleton, keypoints, box and ``#track_id``) over a copy of a frame.

    Args:
        image: RGB ``uint8``, `(H, W, 3)` array or `(3, H, W)` tensor.
        people: person dicts with ``keypoints`` (flat ``[x, y, s] * K``), ``bbox`` (xywh)
            and optionally ``track_id``.
        keypoint_threshold: keypoints scored lower (and their limbs) are not drawn.
        keypoint_set: the people's keypoints (skeleton, and colours by body side unless
            the set has its own); default COCO's.

    Returns:
        The annotated frame, `(H, W, 3)` ``uint8``.

    Raises:
        ValueError: for a person whose keypoint count is not the set's.

    Examples:
        >>> frame = np.zeros((48, 64, 3), np.uint8)
        >>> p = {"track_id": 3, "bbox": [8, 4, 20, 40], "keypoints": [16.0, 20.0, 0.9] * 17}
        >>> out = draw_tracks(frame, [p])
        >>> out.shape, bool(out.any()), bool(frame.any())
        ((48, 64, 3), True, False)
    """
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu().permute(1, 2, 0).numpy()
    canvas = Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8))
    draw = ImageDraw.Draw(canvas)
    width = max(1, round(min(canvas.size) / 160))
    radius = width + 1
    font = ImageFont.load_default(size=max(10, 5 * width + 5))
    keypoint_set, point_colors, skeleton = pose_style(people, keypoint_set)
    for person in people:
        kps = np.asarray(person["keypoints"], dtype=float).reshape(-1, 3)
        ok = kps[:, 2] >= keypoint_threshold
        for (a, b), color in skeleton:
            if ok[a] and ok[b]:
                draw.line([tuple(kps[a, :2]), tuple(kps[b, :2])], fill=color, width=width)
        for j in np.flatnonzero(ok):
            x, y = kps[j, :2]
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], outline="black",
                         fill=point_colors[j])  # fmt: skip
        x, y, w, h = person["bbox"]
        track = person.get("track_id")
        color = TRACK_COLORS[track % len(TRACK_COLORS)] if track is not None else "#ffffff"
        draw.rectangle([x, y, x + w, y + h], outline=color, width=width)
        if track is not None:
            label = f"#{track}"
            box = draw.textbbox((x, y), label, font=font, anchor="lb")
            draw.rectangle(box, fill=color)
            draw.text((x, y), label, fill="black", font=font, anchor="lb")
    return np.asarray(canvas)
