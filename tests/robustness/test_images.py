"""Images entering cgalib: the image-value rule, EXIF orientation, damaged and huge files."""

import json

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import matplotlib
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from PIL import Image

from cgalib.data import CocoKeypoints
from cgalib.utils import read_image, to_float_image, to_rgb_tensor
from cgalib.utils.coco_meta import KEYPOINT_NAMES, SKELETON
from cgalib.viz import draw_people
from robustness.io_helpers import write_image, write_sideways_photo, write_truncated_jpeg

matplotlib.use("Agg")


def _photo(seed=0) -> np.ndarray:
    """A random 6 x 8 photo using the whole range: 0 at its top left, 255 at its bottom right."""
    photo = np.random.default_rng(seed).integers(0, 256, (6, 8, 3), np.uint8)
    photo[0, 0], photo[-1, -1] = 0, 255
    return photo


def test_float32_array_holding_0_255():
    """A float32 numpy photo holding 0..255 (a uint8 image converted with astype).

    It raises one ValueError naming the range found and saying to divide by 255, instead
    of being clipped to a white picture."""
    with pytest.raises(
        ValueError, match=r"values span 0\.\.255, but float images must be in 0\.\.1"
    ):
        to_rgb_tensor(_photo().astype(np.float32))


def test_float_tensor_holding_0_255():
    """A float tensor `(3, H, W)` holding 0..255.

    It raises one ValueError naming the range and saying to divide by 255 (or pass uint8)."""
    image = torch.from_numpy(_photo()).permute(2, 0, 1).float()
    with pytest.raises(ValueError, match=r"divide 0\.\.255 data by 255 \(or pass uint8\)"):
        to_rgb_tensor(image)


def test_int64_array_holding_0_255():
    """An int64 numpy photo holding 0..255.

    Integers are 0..255: it converts to exactly the uint8 picture with the same values."""
    photo = _photo()
    assert torch.equal(to_rgb_tensor(photo.astype(np.int64)), to_rgb_tensor(photo))


def test_int32_array_above_255():
    """An int32 array holding 16-bit sensor values (0..4000).

    It raises a ValueError naming the range found (0..4000) and the ranges integers must
    hold (0..255, or 0..65535 as uint16)."""
    with pytest.raises(ValueError, match=r"int32 image values span 0\.\.4000.*uint16: 0\.\.65535"):
        to_rgb_tensor(np.linspace(0, 4000, 48).astype(np.int32).reshape(4, 4, 3))


def test_uint16_array():
    """A uint16 array from a 16-bit camera (0..65535).

    It is scaled by 255/65535 to the nearest uint8 level (65535 becomes 255, 32896 becomes
    128)."""
    arr = np.array([[0, 32896, 65535]], np.uint16)
    assert to_rgb_tensor(arr)[0].tolist() == [[0, 128, 255]]


def test_sixteen_bit_png_with_a_small_range(tmp_path):
    """A 16-bit grayscale PNG whose values only reach 10280 (a dark exposure).

    It is read with the same 0..65535 scale as a uint16 array (10280 becomes 40), not
    stretched to its own maximum."""
    Image.fromarray(np.full((3, 4), 10280, np.uint16)).save(tmp_path / "dark16.png")
    assert read_image(tmp_path / "dark16.png").unique().tolist() == [40]


def test_float_image_slightly_above_one():
    """A float image in 0..1 whose resampling overshot to 1.002.

    Values within one 8-bit level (1/255) of 0..1 are clipped: 1.002 becomes 255."""
    image = torch.full((3, 2, 2), 1.002)
    assert to_rgb_tensor(image).unique().tolist() == [255]


def test_float_image_with_nan():
    """A float image with a NaN pixel (a division by zero upstream).

    It raises a ValueError saying the image holds NaN or infinite values."""
    image = np.full((2, 2, 3), 0.5, np.float32)
    image[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        to_rgb_tensor(image)


def test_boolean_mask_as_image():
    """A boolean mask passed as an image.

    It raises a ValueError saying bool is not an image dtype and to use uint8 or floats."""
    with pytest.raises(ValueError, match=r"torch\.bool is not an image dtype; use uint8"):
        to_rgb_tensor(np.ones((4, 4), bool))


def test_training_batch_of_0_255_floats():
    """A float batch holding 0..255 given to to_float_image (the conversion of the
    augmentation, the trainer and the letterbox).

    It raises a ValueError naming the range instead of passing a saturated batch on."""
    batch = torch.rand(2, 3, 4, 4) * 255
    with pytest.raises(ValueError, match=r"float32 images \(2, 3, 4, 4\): float image values"):
        to_float_image(batch)


def test_integer_batch_to_float_image():
    """An int64 batch given to to_float_image.

    It raises a ValueError naming the dtype and pointing to to_rgb_tensor for conversion."""
    with pytest.raises(ValueError, match="got torch.int64; convert other types"):
        to_float_image(torch.zeros(1, 3, 2, 2, dtype=torch.int64))


def test_exif_rotated_phone_photo(tmp_path):
    """A portrait phone photo stored sideways with EXIF orientation 6.

    read_image returns it upright as displayed: 100 x 40 instead of the stored 40 x 100,
    its corner block at the displayed top right."""
    image = read_image(write_sideways_photo(tmp_path / "portrait.jpg"))
    assert image.shape == (3, 100, 40)
    assert image[:, :10, -10:].float().mean() > 250 and image[:, :10, :10].float().mean() < 5


def test_exif_rotated_pil_image(tmp_path):
    """A PIL image opened from a sideways phone photo (EXIF orientation 6), not yet turned.

    to_rgb_tensor turns it upright like read_image does; an already upright PIL image
    (ImageOps.exif_transpose applied) is left as it is."""
    from PIL import ImageOps

    path = write_sideways_photo(tmp_path / "portrait.jpg")
    with Image.open(path) as img:
        assert torch.equal(to_rgb_tensor(img), read_image(path))
        assert torch.equal(to_rgb_tensor(ImageOps.exif_transpose(img)), read_image(path))


def test_decompression_bomb(tmp_path, monkeypatch):
    """A 200-megapixel image, over PIL's decompression-bomb limit.

    read_image raises one ValueError naming the file, the pixel count and the limit, and
    saying to raise PIL.Image.MAX_IMAGE_PIXELS or downscale it."""
    path = write_image(tmp_path / "huge.png", size=(20, 20))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 400 pixels stand in for 200 MP
    with pytest.raises(ValueError, match=r"huge\.png.*400 pixels.*raise PIL\.Image\.MAX_IMAGE"):
        read_image(path)


def test_large_image_warning_names_the_file(tmp_path, monkeypatch):
    """A 100-megapixel image, over PIL's warning limit but under its error limit.

    It is read; PIL's DecompressionBombWarning is repeated with the file's name."""
    path = write_image(tmp_path / "big.png", size=(20, 20))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 300)
    with pytest.warns(Image.DecompressionBombWarning, match=r"big\.png: Image size \(400"):
        assert read_image(path).shape == (3, 20, 20)


def test_truncated_jpeg(tmp_path):
    """A JPEG cut to half its bytes by an interrupted copy.

    read_image raises one ValueError naming the file and PIL's reason (truncated)."""
    path = write_truncated_jpeg(tmp_path / "cut.jpg")
    with pytest.raises(ValueError, match=r"cannot read image .*cut\.jpg: image file is truncated"):
        read_image(path)


def test_empty_image():
    """An empty image, a tensor `(3, 0, 0)`.

    It raises a ValueError saying the image is empty, instead of a ZeroDivisionError."""
    with pytest.raises(ValueError, match=r"image \(3, 0, 0\) is empty"):
        to_rgb_tensor(torch.zeros(3, 0, 0, dtype=torch.uint8))


def test_batch_tensor_as_one_image():
    """A batch tensor `(B, 3, H, W)` passed where one image is expected.

    It raises a ValueError giving the shapes accepted and saying to pass list(batch)."""
    with pytest.raises(ValueError, match=r"got \(2, 3, 4, 4\); pass a batch as a list"):
        to_rgb_tensor(torch.zeros(2, 3, 4, 4))


def test_channels_first_numpy_array():
    """A channels-first numpy array `(3, H, W)`.

    It raises a ValueError giving the shapes accepted and the transpose(1, 2, 0) fix."""
    with pytest.raises(ValueError, match=r"got \(3, 8, 6\); for a \(C, H, W\) array pass"):
        to_rgb_tensor(np.zeros((3, 8, 6), np.uint8))


def test_drawing_a_float_image_holding_0_255():
    """draw_people given a float image holding 0..255.

    Drawing follows the same image-value rule: a ValueError naming the range, not a white
    picture."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    try:
        with pytest.raises(ValueError, match="must be in 0..1"):
            draw_people(ax, torch.full((3, 4, 4), 200.0), [])
    finally:
        plt.close(fig)


def _coco_for(tmp_path, width, height):
    ann = {
        "images": [{"id": 1, "file_name": "portrait.jpg", "width": width, "height": height}],
        "annotations": [],
        "categories": [
            {"id": 1, "name": "person", "keypoints": list(KEYPOINT_NAMES), "skeleton": SKELETON}
        ],
    }
    (tmp_path / "ann.json").write_text(json.dumps(ann))
    write_sideways_photo(tmp_path / "portrait.jpg")
    return CocoKeypoints(tmp_path, tmp_path / "ann.json")


def test_coco_annotation_made_on_the_stored_pixels(tmp_path):
    """A COCO annotation that gives a sideways-stored phone photo its stored size (100 wide,
    40 high) instead of the displayed one.

    Loading the set raises a ValueError up front (before any item is read) naming the file,
    both sizes, and saying the annotation was made on the stored pixels if the file has an
    EXIF orientation tag."""
    with pytest.raises(
        ValueError, match=r"portrait\.jpg is 100x40 as displayed .* says 40x100 \(swapped"
    ):
        _coco_for(tmp_path, width=100, height=40)


def test_coco_annotation_of_the_displayed_photo(tmp_path):
    """A COCO annotation that gives a sideways-stored phone photo its displayed size (40
    wide, 100 high).

    It loads, the image upright as displayed, `(3, 100, 40)`."""
    image, target = _coco_for(tmp_path, width=40, height=100)[0]
    assert image.shape == (3, 100, 40) and target["orig_size"].tolist() == [100, 40]


def test_pil_image_used_after_its_with_block(tmp_path):
    """A PIL image opened in a `with Image.open(path) as img:` block and passed to
    to_rgb_tensor (or the Predictor) after the block has closed it.

    One ValueError says the PIL image was closed and to convert it inside the `with` block
    or pass the path, instead of PIL's bare AssertionError (or "Operation on closed
    image")."""
    path = write_image(tmp_path / "photo.png")
    with Image.open(path) as lazy:
        pass
    loaded = Image.open(path)
    loaded.load()
    loaded.close()
    for img in (lazy, loaded):
        with pytest.raises(ValueError, match=r"^PIL image .*was closed .*inside the `with` block"):
            to_rgb_tensor(img)


def test_folder_given_as_an_image(tmp_path):
    """`read_image(Path("val/"))` or `Predictor.predict(Path("val/"))` on a folder that
    exists.

    One IsADirectoryError says the path is a folder, not an image, and points to
    predict_media (`cgalib predict <folder>`), instead of "image not found"."""
    from cgalib import Predictor
    from robustness.io_helpers import BrightestPixel

    folder = tmp_path / "val"
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match=r"val is a folder, not an image.*predict_media"):
        read_image(folder)
    predictor = Predictor(BrightestPixel(), device="cpu", input_size=64)
    with pytest.raises(IsADirectoryError, match=r"is a folder, not an image.*cgalib predict"):
        predictor.predict(folder)


def test_video_file_given_as_an_image(tmp_path):
    """A video file (clip.mp4) given to read_image or Predictor.predict, which read pictures.

    One ValueError names the file, says it is a video, and points to
    cgalib.video.predict_video (or VideoReader for its frames), instead of PIL's "cannot
    identify image file"."""
    av = pytest.importorskip("av")
    path = tmp_path / "clip.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        frame = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")
        for packet in [*stream.encode(frame), *stream.encode()]:
            out.mux(packet)
    with pytest.raises(ValueError, match=r"clip\.mp4 is a video, not an image.*predict_video"):
        read_image(path)


def test_url_given_as_an_image():
    """An image URL (https://example.com/person.jpg) given where a file is expected.

    One ValueError says URLs are not downloaded and to download the image first, instead
    of "image not found" with the URL."""
    with pytest.raises(ValueError, match=r"https://example\.com/person\.jpg: a URL.*download"):
        read_image("https://example.com/person.jpg")


# ---------------------------------------------------------------- the image-value rule, at random
_DTYPES = [np.uint8, np.int8, np.uint16, np.int16, np.int32, np.int64, np.float16, np.float32,
           np.float64, np.bool_, np.complex64]  # fmt: skip


def _expected(arr: np.ndarray):
    """The documented conversion of a numpy image, written out again: the uint8 picture
    `(3, H, W)`, or the start of the error message."""
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
        return "numpy images must be"
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        return "numpy"  # "... is empty"
    a = (arr[..., None] if arr.ndim == 2 else arr)[..., :3]
    if arr.dtype.kind in "bc":
        return "numpy"  # "...: torch.bool is not an image dtype"
    if arr.dtype == np.uint16:
        out = (a.astype(np.int64) + 128) // 257
    elif arr.dtype.kind in "iu":
        if a.min() < 0 or a.max() > 255:
            return "numpy"
        out = a
    else:
        f = a.astype(np.float64)
        if not np.isfinite(f).all() or f.min() < -1 / 255 or f.max() > 1 + 1 / 255:
            return "numpy"
        out = np.round(np.clip(a.astype(np.float32), 0, 1) * 255)
    out = torch.from_numpy(np.ascontiguousarray(out.astype(np.uint8))).permute(2, 0, 1)
    return out.expand(3, -1, -1) if out.shape[0] == 1 else out


@settings(max_examples=150, deadline=None)
@given(
    dtype=st.sampled_from(_DTYPES),
    shape=st.lists(st.integers(0, 5), min_size=1, max_size=4).map(tuple),
    data=st.data(),
)
def test_random_arrays_convert_by_the_rule_or_fail_in_one_line(dtype, shape, data):
    """Numpy images of random dtypes (integers, floats, booleans, complex), shapes (1 to 4
    dimensions, 0 to 5 channels, empty) and values (in and outside each dtype's range,
    NaN, infinity).

    Each gives the picture the image-value rule documents (uint8 as is, uint16 scaled by
    1/257, other integers in 0..255, floats in 0..1 rounded) or a one-line ValueError
    naming the input; never a silently different picture."""
    if dtype == np.bool_:
        elements = st.booleans()
    elif np.dtype(dtype).kind == "c":
        elements = st.complex_numbers(max_magnitude=10, allow_nan=False, width=64)
    elif np.dtype(dtype).kind == "f":
        elements = st.floats(-2, 300, width=16 if dtype == np.float16 else 32) | st.sampled_from(
            [0.0, 1.0, 0.5, 1.003, -0.003, np.nan, np.inf]
        )
    else:
        info = np.iinfo(dtype)
        elements = st.integers(max(info.min, -300), min(info.max, 70000)) | st.integers(
            0, min(info.max, 255)
        )
    arr = data.draw(hnp.arrays(dtype, shape, elements=elements))
    expected = _expected(arr)
    if isinstance(expected, str):
        with pytest.raises(ValueError) as err:
            to_rgb_tensor(arr)
        assert str(err.value).startswith(expected) and "\n" not in str(err.value)
    else:
        assert torch.equal(to_rgb_tensor(arr), expected)


def _saved(fmt: str, seed: int) -> tuple[bytes, torch.Tensor]:
    """A small picture saved as ``fmt`` and the picture its complete file reads as."""
    import io

    image = Image.fromarray(np.random.default_rng(seed).integers(0, 255, (24, 32, 3), np.uint8))
    buf = io.BytesIO()
    image.save(buf, format=fmt)
    with Image.open(io.BytesIO(buf.getvalue())) as full:
        full.load()
        return buf.getvalue(), to_rgb_tensor(full)


@settings(max_examples=120, deadline=None)
@given(
    fmt=st.sampled_from(["PNG", "JPEG", "BMP", "TIFF", "WEBP", "GIF"]),
    keep=st.floats(0, 0.999),
    seed=st.integers(0, 3),
)
def test_truncated_files_fail_in_one_line_or_read_whole(tmp_path_factory, fmt, keep, seed):
    """Image files of every format cgalib reads, cut at a random byte (an interrupted copy
    or download).

    read_image either raises one ValueError naming the file, or returns exactly the
    picture of the complete file (when only trailing bytes that hold no pixels were cut);
    never a partly grey or shifted picture."""
    data, full = _saved(fmt, seed)
    path = tmp_path_factory.mktemp("cut") / f"photo.{fmt.lower()}"
    path.write_bytes(data[: int(len(data) * keep)])
    try:
        image = read_image(path)
    except ValueError as err:
        assert str(path) in str(err) and "\n" not in str(err)
    else:
        assert torch.equal(image, full)
