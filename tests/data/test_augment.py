"""PoseAugmentation: flip convention, keypoints follow pixels, boxes and masks agree."""

from __future__ import annotations

import pytest
import torch

from cgalib.data import KEYPOINT_NAMES, PoseAugmentation, affine_boxes

from helpers import BODY14


def _target(kps: torch.Tensor, boxes: torch.Tensor) -> dict:
    return {"boxes": boxes, "keypoints": kps}


def test_flip_swaps_sides_and_mirrors_pixels(device):
    aug = PoseAugmentation(output_size=40, scale=(1, 1), rotation=0, translation=0, flip_prob=1)
    images = torch.rand(1, 3, 40, 40, device=device)
    kps = torch.zeros(1, 17, 3, device=device)
    kps[0, KEYPOINT_NAMES.index("left_wrist")] = torch.tensor([3.0, 7.0, 2.0])
    kps[0, KEYPOINT_NAMES.index("nose")] = torch.tensor([10.0, 5.0, 1.0])
    out, targets = aug(
        images, [_target(kps, torch.tensor([[2.0, 4.0, 12.0, 30.0]], device=device))]
    )
    # the image is mirrored exactly as torch.flip mirrors it: pixel x -> W - 1 - x
    torch.testing.assert_close(out, images.flip(-1), atol=1e-5, rtol=0)
    k = targets[0]["keypoints"][0]
    assert k[KEYPOINT_NAMES.index("right_wrist")].tolist() == [36.0, 7.0, 2.0]
    assert k[KEYPOINT_NAMES.index("left_wrist")].tolist() == [0.0, 0.0, 0.0]
    assert k[KEYPOINT_NAMES.index("nose")].tolist() == [29.0, 5.0, 1.0]
    # boxes are continuous: [x0, x1) -> [W - x1, W - x0)
    assert targets[0]["boxes"][0].tolist() == pytest.approx([28.0, 4.0, 38.0, 30.0])


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_keypoint_lands_on_its_transformed_pixel(seed, device):
    size = 96
    points = torch.tensor([[30.0, 40.0], [70.0, 25.0], [48.0, 75.0]])
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    images = torch.zeros(len(points), 3, size, size)
    for i, (x, y) in enumerate(points):
        images[i, :] = torch.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 1.2**2))
    kps = torch.zeros(len(points), 1, 17, 3)
    kps[:, 0, 0, :2], kps[:, 0, 0, 2] = points, 2
    targets = [
        _target(kps[i], torch.tensor([[20.0, 20.0, 80.0, 80.0]])) for i in range(len(points))
    ]
    aug = PoseAugmentation(output_size=80, translation=10, seed=seed)
    out, new = aug(images.to(device), [{k: v.to(device) for k, v in t.items()} for t in targets])
    for i in range(len(points)):
        k = new[i]["keypoints"][0, 0]
        if k[2] == 0:  # left the crop
            continue
        flat = out[i, 0].argmax()
        peak = torch.stack([flat % 80, flat // 80]).float()
        assert torch.dist(peak, k[:2]) <= 1.5, (seed, i, peak, k)


def test_boxes_enclose_masks_and_match_them(device):
    size = 64
    masks = torch.zeros(2, size, size, dtype=torch.bool)
    masks[0, 10:40, 20:30] = True
    masks[1, 30:60, 5:50] = True
    boxes = torch.tensor([[20.0, 10.0, 30.0, 40.0], [5.0, 30.0, 50.0, 60.0]])
    kps = torch.zeros(2, 17, 3)
    kps[0, 5] = torch.tensor([25.0, 20.0, 2.0])
    t = {"boxes": boxes, "keypoints": kps, "masks": masks, "ignore_mask": masks[1].clone()}
    aug = PoseAugmentation(output_size=size, seed=3)
    for _ in range(5):
        _, (nt,) = aug(
            torch.rand(1, 3, size, size, device=device), [{k: v.to(device) for k, v in t.items()}]
        )
        assert nt["masks"].shape[0] == nt["boxes"].shape[0] == nt["keypoints"].shape[0]
        for m, b in zip(nt["masks"], nt["boxes"]):
            ys, xs = torch.nonzero(m, as_tuple=True)
            assert b.tolist() == [
                xs.min().item(),
                ys.min().item(),
                xs.max().item() + 1,
                ys.max().item() + 1,
            ]
        assert nt["ignore_mask"].shape == (size, size)


def test_boxes_without_masks_contain_keypoints_and_stay_inside(device):
    aug = PoseAugmentation(output_size=64, seed=7)
    kps = torch.zeros(3, 17, 3)
    kps[:, :, :2] = torch.rand(3, 17, 2) * 30 + 10
    kps[:, :, 2] = 2
    boxes = torch.cat([kps[:, :, :2].amin(1), kps[:, :, :2].amax(1) + 1], 1)
    for _ in range(5):
        _, (nt,) = aug(
            torch.rand(1, 3, 64, 64, device=device), [_target(kps.to(device), boxes.to(device))]
        )
        b, k = nt["boxes"], nt["keypoints"]
        assert ((b >= 0) & (b <= 64)).all()
        vis = k[..., 2] > 0
        # a keypoint (pixel index x) is the continuous point x + 0.5: inside its box
        centre = k[..., :2] + 0.5
        assert (centre[vis] >= b[:, None, :2].expand(-1, 17, -1)[vis] - 1e-4).all()
        assert (centre[vis] <= b[:, None, 2:].expand(-1, 17, -1)[vis] + 1e-4).all()


def test_ellipse_boxes_are_exact_without_rotation_and_tighter_with_it():
    box = torch.tensor([[10.0, 10.0, 20.0, 50.0]])
    zoom = torch.tensor([[2.0, 0.0, 3.0], [0.0, 2.0, 1.0]])  # pixel indices: x -> 2x + 3
    # continuous coordinates: p -> 2 (p - 0.5) + 3 + 0.5 = 2p + 2.5 (and 2p + 0.5 for y)
    for mode in ("ellipse", "corners"):
        got = affine_boxes(box, zoom, (200, 200), mode)
        assert got[0].tolist() == pytest.approx([22.5, 20.5, 42.5, 100.5])
    c, s = 0.7071, 0.7071
    rot = torch.tensor([[c, -s, 60.0], [s, c, 60.0]])
    ell = affine_boxes(box, rot, (200, 200), "ellipse")[0]
    cor = affine_boxes(box, rot, (200, 200), "corners")[0]
    assert (ell[2] - ell[0]) < (cor[2] - cor[0])


def test_people_leaving_the_crop_are_removed_and_seed_reproduces(device):
    kps = torch.zeros(1, 17, 3)
    kps[0, 0] = torch.tensor([1.0, 1.0, 2.0])
    t = _target(kps.to(device), torch.tensor([[0.0, 0.0, 3.0, 3.0]], device=device))
    aug = PoseAugmentation(output_size=32, scale=(1, 1), rotation=0, translation=0, flip_prob=0)
    _, (same,) = aug(torch.rand(1, 3, 128, 128, device=device), [t])
    assert same["boxes"].shape[0] == 0 and same["keypoints"].shape == (0, 17, 3)
    a = PoseAugmentation(output_size=32, seed=11)(torch.ones(2, 3, 40, 40, device=device), [t, t])
    b = PoseAugmentation(output_size=32, seed=11)(torch.ones(2, 3, 40, 40, device=device), [t, t])
    torch.testing.assert_close(a[0], b[0])


def test_uint8_input_gives_float_output_and_errors():
    aug = PoseAugmentation(output_size=16, seed=0)
    t = _target(torch.zeros(0, 17, 3), torch.zeros(0, 4))
    out, _ = aug(torch.full((1, 3, 16, 16), 255, dtype=torch.uint8), [t])
    assert out.dtype == torch.float32 and out.max() <= 1
    with pytest.raises(ValueError, match="targets"):
        aug(torch.rand(2, 3, 16, 16), [t])
    with pytest.raises(ValueError, match="B, 3, H, W"):
        aug(torch.rand(3, 16, 16), [t])
    with pytest.raises(ValueError, match="scale"):
        PoseAugmentation(scale=(1.5, 0.6))


def test_ignore_masks_move_with_their_image_and_empty_ones_stay_empty(device):
    size = 48
    kps = torch.zeros(1, 17, 3)
    boxes = torch.tensor([[4.0, 4.0, 20.0, 30.0]])
    full = torch.zeros(size, size, dtype=torch.bool)
    full[8:40, 10:30] = True
    targets = [
        {**_target(kps, boxes), "ignore_mask": full},
        {**_target(kps, boxes), "ignore_mask": torch.zeros(size, size, dtype=torch.bool)},
    ]
    images = torch.zeros(2, 3, size, size)
    images[0, :, 8:40, 10:30] = 1.0  # the image shows where its ignore mask is
    aug = PoseAugmentation(output_size=32, seed=5)
    out, (a, b) = aug(images.to(device), [{k: v.to(device) for k, v in t.items()} for t in targets])
    assert a["ignore_mask"].shape == b["ignore_mask"].shape == (32, 32)
    assert not b["ignore_mask"].any()
    inside = out[0, 0] > 0.5
    agree = (a["ignore_mask"] == inside).float().mean().item()
    assert a["ignore_mask"].sum() > 50 and agree > 0.97


def test_flip_augmentation_swaps_the_sets_left_and_right_joints():
    """A flip without rotation, scaling or shift: keypoint ``k`` of the output is the mirror
    of keypoint ``flip_index[k]`` of the input, so every left joint lands on its right
    partner's slot; the neck and the head top stay in theirs."""
    size = 64
    xy = torch.stack([torch.arange(14.0) * 3 + 5, torch.arange(14.0) + 20], 1)
    keypoints = torch.cat([xy, torch.full((14, 1), 2.0)], 1)[None]
    target = {"boxes": torch.tensor([[4.0, 18.0, 50.0, 36.0]]), "keypoints": keypoints}
    aug = PoseAugmentation(size, scale=(1.0, 1.0), rotation=0.0, translation=0.0,
                           flip_prob=1.0, flip_index=BODY14.flip_index, seed=0)  # fmt: skip
    _, (out,) = aug(torch.zeros(1, 3, size, size, dtype=torch.uint8), [target])
    got = out["keypoints"][0]
    index = {n: i for i, n in enumerate(BODY14.names)}
    for name, i in index.items():
        partner = name.replace("left", "@").replace("right", "left").replace("@", "right")
        src = keypoints[0, index[partner]]
        assert got[i].tolist() == [size - 1 - src[0].item(), src[1].item(), 2.0], name
    assert index["neck"] == BODY14.flip_index[index["neck"]]


def test_augmentation_refuses_keypoints_of_another_set():
    target = {"boxes": torch.tensor([[4.0, 4.0, 20.0, 20.0]]), "keypoints": torch.zeros(1, 14, 3)}
    with pytest.raises(ValueError, match="flips 17 keypoints; pass the data set's flip map"):
        PoseAugmentation(32)(torch.zeros(1, 3, 32, 32), [target])
    with pytest.raises(ValueError, match=r"flip_index is not a permutation of 0\.\.1"):
        PoseAugmentation(32, flip_index=(0, 0))
