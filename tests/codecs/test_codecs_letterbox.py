"""letterbox / letterbox_target: sizes, padding and the shared coordinate conventions."""

from __future__ import annotations

import pytest
import torch

from cgalib.codecs import letterbox, letterbox_target


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
