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


# ------------------------------------------------------------------ files: paths and frames
def test_check_image_path_names_what_a_path_is(tmp_path):
    from cgalib.utils.image import check_image_path

    Image.new("RGB", (2, 2)).save(tmp_path / "a.png")
    assert check_image_path(str(tmp_path / "a.png")) == tmp_path / "a.png"
    with pytest.raises(IsADirectoryError, match="is a folder, not an image file"):
        check_image_path(tmp_path)
    with pytest.raises(FileNotFoundError, match="image not found"):
        check_image_path(tmp_path / "b.png")
    with pytest.raises(ValueError, match="a URL, not a file"):
        check_image_path("s3://bucket/a.png")


def _animation(path, values=(0, 128, 255), **save):
    frames = [Image.fromarray(np.full((6, 8, 3), v, np.uint8)) for v in values]
    frames[0].save(path, save_all=True, append_images=frames[1:], **save)
    return path


@pytest.mark.parametrize(("name", "save"), [("a.png", {}), ("a.webp", {"lossless": True}),
                                            ("a.gif", {}), ("a.tif", {})])  # fmt: skip
def test_read_frames_reads_every_frame_of_animations_and_pages(tmp_path, name, save):
    from cgalib.utils.image import frame_count, read_frames

    path = _animation(tmp_path / name, **save)
    assert frame_count(path) == 3
    frames = list(read_frames(path))
    assert [tuple(f.shape) for f in frames] == [(3, 6, 8)] * 3
    assert [int(f[0, 0, 0]) for f in frames] == [0, 128, 255]
    assert torch.equal(read_image(path), frames[0])  # read_image: the first


def test_a_still_image_is_one_frame(tmp_path):
    from cgalib.utils.image import frame_count, read_frames

    Image.new("RGB", (3, 2), (1, 2, 3)).save(tmp_path / "still.jpg", quality=100)
    assert frame_count(tmp_path / "still.jpg") == 1
    (frame,) = read_frames(tmp_path / "still.jpg")
    assert torch.equal(frame, read_image(tmp_path / "still.jpg"))


def test_a_damaged_animation_yields_its_good_frames_then_raises(tmp_path):
    from cgalib.utils.image import read_frames

    data = _animation(tmp_path / "a.gif", values=range(0, 250, 50)).read_bytes()
    (tmp_path / "cut.gif").write_bytes(data[:-1])  # the trailer only
    got = []
    with pytest.raises(ValueError, match=r"cut\.gif is truncated \(no GIF trailer\): 5 frame"):
        for frame in read_frames(tmp_path / "cut.gif"):
            got.append(frame)
    assert len(got) == 5


def test_pixels_are_copied_out_of_pil_in_strips(monkeypatch):
    import cgalib.utils.image as image_module

    rgb = np.random.default_rng(0).integers(0, 255, (37, 11, 3), np.uint8)
    whole = to_rgb_tensor(Image.fromarray(rgb))
    monkeypatch.setattr(image_module, "_STRIP_BYTES", 100)  # three rows a strip
    assert torch.equal(to_rgb_tensor(Image.fromarray(rgb)), whole)
    assert torch.equal(whole, torch.from_numpy(rgb).permute(2, 0, 1))


def test_resize_image_stays_within_a_level_of_the_float_path():
    import torch.nn.functional as F

    from cgalib.utils.image import resize_image

    image = torch.from_numpy(np.random.default_rng(0).integers(0, 255, (3, 90, 120), np.uint8))
    assert resize_image(image, (90, 120)) is image
    small = resize_image(image, (30, 40))
    exact = F.interpolate(image[None].float(), size=(30, 40), mode="bilinear", antialias=True,
                          align_corners=False)[0].round().clamp(0, 255)  # fmt: skip
    assert small.dtype == torch.uint8 and (small.float() - exact).abs().max() <= 1
    column = resize_image(torch.full((3, 50, 20), 200, dtype=torch.uint8), (10, 1))
    assert column.shape == (3, 10, 1) and column.unique().tolist() == [200]
