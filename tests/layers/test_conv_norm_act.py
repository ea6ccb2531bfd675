"""ConvNormAct: conv -> norm -> act with "same" padding; the norm and act are passed in."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cgalib.layers.conv_norm_act import ConvNormAct


def test_layers_in_order_and_bias_only_without_norm():
    block = ConvNormAct(3, 8, 3)
    conv, norm, act = block
    assert isinstance(norm, nn.BatchNorm2d) and norm.num_features == 8
    assert isinstance(act, nn.ReLU) and conv.bias is None
    bare = ConvNormAct(3, 8, 1, norm_layer=None, act_layer=None)
    assert len(bare) == 1 and bare[0].bias is not None


@pytest.mark.parametrize(("kernel", "stride", "size", "out"), [(1, 1, 9, 9), (3, 1, 9, 9),
                                                               (5, 2, 16, 8), (3, 2, 9, 5)])  # fmt: skip
def test_same_padding_for_odd_kernels(kernel, stride, size, out):
    block = ConvNormAct(4, 6, kernel, stride=stride)
    assert block[0].padding == (kernel // 2, kernel // 2)
    assert block(torch.rand(2, 4, size, size)).shape == (2, 6, out, out)


def test_output_is_the_three_layers_applied_in_turn():
    block = ConvNormAct(3, 5, 3, norm_layer=nn.BatchNorm2d, act_layer=nn.ReLU).eval()
    with torch.no_grad():
        block[1].running_mean.uniform_(-1, 1)
        block[1].running_var.uniform_(0.5, 2)
    x = torch.randn(2, 3, 7, 7)
    conv = nn.functional.conv2d(x, block[0].weight, padding=1)
    bn = block[1]
    expected = ((conv - bn.running_mean[:, None, None]) / (bn.running_var[:, None, None] + bn.eps).sqrt()
                * bn.weight[:, None, None] + bn.bias[:, None, None]).clamp(min=0)  # fmt: skip
    torch.testing.assert_close(block(x), expected)


def test_the_constructors_passed_in_are_used():
    block = ConvNormAct(3, 8, norm_layer=lambda c: nn.GroupNorm(2, c), act_layer=nn.SiLU)
    assert isinstance(block[1], nn.GroupNorm) and block[1].num_channels == 8
    assert isinstance(block[2], nn.SiLU)
