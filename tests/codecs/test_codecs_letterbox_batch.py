import math

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cgalib.codecs import letterbox, letterbox_batch, letterbox_size
from cgalib.utils import to_float_image


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
