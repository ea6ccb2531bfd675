"""PredictionHead: conv3x3 -> ReLU -> conv1x1, its initial bias, and the heatmap prior."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cgalib.heads.prediction_head import HEATMAP_PRIOR_BIAS, PredictionHead


def test_the_prior_starts_heatmaps_near_a_tenth():
    assert torch.sigmoid(torch.tensor(HEATMAP_PRIOR_BIAS)).item() == pytest.approx(0.1, abs=1e-3)


def test_layers_and_initial_biases():
    head = PredictionHead(6, 3, hidden_channels=5, bias=-1.5)
    conv3, relu, conv1 = head
    assert isinstance(relu, nn.ReLU)
    assert (conv3.in_channels, conv3.out_channels, conv3.kernel_size, conv3.padding) == (
        6, 5, (3, 3), (1, 1),
    )  # fmt: skip
    assert (conv1.in_channels, conv1.out_channels, conv1.kernel_size) == (5, 3, (1, 1))
    assert not conv3.bias.any() and conv1.bias.tolist() == [-1.5] * 3
    assert not PredictionHead(6, 2)[-1].bias.any()  # regressions start at zero


def test_output_is_conv1x1_of_relu_of_conv3x3():
    head = PredictionHead(4, 2, hidden_channels=8, bias=0.3)
    with torch.no_grad():
        head[0].bias.normal_()
    x = torch.randn(2, 4, 5, 7)
    hidden = F.relu(F.conv2d(x, head[0].weight, head[0].bias, padding=1))
    expected = F.conv2d(hidden, head[2].weight, head[2].bias)
    out = head(x)
    assert out.shape == (2, 2, 5, 7)
    torch.testing.assert_close(out, expected)


def test_a_zero_input_gives_the_bias_everywhere():
    out = PredictionHead(3, 1, bias=HEATMAP_PRIOR_BIAS)(torch.zeros(1, 3, 4, 4))
    torch.testing.assert_close(out, torch.full((1, 1, 4, 4), HEATMAP_PRIOR_BIAS))


def test_weights_use_kaiming_uniform_bounds():
    head = PredictionHead(16, 2, hidden_channels=8)
    # kaiming_uniform_(a=sqrt(5)) bounds each weight by 1 / sqrt(fan_in)
    assert head[0].weight.abs().max() <= 1 / math.sqrt(16 * 9)
    assert head[2].weight.abs().max() <= 1 / math.sqrt(8)
    assert head[0].weight.std() > 0.3 / math.sqrt(16 * 9)  # not a degenerate init
