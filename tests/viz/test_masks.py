"""Mask drawings: a semi-transparent fill and an outline per person."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cgalib.codecs import masks_to_rle  # noqa: E402
from cgalib.viz import draw_masks, draw_people  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def _render(people):
    image = np.full((40, 60, 3), 255, np.uint8)
    fig = plt.figure(figsize=(0.6, 0.4), dpi=100)
    ax = fig.add_axes([0, 0, 1, 1])
    draw_people(ax, image, people, box_key=None)
    draw_masks(ax, people, (40, 60), alpha=0.5)
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)
    plt.close(fig)
    return pixels


def test_masks_tint_their_pixels_only():
    mask = np.zeros((1, 40, 60), bool)
    mask[0, 10:30, 20:40] = True
    people = [{"segmentation": masks_to_rle(mask)[0], "score": 0.9, "bbox": [20, 10, 20, 20]}]
    pixels = _render(people)
    assert (pixels[15:25, 25:35] < 250).any(-1).all()  # tinted inside
    assert (pixels[:5, :10] == 255).all() and (pixels[35:, 50:] == 255).all()  # white outside
    assert (_render([{**people[0], "score": 0.1}]) == 255).all()  # below the threshold


def test_a_large_image_is_drawn_at_a_smaller_size_in_its_own_coordinates():
    """A 400 x 600 picture drawn 40 x 60: the image and the masks are stretched over the
    picture's coordinates, so its people land where they belong in the drawing."""
    mask = np.zeros((1, 400, 600), bool)
    mask[0, 100:300, 200:400] = True
    people = [{"segmentation": masks_to_rle(mask)[0], "score": 0.9, "bbox": [200, 100, 200, 200],
               "keypoints": [300.0, 200.0, 1.0] * 17}]  # fmt: skip
    fig = plt.figure(figsize=(0.6, 0.4), dpi=100)
    ax = fig.add_axes([0, 0, 1, 1])
    draw_people(ax, np.full((40, 60, 3), 255, np.uint8), people, box_key=None,
                image_size=(400, 600))  # fmt: skip
    draw_masks(ax, people, (400, 600), alpha=0.5, draw_size=(40, 60))
    assert ax.get_xlim() == (-0.5, 599.5) and ax.get_ylim() == (399.5, -0.5)
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)
    plt.close(fig)
    assert (pixels[12:18, 22:28] < 250).any(-1).all()  # tinted inside, drawing pixels
    assert (pixels[:5, :10] == 255).all() and (pixels[35:, 50:] == 255).all()
