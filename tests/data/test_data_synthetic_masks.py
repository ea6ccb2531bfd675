"""The synthetic set's person masks against the pixels each person really paints.

Each image is rendered again without one person (same random stream, the person's drawing
left out): the pixels that change are that person's visible silhouette in the picture,
found independently of the generator's owner map. Its RLE must match them (IoU > 0.9),
occluded people included.
"""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from cgalib.data import synthetic

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def _render(monkeypatch, index: int, hidden: int | None = None):
    layout = synthetic._layout

    def hide(*args, **kwargs):
        people = layout(*args, **kwargs)
        if hidden is not None and hidden < len(people):
            people[hidden] = {**people[hidden], "prims": []}
        return people

    with monkeypatch.context() as m:
        m.setattr(synthetic, "_layout", hide)
        image, anns = synthetic.synthetic_sample(3, index, size=128, min_height=32)
    return np.asarray(image).astype(int), anns


def painted_silhouette_ious(monkeypatch, images: int = 6) -> list[tuple[float, bool]]:
    """``(IoU, occluded)`` of every annotated person of the first ``images`` images."""
    out = []
    for index in range(images):
        pixels, anns = _render(monkeypatch, index)
        masks = [mask_utils.decode(a["segmentation"]).astype(bool) for a in anns]
        for hidden in range(8):
            other, _ = _render(monkeypatch, index, hidden)
            changed = np.abs(pixels - other).sum(-1) > 0
            overlaps = [int((mk & changed).sum()) for mk in masks]
            if not changed.any() or not masks or max(overlaps) == 0:
                assert changed.sum() < 64  # only people below min_area have no annotation
                continue
            best = int(np.argmax(overlaps))
            iou = float((masks[best] & changed).sum() / (masks[best] | changed).sum())
            out.append((iou, 1 in anns[best]["keypoints"][2::3]))
    return out


def test_masks_match_the_painted_silhouettes(monkeypatch):
    ious = painted_silhouette_ious(monkeypatch)
    occluded = [iou for iou, hidden in ious if hidden]
    assert len(ious) >= 10 and occluded, "the images must hold occluded people"
    assert min(iou for iou, _ in ious) > 0.9
