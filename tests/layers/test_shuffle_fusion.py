import pytest
import torch

from cgalib import ShuffleFusion


def test_shuffle_then_concat_by_index():
    fuse = ShuffleFusion(8, 3)
    coarse, fine = torch.randn(2, 8, 3, 4), torch.randn(2, 3, 6, 8)
    out = fuse(coarse, fine)
    assert out.shape == (2, 8 // 4 + 3, 6, 8) and fuse.out_channels == 5
    # pixel shuffle: out[c, 2h + i, 2w + j] = coarse[4c + 2i + j, h, w]
    for c in range(2):
        for i in range(2):
            for j in range(2):
                torch.testing.assert_close(out[:, c, i::2, j::2], coarse[:, 4 * c + 2 * i + j])
    torch.testing.assert_close(out[:, 2:], fine)


def test_channels_must_divide_by_scale_squared():
    with pytest.raises(ValueError, match="divisible"):
        ShuffleFusion(6, 3)


def test_size_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="does not match"):
        ShuffleFusion(8, 3)(torch.rand(1, 8, 3, 3), torch.rand(1, 3, 5, 6))


def test_empty_batch_runs_backward():
    coarse = torch.rand(0, 8, 2, 2, requires_grad=True)
    out = ShuffleFusion(8, 3)(coarse, torch.rand(0, 3, 4, 4))
    out.sum().backward()
    assert coarse.grad.shape == coarse.shape


def test_matches_torch_pixel_shuffle():
    from cgalib.layers.shuffle_fusion import pixel_shuffle

    x = torch.randn(2, 36, 3, 5)
    torch.testing.assert_close(pixel_shuffle(x, 3), torch.nn.functional.pixel_shuffle(x, 3))
