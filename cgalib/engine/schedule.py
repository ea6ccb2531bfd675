"""The paper's learning-rate schedule: linear warm-up, then x0.1 at 70/95 and 85/95 of the run."""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["PAPER_MILESTONES", "paper_lr_factor", "paper_lr_scheduler"]

PAPER_MILESTONES = (70 / 95, 85 / 95)
"""Fractions of the run where the learning rate drops by ``gamma`` (epochs 70 and 85 of 95)."""


def paper_lr_factor(
    step: int,
    total_steps: int,
    warmup_steps: int = 0,
    milestones: Sequence[float] = PAPER_MILESTONES,
    gamma: float = 0.1,
) -> float:
    """Multiplier of the base learning rate at ``step`` (0-based).

    Linear warm-up from ``1 / warmup_steps`` to 1 over the first ``warmup_steps`` steps,
    then ``gamma ** (number of milestones passed)``, where milestone ``m`` is passed at
    step ``round(m * total_steps)``.

    Examples:
        >>> [round(paper_lr_factor(s, 95), 6) for s in (0, 69, 70, 84, 85, 94)]
        [1.0, 1.0, 0.1, 0.1, 0.01, 0.01]
        >>> paper_lr_factor(0, 100, warmup_steps=4)
        0.25
    """
    factor = gamma ** sum(step >= round(m * total_steps) for m in milestones)
    if warmup_steps > 0 and step < warmup_steps:
        factor *= (step + 1) / warmup_steps
    return factor


def paper_lr_scheduler(
    optimizer: torch.optim.Optimizer,
    total_steps: int,
    warmup_steps: int = 0,
    milestones: Sequence[float] = PAPER_MILESTONES,
    gamma: float = 0.1,
) -> torch.optim.lr_scheduler.LambdaLR:
    """A per-step ``LambdaLR`` following :func:`paper_lr_factor`.

    Args:
        optimizer: the optimizer whose base learning rates are scaled.
        total_steps: optimizer steps in the whole run (epochs x steps per epoch).
        warmup_steps: steps of linear warm-up.
        milestones: fractions of the run where the rate drops.
        gamma: the drop factor.
    """
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: paper_lr_factor(step, total_steps, warmup_steps, milestones, gamma)
    )
