import torch

from cgalib.codecs import letterbox_batch


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
