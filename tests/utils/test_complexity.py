"""count_parameters and count_macs: sizes and multiply-accumulates counted by hand."""

from __future__ import annotations

import torch
from torch import nn

from cgalib.ops import roi_align
from cgalib.utils import count_macs, count_parameters


def test_parameters_by_hand_and_trainable_only():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Linear(4, 2))
    assert count_parameters(model) == (3 * 9 * 8 + 8) + 2 * 8 + (4 * 2 + 2)
    model[0].requires_grad_(False)
    assert count_parameters(model, trainable_only=True) == 2 * 8 + (4 * 2 + 2)
    assert count_parameters(model) == 224 + 16 + 10  # frozen ones still count


def test_macs_of_a_convolution_and_a_linear_layer_by_hand():
    conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
    assert count_macs(conv, torch.rand(1, 3, 4, 4)) == 8 * 4 * 4 * 3 * 9
    assert count_macs(conv, torch.rand(2, 3, 4, 4)) == 2 * 8 * 4 * 4 * 3 * 9  # per batch
    assert count_macs(nn.Linear(5, 7), torch.rand(3, 5)) == 3 * 5 * 7


def test_macs_run_in_eval_mode_and_restore_the_mode():
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append(self.training)
            return x

    probe = Probe().train()
    count_macs(probe, torch.rand(1))
    assert seen == [False] and probe.training
    probe.eval()
    count_macs(probe, torch.rand(1))
    assert not probe.training


def test_macs_need_no_gradient_and_leave_none():
    linear = nn.Linear(4, 4)
    count_macs(linear, torch.rand(2, 4, requires_grad=True))
    assert linear.weight.grad is None


def test_roi_align_counts_no_macs_with_or_without_gradients():
    """Its separable form's matrix products are sampling, not network layers: a 1x1
    convolution after RoIAlign counts alone, whichever form the call would take."""

    class AlignThenConv(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(4, 2, 1, bias=False)

        def forward(self, x):
            boxes = [torch.tensor([[0.0, 0.0, 8.0, 6.0], [2.0, 2.0, 12.0, 12.0]])]
            return self.conv(roi_align(x, boxes, (3, 3), 0.5))

    conv_macs = 2 * 3 * 3 * 4 * 2  # 2 rois, 3x3 bins, 4 -> 2 channels
    model = AlignThenConv()
    assert count_macs(model, torch.rand(1, 4, 8, 8)) == conv_macs
    assert count_macs(model, torch.rand(1, 4, 8, 8, requires_grad=True)) == conv_macs
