"""TopDownAugmentation: the crop of a person box, its flip, random draws that keep keypoints on
their pixels, half-body crops, seeds and errors; consistent with the crop codec."""

from __future__ import annotations

import pytest
import torch

from cgalib.codecs import crop_affine, crop_images, crop_keypoints, person_crop_boxes
from cgalib.data import FLIP_INDEX, KEYPOINT_NAMES, TopDownAugmentation


def _item(box, kps):
    return {"boxes": torch.tensor([box]), "keypoints": kps[None]}


def test_without_augmentation_it_is_the_codec_crop():
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 255, (2, 3, 100, 120), dtype=torch.uint8, generator=g)
    boxes = [[10.0, 5.0, 50.0, 95.0], [60.0, 30.0, 118.0, 70.0]]
    kps = torch.cat([torch.rand(2, 17, 2, generator=g) * 40 + 20, torch.full((2, 17, 1), 2.0)], -1)
    plain = TopDownAugmentation((64, 48), scale=0, rotation_prob=0, flip_prob=0)
    crops, out = plain(images, [_item(b, k) for b, k in zip(boxes, kps)])
    m = crop_affine(person_crop_boxes(torch.tensor(boxes).double(), (64, 48)), (64, 48))
    torch.testing.assert_close(crops, crop_images(images, m.float(), (64, 48)))
    torch.testing.assert_close(out, crop_keypoints(kps.double(), m, (64, 48)).float())


def test_a_flip_mirrors_the_crop_and_swaps_sides():
    images = torch.rand(1, 3, 80, 80)
    kps = torch.zeros(17, 3)
    left = KEYPOINT_NAMES.index("left_wrist")
    kps[left] = torch.tensor([30.0, 40.0, 2.0])
    box = [20.0, 10.0, 60.0, 70.0]
    common = {"scale": 0, "rotation_prob": 0}
    crop, plain = TopDownAugmentation((64, 48), flip_prob=0, **common)(images, [_item(box, kps)])
    mirror, flipped = TopDownAugmentation((64, 48), flip_prob=1, **common)(
        images, [_item(box, kps)]
    )
    torch.testing.assert_close(mirror, crop.flip(-1), atol=1e-4, rtol=0)
    right = FLIP_INDEX[left]
    assert flipped[0, left].tolist() == [0.0, 0.0, 0.0]
    assert flipped[0, right, 0].item() == pytest.approx(47 - plain[0, left, 0].item())
    assert flipped[0, right, 1].item() == pytest.approx(plain[0, left, 1].item())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_keypoints_land_on_their_pixels_under_random_augmentation(seed):
    size = 100
    yy, xx = torch.meshgrid(torch.arange(float(size)), torch.arange(float(size)), indexing="ij")
    x0, y0 = 52.0, 47.0
    images = torch.exp(-((xx - x0) ** 2 + (yy - y0) ** 2) / (2 * 2.0**2)).expand(4, 3, size, size)
    kps = torch.zeros(17, 3)
    kps[0] = torch.tensor([x0, y0, 2.0])  # the nose
    aug = TopDownAugmentation((64, 48), rotation_prob=1, flip_prob=0.5, seed=seed)
    crops, out = aug(images, [_item([30.0, 20.0, 75.0, 90.0], kps)] * 4)
    cy, cx = torch.meshgrid(torch.arange(64.0), torch.arange(48.0), indexing="ij")
    for crop, k in zip(crops[:, 0], out[:, 0]):
        weight = crop / crop.sum()
        centroid = torch.stack([(weight * cx).sum(), (weight * cy).sum()])
        torch.testing.assert_close(centroid, k[:2], atol=0.15, rtol=0)


def test_half_body_crops_the_chosen_half():
    kps = torch.zeros(17, 3)
    kps[:, 2] = 2
    kps[:11, 0], kps[:11, 1] = torch.linspace(40, 60, 11), torch.linspace(10, 50, 11)  # upper
    kps[11:, 0], kps[11:, 1] = torch.linspace(40, 60, 6), torch.linspace(80, 140, 6)  # lower
    images = torch.rand(8, 3, 150, 100)
    aug = TopDownAugmentation(
        (64, 48), scale=0, rotation_prob=0, flip_prob=0, half_body_prob=1, seed=0
    )
    _, out = aug(images, [_item([35.0, 5.0, 65.0, 145.0], kps)] * 8)
    inside = out[..., 2] > 0
    upper_only = inside[:, :11].all(1) & ~inside[:, 11:].any(1)
    lower_only = inside[:, 11:].all(1) & ~inside[:, :11].any(1)
    assert (upper_only | lower_only).all() and upper_only.any() and lower_only.any()
    # too few labelled keypoints: the whole person
    few = kps.clone()
    few[3:, 2] = 0
    few[3:, :2] = 0
    _, whole = aug(images[:1], [_item([35.0, 5.0, 65.0, 145.0], few)])
    assert (whole[0, :3, 2] > 0).all()


def test_a_seed_repeats_the_draws():
    images = torch.rand(3, 3, 60, 60)
    items = [_item([5.0, 5.0, 40.0, 55.0], torch.rand(17, 3) * 30)] * 3
    a = TopDownAugmentation((64, 48), seed=3)(images, items)
    b = TopDownAugmentation((64, 48), seed=3)(images, items)
    torch.testing.assert_close(a, b)


def test_bad_inputs_are_clear():
    aug = TopDownAugmentation((64, 48))
    with pytest.raises(ValueError, match="one person per item"):
        aug(
            torch.rand(1, 3, 10, 10),
            [{"boxes": torch.zeros(2, 4), "keypoints": torch.zeros(2, 17, 3)}],
        )
    with pytest.raises(ValueError, match="2 images but 1 targets"):
        aug(torch.rand(2, 3, 10, 10), [_item([0.0, 0.0, 5.0, 5.0], torch.zeros(17, 3))])
    with pytest.raises(ValueError, match=r"scale must be in \[0, 1\)"):
        TopDownAugmentation(scale=1.5)
    with pytest.raises(ValueError, match="needs the flip_index"):
        TopDownAugmentation(flip_index=None)
