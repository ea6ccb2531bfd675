import pytest
import torch
from torch import nn

from cgalib import ResidualBlock


def test_identity_shortcut_when_shape_is_kept():
    block = ResidualBlock(8)
    assert isinstance(block.shortcut, nn.Identity)
    assert block(torch.rand(2, 8, 10, 6)).shape == (2, 8, 10, 6)


@pytest.mark.parametrize("size", [(16, 12), (15, 9)])
def test_stride_two_projects_and_halves(size):
    block = ResidualBlock(8, 16, stride=2)
    assert not isinstance(block.shortcut, nn.Identity)
    out = block(torch.rand(1, 8, *size))
    assert out.shape == (1, 16, (size[0] + 1) // 2, (size[1] + 1) // 2)


def test_output_is_relu_of_residual_plus_shortcut():
    block = ResidualBlock(4, 6).eval()
    x = torch.randn(1, 4, 5, 5)
    expected = torch.relu(block.conv2(block.conv1(x)) + block.shortcut(x))
    torch.testing.assert_close(block(x), expected)


def test_bad_stride_is_rejected():
    with pytest.raises(ValueError, match="stride"):
        ResidualBlock(4, 4, stride=3)
