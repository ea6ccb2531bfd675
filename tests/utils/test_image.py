import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from cgalib.utils import read_image, to_float_image, to_rgb_tensor


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


# --------------------------------------------------------------------- the image-value rule
_SHAPES = st.tuples(st.integers(1, 5), st.integers(1, 5), st.sampled_from([1, 3]))


@settings(max_examples=60, deadline=None)
@given(arr=hnp.arrays(np.uint8, _SHAPES))
def test_every_dtype_that_holds_the_same_picture_gives_the_same_uint8(arr):
    expected = to_rgb_tensor(arr)
    assert torch.equal(to_rgb_tensor(arr.astype(np.int64)), expected)
    assert torch.equal(to_rgb_tensor(arr.astype(np.float32) / 255), expected)
    assert torch.equal(to_rgb_tensor(arr.astype(np.uint16) * 257), expected)
    as_tensor = torch.from_numpy(arr).permute(2, 0, 1)
    assert torch.equal(to_rgb_tensor(as_tensor.double() / 255), expected)
    # and to_float_image takes uint8 and unit floats to the same floats
    assert torch.allclose(to_float_image(expected), to_float_image(expected.float() / 255))


@settings(max_examples=60, deadline=None)
@given(
    arr=hnp.arrays(np.float32, _SHAPES, elements=st.floats(0, 1, width=32)),
    excess=st.floats(1 / 255 + 1e-4, 1e6),
    where=st.integers(0, 74),
    as_tensor=st.booleans(),
)
def test_floats_outside_unit_range_raise_and_inside_map_to_rounded_levels(
    arr, excess, where, as_tensor
):
    image = torch.from_numpy(arr).permute(2, 0, 1) if as_tensor else arr
    assert torch.equal(
        to_rgb_tensor(image)[: arr.shape[2]],
        torch.from_numpy(np.round(arr * 255).astype(np.uint8)).permute(2, 0, 1),
    )
    bad = arr.copy()
    bad.flat[where % bad.size] = 1 + excess  # one value too bright is enough
    bad_image = torch.from_numpy(bad).permute(2, 0, 1) if as_tensor else bad
    with pytest.raises(ValueError, match=r"must be in 0\.\.1; divide 0\.\.255 data by 255"):
        to_rgb_tensor(bad_image)
    with pytest.raises(ValueError, match="must be in 0..1"):
        to_float_image(torch.from_numpy(bad))


@settings(max_examples=40, deadline=None)
@given(value=st.integers(256, 2**40) | st.integers(-(2**40), -1))
def test_integers_outside_0_255_raise_naming_the_range(value):
    arr = np.zeros((2, 2, 3), np.int64)
    arr[1, 1, 2] = value
    with pytest.raises(ValueError, match=rf"values span {min(value, 0)}\.\.{max(value, 0)}"):
        to_rgb_tensor(arr)


def test_float_slack_of_one_level_is_clipped():
    t = torch.tensor([[[-0.5 / 255, 1 + 0.9 / 255]]]).expand(3, 1, 2)
    assert to_rgb_tensor(t)[0, 0].tolist() == [0, 255]
    assert to_float_image(t).max() == 1.0 and to_float_image(t).min() == 0.0


def test_sixteen_bit_files_use_the_full_16_bit_range(tmp_path):
    Image.fromarray(np.full((2, 3), 257 * 40, np.uint16)).save(tmp_path / "g16.png")
    assert read_image(tmp_path / "g16.png").unique().tolist() == [40]


def test_bad_dtypes_and_empty_images():
    with pytest.raises(ValueError, match="torch.bool is not an image dtype"):
        to_rgb_tensor(np.ones((2, 2), bool))
    with pytest.raises(ValueError, match="NaN or infinite"):
        to_rgb_tensor(np.full((2, 2), np.nan, np.float32))
    with pytest.raises(ValueError, match="is empty"):
        to_rgb_tensor(torch.zeros(3, 0, 0))
    with pytest.raises(ValueError, match="uint8 .0..255. or floats in 0..1, got torch.int32"):
        to_float_image(torch.zeros(3, 2, 2, dtype=torch.int32))


def test_read_only_arrays_convert_without_a_torch_warning():
    """``np.asarray(pil_image)`` is read-only; torch warns on such arrays, so they are copied."""
    frozen = np.asarray(Image.new("RGB", (4, 3), (10, 20, 30)))
    assert not frozen.flags.writeable
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = to_rgb_tensor(frozen)
    assert out.shape == (3, 3, 4) and out[:, 0, 0].tolist() == [10, 20, 30]
