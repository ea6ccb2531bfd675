"""save_prediction_grid: a grid of prediction panels (beside ground truth when given)."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from cgalib.utils.keypoint_set import KeypointSet
from cgalib.viz import save_prediction_grid

PERSON = {"keypoints": [10.0, 10.0, 0.9] * 17, "bbox": [5, 5, 20, 30], "score": 0.9,
          "extended_box": [4, 4, 26, 36]}  # fmt: skip


def _images(n):
    return [torch.zeros(3, 40, 30, dtype=torch.uint8) for _ in range(n)]


@pytest.mark.parametrize(("n", "columns", "ground_truth", "size"), [
    (2, 3, False, (2 * 3.2 * 80, 3.4 * 80)),  # two images: two panels, none left empty
    (4, 3, True, (6 * 3.2 * 80, 2 * 3.4 * 80)),  # two rows of three prediction + truth pairs
    (3, 1, False, (3.2 * 80, 3 * 3.4 * 80)),
    (6, None, True, (4 * 3.2 * 80, 3 * 3.4 * 80)),  # default: two pairs a row
])  # fmt: skip
def test_the_figure_has_a_panel_per_image_and_per_ground_truth(tmp_path, n, columns, ground_truth, size):
    path = tmp_path / "grid.png"
    truth = [[{"keypoints": [10, 10, 2] * 17, "bbox": [5, 5, 20, 30]}]] * n if ground_truth else None
    kwargs = {} if columns is None else {"columns": columns}
    save_prediction_grid(path, _images(n), [[PERSON]] * n, truth, **kwargs)
    with Image.open(path) as image:
        assert image.size == pytest.approx(size, abs=2)  # figsize in inches at 80 dpi


def test_another_keypoint_set_is_drawn_with_its_names(tmp_path):
    three = KeypointSet(("wrist", "L_thumb", "R_thumb"), sigmas=(0.03,) * 3)
    person = {**PERSON, "keypoints": [10.0, 10.0, 0.9] * 3}
    save_prediction_grid(tmp_path / "hand.png", _images(1), [[person]], keypoint_set=three)
    assert (tmp_path / "hand.png").stat().st_size > 0
    with pytest.raises(ValueError, match="person 0: 3 keypoints, but 17 names"):
        save_prediction_grid(tmp_path / "coco.png", _images(1), [[person]])
