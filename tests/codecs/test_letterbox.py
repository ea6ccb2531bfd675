"""letterbox / letterbox_target / letterbox_batch: sizes, padding and the shared coordinate
conventions."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cgalib.codecs import (
    letterbox,
    letterbox_batch,
    letterbox_boxes,
    letterbox_keypoints,
    letterbox_size,
    letterbox_target,
    unletterbox_boxes,
    unletterbox_keypoints,
)
from cgalib.utils import to_float_image


def test_letterbox_pads_right_bottom_and_keeps_dtype():
    image = torch.full((3, 50, 100), 255, dtype=torch.uint8)
    out, scale = letterbox(image, 64)
    assert out.shape == (3, 64, 64) and out.dtype == torch.uint8 and scale == 0.64
    assert (out[:, :32] == 255).all() and (out[:, 32:] == 0).all()
    same, s = letterbox(torch.rand(3, 64, 64), 64)
    assert s == 1.0 and same.dtype == torch.float32
    with pytest.raises(ValueError, match="C, H, W"):
        letterbox(torch.zeros(64, 64), 64)


def test_letterbox_target_follows_the_pixels():
    # a dot at pixel (x=20, y=10) of a 40x80 image stays on its pixel after resizing
    image = torch.zeros(1, 40, 80)
    image[0, 10, 20] = 1.0
    out, scale = letterbox(image.expand(3, -1, -1).contiguous() * 255, 160)
    t = letterbox_target({"keypoints": torch.tensor([[[20.0, 10.0, 2.0]]])}, scale, 160)
    x, y = t["keypoints"][0, 0, :2]
    peak = out[0].argmax()
    assert abs(int(peak % 160) + 0.5 - (x + 0.5)) <= 1.0 and abs(int(peak // 160) - y) <= 1.0
    masks = torch.zeros(1, 40, 80, dtype=torch.bool)
    masks[0, 5:15, 10:30] = True
    t = letterbox_target(
        {"masks": masks, "boxes": torch.tensor([[10.0, 5.0, 30.0, 15.0]])}, scale, 160
    )
    ys, xs = torch.nonzero(t["masks"][0], as_tuple=True)
    assert [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1] == t["boxes"][0].tolist()


_sides = st.one_of(st.integers(1, 300), st.integers(1, 3))  # thin images: a side of 1 px
_sizes = st.integers(32, 512)


def _side_rounding(length, scale, resized):
    """``|resized - length * scale|``: at most 1/2, or under 1 where a side shorter than
    half a pixel is kept at one pixel."""
    error = abs(resized - length * scale)
    assert error <= 0.5 + 1e-9 or (resized == 1 and length * scale < 0.5)
    return error


@settings(max_examples=100, deadline=None)
@given(height=_sides, width=_sides, size=_sizes)
def test_letterbox_size_longer_side_becomes_size(height, width, size):
    scale, nh, nw = letterbox_size(height, width, size)
    assert scale == size / max(height, width) and max(nh, nw) == size
    _side_rounding(height, scale, nh)
    _side_rounding(width, scale, nw)


@st.composite
def _image_with_points(draw, dtype=torch.float64):
    """An image size, a letterbox size, boxes and labelled/unlabelled keypoints inside."""
    height, width, size = draw(_sides), draw(_sides), draw(_sizes)
    boxes = []
    for _ in range(draw(st.integers(0, 4))):
        xs = sorted(draw(st.floats(0, width)) for _ in range(2))
        ys = sorted(draw(st.floats(0, height)) for _ in range(2))
        boxes.append([xs[0], ys[0], xs[1], ys[1]])
    kps = [
        [draw(st.floats(0, width - 1)), draw(st.floats(0, height - 1)), draw(st.integers(0, 2))]
        for _ in range(draw(st.integers(1, 6)))
    ]
    return (
        (height, width),
        size,
        torch.tensor(boxes, dtype=dtype).reshape(-1, 4),
        torch.tensor([kps], dtype=dtype),
    )


@settings(max_examples=100, deadline=None)
@given(case=_image_with_points())
def test_boxes_and_keypoints_round_trip(case):
    """Forward then inverse is the identity on boxes and labelled keypoints inside the image
    (clipping to the image then changes nothing); unlabelled keypoints go forward as
    (0, 0, 0), and every point lands on the ``size x size`` canvas."""
    (height, width), size, boxes, kps = case
    scale, _, _ = letterbox_size(height, width, size)
    fwd = letterbox_boxes(boxes, scale)
    assert fwd.min() >= 0 if fwd.numel() else True
    assert (fwd <= size * (1 + 1e-12)).all()
    torch.testing.assert_close(unletterbox_boxes(fwd, scale), boxes, rtol=1e-12, atol=1e-10)
    torch.testing.assert_close(
        unletterbox_boxes(fwd, scale, (height, width)), boxes, rtol=1e-12, atol=1e-10
    )

    labelled = kps[..., 2] > 0
    fwd = letterbox_keypoints(kps, scale)
    assert torch.equal(fwd[..., 2], kps[..., 2])
    assert fwd[~labelled].eq(0).all()
    # pixel centres x in [0, W - 1] map into [-0.5, size - 0.5]: inside the canvas' pixels
    xy = fwd[labelled][:, :2]
    assert (xy >= -0.5 - 1e-9).all() and (xy <= size - 0.5 + 1e-9).all()
    for clip in (None, (height, width)):
        back = unletterbox_keypoints(fwd, scale, clip)
        torch.testing.assert_close(back[labelled], kps[labelled], rtol=1e-12, atol=1e-10)
        assert torch.equal(back[..., 2], kps[..., 2])


@settings(max_examples=100, deadline=None)
@given(
    height=_sides,
    width=_sides,
    size=_sizes,
    points=st.lists(st.tuples(st.floats(-20, 540), st.floats(-20, 540)), min_size=1, max_size=6),
)
def test_inverse_with_size_clips_into_the_image(height, width, size, points):
    """Predictions anywhere on (or off) the canvas come back inside the image: keypoints on
    pixel centres ``[0, W - 1] x [0, H - 1]``, boxes in ``[0, W] x [0, H]``; points already
    inside are not moved by the clipping."""
    scale, _, _ = letterbox_size(height, width, size)
    kps = torch.tensor([[[x, y, 0.5] for x, y in points]], dtype=torch.float64)
    free = unletterbox_keypoints(kps, scale)
    clipped = unletterbox_keypoints(kps, scale, (height, width))
    x, y = clipped[..., 0], clipped[..., 1]
    assert (x >= 0).all() and (x <= width - 1).all() and (y >= 0).all() and (y <= height - 1).all()
    inside = (free[..., 0] >= 0) & (free[..., 0] <= width - 1)
    inside &= (free[..., 1] >= 0) & (free[..., 1] <= height - 1)
    assert torch.equal(clipped[inside], free[inside])
    boxes = torch.tensor(
        [[min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1])]
         for a, b in zip(points, points[1:])],
        dtype=torch.float64,
    ).reshape(-1, 4)  # fmt: skip
    free = unletterbox_boxes(boxes, scale)
    clipped = unletterbox_boxes(boxes, scale, (height, width))
    assert (clipped >= 0).all() and (clipped[:, 0::2] <= width).all()
    assert (clipped[:, 1::2] <= height).all()
    inside = (free >= 0).all(1) & (free[:, 0::2] <= width).all(1) & (free[:, 1::2] <= height).all(1)
    assert torch.equal(clipped[inside], free[inside])


@settings(max_examples=60, deadline=None)
@given(
    height=_sides,
    width=_sides,
    size=_sizes,
    channels=st.sampled_from([1, 3]),
    pad_multiple=st.sampled_from([None, 8, 16, 32]),
    value=st.integers(1, 255),
)
def test_letterbox_shape_content_and_zero_padding(
    height, width, size, channels, pad_multiple, value
):
    """The output is ``size x size`` (or each side rounded up to ``pad_multiple``), the
    resized image fills exactly the top-left ``letterbox_size`` region and the rest is 0.

    A constant ``uint8`` image resamples to the same constant (the filter weights sum to
    1), so the region is exact; a float image in ``[0.25, 1]`` resamples to values within
    its range (bilinear and its antialiased triangle filter have non-negative weights).
    """
    scale, nh, nw = letterbox_size(height, width, size)
    image = torch.full((channels, height, width), value, dtype=torch.uint8)
    out, out_scale = letterbox(image, size, pad_multiple)
    assert out_scale == scale and out.dtype == torch.uint8
    if pad_multiple is None:
        assert out.shape == (channels, size, size)
    else:
        assert out.shape == (
            channels,
            math.ceil(nh / pad_multiple) * pad_multiple,
            math.ceil(nw / pad_multiple) * pad_multiple,
        )
    content = torch.zeros(out.shape[-2:], dtype=torch.bool)
    content[:nh, :nw] = True
    assert out[:, content].eq(value).all() and out[:, ~content].eq(0).all()

    image = torch.rand(channels, height, width, generator=torch.Generator().manual_seed(value))
    image = image * 0.75 + 0.25
    out, _ = letterbox(image, size, pad_multiple)
    assert out.dtype == torch.float32 and out[:, ~content].eq(0).all()
    inner = out[:, content]
    assert inner.min() >= image.min() * (1 - 1e-5) and inner.max() <= image.max() * (1 + 1e-5)


@settings(max_examples=80, deadline=None)
@given(height=_sides, width=_sides, size=_sizes, data=st.data())
def test_a_bright_pixel_lands_where_its_keypoint_goes(height, width, size, data):
    """A single bright pixel ``(x, y)`` ends within 1 px of ``(x + 0.5) * n / L - 0.5`` per
    axis (``n / L`` the axis' actual resize factor, ``nw / W`` or ``nh / H``), and that
    point is within the side's rounding ``|n - L * scale|`` of ``letterbox_keypoints``
    (0 on the longer side; at most 1/2, see ``_side_rounding``).

    Why 1 px: downscaling, the antialiased triangle filter gives weight only to the two
    output pixels around the point; upscaling, bilinear peaks at the nearest output pixel,
    but a pixel on the image border is clamped into a plateau that runs to the border
    and starts within 1 px of the point. Within 1 px of the keypoint on the longer side,
    1.5 px on the shorter.
    """
    x = data.draw(st.integers(0, width - 1))
    y = data.draw(st.integers(0, height - 1))
    image = torch.zeros(1, height, width)
    image[0, y, x] = 1.0
    out, scale = letterbox(image, size)
    _, nh, nw = letterbox_size(height, width, size)
    true_x, true_y = (x + 0.5) * nw / width - 0.5, (y + 0.5) * nh / height - 0.5
    peak = out[0].max()
    assert peak > 0  # the pixel is not lost
    ys, xs = torch.nonzero(out[0] >= peak * (1 - 1e-5), as_tuple=True)  # ties: plateaus
    distance = torch.maximum((xs - true_x).abs(), (ys - true_y).abs())
    assert distance.min() < 1
    kx, ky, _ = letterbox_keypoints(torch.tensor([[[x, y, 2.0]]], dtype=torch.float64), scale)[
        0, 0
    ].tolist()
    assert abs(kx - true_x) <= _side_rounding(width, scale, nw) + 1e-9
    assert abs(ky - true_y) <= _side_rounding(height, scale, nh) + 1e-9


def test_an_image_one_pixel_wide_after_resizing_keeps_its_content():
    # PyTorch's antialiased bilinear kernel drops this pixel (the output width is 1 and the
    # height shrinks); letterbox resizes such images transposed. By hand (triangle filter
    # of half-width 2 input pixels in y, the two columns averaged in x): rows 1 and 2 get
    # 0.25 / 2 and 0.75 / 2 of the pixel, halved again by the column average.
    image = torch.zeros(1, 8, 2)
    image[0, 4, 1] = 1.0
    out, scale = letterbox(image, 4)
    assert scale == 0.5 and letterbox_size(8, 2, 4) == (0.5, 4, 1)
    torch.testing.assert_close(out[0, :, 0], torch.tensor([0.0, 0.0625, 0.1875, 0.0]))
    assert out[0, :, 1:].eq(0).all()


def test_scale_pad_and_content_position():
    img = torch.zeros(3, 60, 100, dtype=torch.uint8)
    img[:, 10:20, 30:40] = 255
    batch, scale = letterbox_batch([img], 200)
    assert batch.shape == (1, 3, 128, 224)  # 120x200 padded up to multiples of 32
    assert scale.tolist() == [2.0]
    assert batch[0, :, 21:39, 61:79].min() == 1.0  # the square moved to 2x its position
    assert batch[0, :, :18].max() == 0 and batch[0, :, 42:].max() == 0
    assert batch[0, :, 120:].abs().sum() == 0  # bottom padding


def test_mixed_sizes_share_one_batch():
    batch, scale = letterbox_batch([torch.rand(3, 32, 64), torch.rand(3, 64, 32)], 64)
    assert batch.shape == (2, 3, 64, 64)
    torch.testing.assert_close(scale, torch.tensor([1.0, 1.0]))


@settings(max_examples=40, deadline=None)
@given(
    sides=st.lists(st.tuples(st.integers(1, 160), st.integers(1, 160)), min_size=1, max_size=3),
    size=st.integers(32, 256),
    multiple=st.sampled_from([8, 16, 32]),
)
def test_pads_to_the_batch_max_rounded_to_the_multiple(sides, size, multiple):
    """The batch is as large as the largest resized height and width, each rounded up to
    ``multiple``; image ``i`` is ``letterbox`` of its float version in the top-left corner
    (clipped to 0..1) with zeros around it, and its scale is ``letterbox_size``'s."""
    g = torch.Generator().manual_seed(len(sides) * size)
    images = [torch.randint(0, 256, (3, h, w), generator=g, dtype=torch.uint8) for h, w in sides]
    batch, scales = letterbox_batch(images, size, multiple)
    resized = [letterbox_size(h, w, size) for h, w in sides]
    height = math.ceil(max(nh for _, nh, _ in resized) / multiple) * multiple
    width = math.ceil(max(nw for _, _, nw in resized) / multiple) * multiple
    assert batch.shape == (len(images), 3, height, width) and batch.dtype == torch.float32
    torch.testing.assert_close(scales, torch.tensor([s for s, _, _ in resized]))
    for i, (image, (_, nh, nw)) in enumerate(zip(images, resized)):
        alone, _ = letterbox(to_float_image(image), size, multiple)
        torch.testing.assert_close(batch[i, :, :nh, :nw], alone[:, :nh, :nw].clamp(0, 1))
        content = torch.zeros(height, width, dtype=torch.bool)
        content[:nh, :nw] = True
        assert batch[i][:, ~content].eq(0).all()
