"""Model size and cost: parameter counts and multiply-accumulates of a forward pass."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

__all__ = ["count_parameters", "count_macs"]


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters of ``model``.

    Args:
        model: any module.
        trainable_only: count only parameters with ``requires_grad``.

    Examples:
        >>> count_parameters(nn.Conv2d(3, 8, 3))
        224
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


@torch.no_grad()
def count_macs(model: nn.Module, *inputs: torch.Tensor) -> int:
    """Multiply-accumulates of one forward pass, counted by ``torch.utils.flop_counter``.

    Pose papers (HRNet, SimpleBaseline, CGANet) report "GFLOPs" that are in fact
    multiply-accumulates; this returns that quantity (half of PyTorch's FLOP count).
    The model is run in eval mode and restored to its previous mode. RoIAlign's
    interpolation counts none, in either of its forms: under the counter
    [`RoIAlign`][cgalib.ops.RoIAlign] samples with ``grid_sample``, which the counter leaves
    out, in place of its matrix products.

    Args:
        model: the module to run.
        *inputs: its positional inputs, e.g. an image batch `(1, 3, H, W)`.

    Examples:
        >>> count_macs(nn.Conv2d(3, 8, 3, padding=1, bias=False), torch.rand(1, 3, 4, 4))
        3456
    """
    was_training = model.training
    model.eval()
    try:
        with FlopCounterMode(display=False) as counter:
            model(*inputs)
    finally:
        model.train(was_training)
    return counter.get_total_flops() // 2
