"""The crop codec: person box -> crop region -> affine, keypoints and boxes both ways."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cgalib.codecs import (
    affine_boxes,
    crop_affine,
    crop_images,
    crop_keypoints,
    decode_roi_heatmaps,
    invert_affine,
    is_flipped,
    person_crop_boxes,
    roi_keypoint_targets,
    transform_points,
    uncrop_keypoints,
    whole_crop_boxes,
)
from cgalib.utils.coco_meta import FLIP_INDEX

CROP = (256, 192)


def _case(seed, n=3, k=17, crop=CROP):
    """Random boxes, crop transforms and keypoints that land inside their crops."""
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 300 - 50
    wh = torch.rand(n, 2, generator=g) * 300 + 5
    boxes = torch.cat([xy, xy + wh], 1).double()
    scale = (torch.rand(n, generator=g) * 0.7 + 0.65).double()
    rotation = (torch.rand(n, generator=g) * 90 - 45).double()
    flip = torch.rand(n, generator=g) < 0.5
    m = crop_affine(person_crop_boxes(boxes, crop), crop, scale, rotation, flip)
    # keypoints drawn in the crop (so all are inside), mapped to the image exactly
    h, w = crop
    in_crop = torch.rand(n, k, 2, generator=g).double() * torch.tensor([w - 1.0, h - 1.0])
    ones = torch.ones(n, k, 1, dtype=torch.float64)
    image_kps = transform_points(torch.cat([in_crop, 2 * ones], -1), invert_affine(m))
    return image_kps, m


def test_crop_region_has_the_crop_aspect_and_the_padding():
    boxes = torch.tensor([[10.0, 20.0, 40.0, 120.0], [0.0, 0.0, 200.0, 50.0]])
    regions = person_crop_boxes(boxes, CROP)
    size = regions[:, 2:] - regions[:, :2]
    torch.testing.assert_close(size[:, 0] / size[:, 1], torch.full((2,), 192 / 256))
    # the longer side (relative to 3:4) is kept, times 1.25; the centre does not move
    torch.testing.assert_close(size[0, 1], torch.tensor(100 * 1.25))
    torch.testing.assert_close(size[1, 0], torch.tensor(200 * 1.25))
    torch.testing.assert_close(regions[:, :2] + regions[:, 2:], boxes[:, :2] + boxes[:, 2:])
    # a degenerate box still gets a small valid region
    tiny = person_crop_boxes(torch.tensor([[5.0, 5.0, 5.0, 5.0]]), CROP)
    assert (tiny[:, 2:] > tiny[:, :2]).all()


def test_region_corners_go_to_the_crop_corners():
    region = torch.tensor([[-20.0, 10.0, 100.0, 170.0]])
    for flip in (False, True):
        m = crop_affine(region, CROP, flip=torch.tensor([flip]))
        corners = torch.tensor([[[-20.5, 9.5, 0.0], [99.5, 169.5, 0.0]]])  # continuous corners
        got = transform_points(corners, m)[0, :, :2]
        left, right = -0.5, 191.5
        expected = [[right, -0.5], [left, 255.5]] if flip else [[left, -0.5], [right, 255.5]]
        torch.testing.assert_close(got, torch.tensor(expected))
        assert bool(is_flipped(m)[0]) == flip


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_keypoints_round_trip_through_the_crop(seed):
    """Forward then inverse returns every keypoint (scales, rotations, flips), far within 0.5 px."""
    kps, m = _case(seed)
    crop = crop_keypoints(kps, m, CROP, FLIP_INDEX)
    assert (crop[..., 2] == 2).all()  # all inside their crops: none dropped
    back = uncrop_keypoints(crop, m, flip_index=FLIP_INDEX)
    torch.testing.assert_close(back, kps, atol=1e-6, rtol=0)


def _round_trip_error(seed):
    """Crop -> Gaussian target -> decode -> inverse crop of one ``_case``: ``(kps, m, back,
    err, labelled)``, ``err`` the error in the crop's heatmap cells, ``[n, K, 2]``."""
    kps, m = _case(seed)
    kps, m = kps.float(), m.float()
    h, w = CROP
    heat_size = (h // 4, w // 4)
    crop = crop_keypoints(kps, m, CROP, FLIP_INDEX)
    crop_box = whole_crop_boxes(len(kps), CROP)  # what TopDownPose decodes with
    target, weight = roi_keypoint_targets(crop, crop_box, heat_size)
    decoded = decode_roi_heatmaps(target, crop_box, logits=False)
    back = uncrop_keypoints(decoded, m, flip_index=FLIP_INDEX)
    err = (crop_keypoints(back, m, CROP, FLIP_INDEX)[..., :2] - crop[..., :2]) / 4
    return kps, m, back, err, weight > 0


def test_crop_round_trip_has_no_systematic_offset():
    """Pooled over 100 random cases (about 5,000 points), the signed round-trip error is
    centred: below 0.03 heatmap cell on each axis, where a half-pixel slip of the pixel-centre
    convention shows as 0.125 cell (2 crop pixels per cell / 4)."""
    errors = []
    for seed in range(100):
        *_, err, labelled = _round_trip_error(seed)
        errors.append(err[labelled])
    pooled = torch.cat(errors)
    assert len(pooled) > 4000
    assert pooled.mean(0).abs().max() < 0.03
    assert 0.2 < pooled.abs().mean() < 0.3  # the rounding of an integer peak: about 0.25


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_crop_target_decode_uncrop_is_within_half_a_heatmap_cell(seed):
    """Crop -> Gaussian target -> argmax decode -> inverse crop: only the heatmap's rounding
    is lost, at most half a heatmap cell per axis (the bound the integer-peak target allows)."""
    kps, m, back, err, labelled = _round_trip_error(seed)
    assert labelled.any()
    assert err[labelled].abs().max() <= 0.5 + 1e-3
    # and in image pixels: half a cell on each axis of the (possibly rotated) crop
    cell_px = (m[:, 0, :2].norm(dim=-1) / 4).reciprocal()  # image pixels per heatmap cell
    image_err = (back[..., :2] - kps[..., :2]).norm(dim=-1)
    assert (image_err <= cell_px[:, None] * 0.5 * math.sqrt(2) + 1e-3)[labelled].all()


@pytest.mark.parametrize("rotation, flip", [(0.0, False), (30.0, False), (-40.0, True)])
def test_crop_pixels_follow_the_keypoint_affine(rotation, flip):
    """A bright blob at a keypoint lands where crop_keypoints puts the keypoint."""
    size = 120
    yy, xx = torch.meshgrid(torch.arange(float(size)), torch.arange(float(size)), indexing="ij")
    x0, y0 = 47.0, 66.0
    image = torch.exp(-((xx - x0) ** 2 + (yy - y0) ** 2) / (2 * 2.0**2)).expand(1, 3, size, size)
    region = person_crop_boxes(torch.tensor([[20.0, 30.0, 80.0, 110.0]]), (128, 96))
    m = crop_affine(region, (128, 96), rotation=torch.tensor([rotation]), flip=torch.tensor([flip]))
    crop = crop_images(image, m, (128, 96))[0, 0]
    kps = torch.zeros(1, 17, 3)
    kps[0, 0] = torch.tensor([x0, y0, 2.0])  # the nose: its own mirror partner
    kp = crop_keypoints(kps, m, (128, 96), FLIP_INDEX)[0, 0]
    cy, cx = torch.meshgrid(torch.arange(128.0), torch.arange(96.0), indexing="ij")
    weight = crop / crop.sum()
    centroid = torch.stack([(weight * cx).sum(), (weight * cy).sum()])
    torch.testing.assert_close(centroid, kp[:2], atol=0.1, rtol=0)


def test_boxes_touching_the_border_pad_with_zeros_and_map_back():
    """A person at the image's left/top edge: the crop shows zeros outside the image, and
    keypoints on the edge pixels go there and back exactly."""
    image = torch.full((1, 3, 100, 80), 255, dtype=torch.uint8)
    box = torch.tensor([[0.0, 0.0, 30.0, 60.0]])  # touches the left and top border
    m = crop_affine(person_crop_boxes(box, (64, 48)), (64, 48))
    crop = crop_images(image, m, (64, 48))[0, 0]
    # each crop pixel's source position: inside the image -> 1, more than 1 px outside -> 0
    cy, cx = torch.meshgrid(torch.arange(64.0), torch.arange(48.0), indexing="ij")
    src = transform_points(torch.stack([cx, cy], -1).reshape(1, -1, 2), invert_affine(m))[0]
    src = src.reshape(64, 48, 2)
    outside = (src[..., 0] < -1) | (src[..., 1] < -1)
    inside = (src[..., 0] >= 0) & (src[..., 1] >= 0)
    assert outside.any() and inside.any()
    assert crop[outside].abs().max() == 0  # zero padding
    torch.testing.assert_close(crop[inside], torch.ones_like(crop[inside]))
    edge = torch.tensor([[[0.0, 0.0, 2.0], [0.0, 59.0, 2.0], [29.0, 0.0, 1.0]]])
    there = crop_keypoints(edge, m, (64, 48))
    assert (there[..., 2] > 0).all()
    torch.testing.assert_close(uncrop_keypoints(there, m, image_size=(100, 80)), edge)


@pytest.mark.parametrize("flip", [False, True])
def test_boxes_forward_and_back_without_rotation(flip):
    boxes = torch.tensor([[10.0, 20.0, 40.0, 100.0], [-5.0, 0.0, 60.0, 30.0]])
    regions = person_crop_boxes(boxes, CROP)
    m = crop_affine(regions, CROP, scale=torch.tensor([1.0, 1.3]), flip=torch.tensor([flip] * 2))
    there = affine_boxes(boxes, m, None)
    back = affine_boxes(there, invert_affine(m), None)
    torch.testing.assert_close(back, boxes, atol=1e-4, rtol=0)
    # the whole region is the whole crop
    torch.testing.assert_close(
        affine_boxes(regions[:1], m[:1], None),
        torch.tensor([[0.0, 0.0, 192.0, 256.0]]),
        atol=1e-4,
        rtol=0,
    )


def test_a_single_matrix_still_moves_all_rows():
    m = torch.tensor([[1.0, 0.0, 3.0], [0.0, 1.0, -1.0]])
    pts = torch.rand(4, 5, 3)
    out = transform_points(pts, m)
    torch.testing.assert_close(out[..., :2], pts[..., :2] + torch.tensor([3.0, -1.0]))
    torch.testing.assert_close(out[..., 2], pts[..., 2])


def test_bad_inputs_are_clear():
    m = crop_affine(torch.tensor([[0.0, 0.0, 10.0, 10.0]]), CROP, flip=torch.tensor([True]))
    with pytest.raises(ValueError, match="needs flip_index"):
        crop_keypoints(torch.zeros(1, 17, 3), m, CROP)
    with pytest.raises(ValueError, match="needs flip_index"):
        uncrop_keypoints(torch.zeros(1, 17, 3), m)
    with pytest.raises(ValueError, match=r"boxes \(N, 4\)"):
        person_crop_boxes(torch.zeros(4), CROP)
    with pytest.raises(ValueError, match="crop_size"):
        person_crop_boxes(torch.zeros(1, 4), (0, 192))
    with pytest.raises(ValueError, match=r"matrices \(2, 3\)"):
        invert_affine(torch.eye(3))
    with pytest.raises(ValueError, match="same N"):
        crop_images(torch.zeros(2, 3, 8, 8), m, CROP)
    with pytest.raises(ValueError, match="flip_index is not a permutation of 0..16"):
        crop_keypoints(torch.zeros(1, 17, 3), m, CROP, flip_index=[0] * 17)


def test_the_rotation_sign_and_where_the_centre_goes():
    """The conventions docs/top-down.md sets beside mmpose's: a positive rotation turns the
    image clockwise on screen in the crop (a point right of the centre lands below it;
    mmpose's get_warp_matrix puts it above), and the region's continuous centre lands on
    the crop index ((W - 1) / 2, (H - 1) / 2) (mmpose's: (W / 2, H / 2))."""
    region = torch.tensor([[0.0, 0.0, 96.0, 128.0]], dtype=torch.float64)  # scale 1
    centre = torch.tensor([[[47.5, 63.5, 1.0], [57.5, 63.5, 1.0]]], dtype=torch.float64)
    straight = transform_points(centre, crop_affine(region, (128, 96)))
    torch.testing.assert_close(straight, centre)  # centre -> (47.5, 63.5) = ((W-1)/2, (H-1)/2)
    turned = transform_points(centre, crop_affine(region, (128, 96), rotation=torch.tensor([90.0])))
    torch.testing.assert_close(turned[0, 0, :2], torch.tensor([47.5, 63.5], dtype=torch.float64))
    torch.testing.assert_close(turned[0, 1, :2], torch.tensor([47.5, 73.5], dtype=torch.float64))
    # at scale 2 the continuous centre still lands on the crop's middle; an image pixel index
    # p goes to s (p + 0.5 - c) + W / 2 - 0.5 (mmpose's s (p - c) + W / 2 differs by 0.5 (s - 1))
    small = torch.tensor([[24.0, 32.0, 72.0, 96.0]], dtype=torch.float64)  # 48 x 64: s = 2
    p = torch.tensor([[[30.0, 40.0, 1.0]]], dtype=torch.float64)
    q = transform_points(p, crop_affine(small, (128, 96)))
    c, middle = torch.tensor([48.0, 64.0]), torch.tensor([47.5, 63.5])
    expected = 2 * (p[0, 0, :2] + 0.5 - c.double()) + middle.double()
    torch.testing.assert_close(q[0, 0, :2], expected)
