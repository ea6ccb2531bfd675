import numpy as np
import pytest
import torch
from PIL import Image

from cgalib.utils import read_image, to_rgb_tensor


def test_rgb_numpy_round_trip():
    arr = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    t = to_rgb_tensor(arr)
    assert t.dtype == torch.uint8 and t.shape == (3, 5, 7)
    np.testing.assert_array_equal(t.permute(1, 2, 0).numpy(), arr)


def test_rgba_drops_alpha_and_grayscale_repeats():
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 7
    assert to_rgb_tensor(rgba)[:, 0, 0].tolist() == [200, 0, 0]
    gray = np.full((3, 2), 9, np.uint8)
    assert to_rgb_tensor(gray)[:, 2, 1].tolist() == [9, 9, 9]


def test_sixteen_bit_is_scaled():
    arr = np.full((2, 2), 65535, np.uint16)
    assert to_rgb_tensor(arr).unique().tolist() == [255]
    png16 = Image.fromarray(np.full((2, 3), 4000, np.uint16))
    assert to_rgb_tensor(png16).shape == (3, 2, 3)


def test_float_tensor_in_unit_range():
    t = torch.full((3, 2, 2), 0.5)
    assert to_rgb_tensor(t).unique().tolist() == [128]


def test_files(tmp_path):
    Image.fromarray(np.full((4, 6), 100, np.uint8), mode="L").save(tmp_path / "g.png")
    assert read_image(tmp_path / "g.png").shape == (3, 4, 6)
    (tmp_path / "bad.jpg").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="bad.jpg"):
        to_rgb_tensor(tmp_path / "bad.jpg")
    with pytest.raises(FileNotFoundError, match="missing.jpg"):
        to_rgb_tensor(str(tmp_path / "missing.jpg"))


def test_bad_types_and_shapes():
    with pytest.raises(TypeError):
        to_rgb_tensor(3)
    with pytest.raises(ValueError):
        to_rgb_tensor(np.zeros((2, 2, 5), np.uint8))
