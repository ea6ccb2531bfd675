"""read_annotated_image: the image an annotation lists, upright as displayed and checked
against its annotated size."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from cgalib.data.images import read_annotated_image


def _write(path, height=30, width=40, orientation=None):
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[:4, :4] = 255  # a marker in the stored top-left corner
    image = Image.fromarray(pixels)
    if orientation is None:
        image.save(path)
    else:
        exif = Image.Exif()
        exif[0x0112] = orientation
        image.save(path, exif=exif, quality=100)
    return path


def test_the_listed_file_as_a_uint8_rgb_tensor(tmp_path):
    _write(tmp_path / "a.png")
    image = read_annotated_image(tmp_path, {"file_name": "a.png", "height": 30, "width": 40})
    assert image.dtype == torch.uint8 and image.shape == (3, 30, 40)
    assert image[:, :4, :4].eq(255).all() and image[:, 4:].sum() == 0 and image[:, :, 4:].sum() == 0


def test_a_missing_annotated_size_is_not_checked(tmp_path):
    (tmp_path / "sub").mkdir()
    _write(tmp_path / "sub" / "a.png", 12, 9)
    assert read_annotated_image(tmp_path, {"file_name": "sub/a.png"}).shape == (3, 12, 9)


def test_another_size_is_an_error_naming_the_file_and_both_sizes(tmp_path):
    path = _write(tmp_path / "a.png")
    with pytest.raises(ValueError) as err:
        read_annotated_image(tmp_path, {"file_name": "a.png", "height": 60, "width": 80})
    message = str(err.value)
    assert message.startswith(f"image {path} is 30x40 as displayed")
    assert message.endswith("but its annotation says 60x80")  # no hint: not a turn


def test_a_swapped_size_names_the_exif_turn(tmp_path):
    _write(tmp_path / "a.png")
    with pytest.raises(ValueError, match=r"says 40x30 \(swapped: if the file has an EXIF orientation"):
        read_annotated_image(tmp_path, {"file_name": "a.png", "height": 40, "width": 30})


def test_an_exif_turn_is_applied_and_the_displayed_size_is_checked(tmp_path):
    _write(tmp_path / "turned.jpg", 30, 40, orientation=6)  # stored 30x40, shown turned right
    info = {"file_name": "turned.jpg", "height": 40, "width": 30}
    image = read_annotated_image(tmp_path, info)
    assert image.shape == (3, 40, 30)
    assert image[:, :4, -4:].float().mean() > 200  # the stored top-left is now top-right
    assert image[:, :4, :4].float().mean() < 50 and image[:, -4:, -4:].float().mean() < 50
    with pytest.raises(ValueError, match="is 40x30 as displayed .* says 30x40 \\(swapped"):
        read_annotated_image(tmp_path, {**info, "height": 30, "width": 40})


def test_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_annotated_image(tmp_path, {"file_name": "nope.png", "height": 1, "width": 1})
