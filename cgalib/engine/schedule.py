"""The paper's learning-rate schedule: linear warm-up, then x0.1 at 70/95 and 85/95 of the run.

The run is measured in steps ([`paper_lr_factor()`][paper_lr_factor], a fixed number of epochs) or in time
([`TimeBudget`][TimeBudget] and [`budget_lr_factor()`][budget_lr_factor]: the drops happen at 70/95 and 85/95 of a
time budget, so a slow machine trains fewer steps but its whole budget, with the same
schedule shape).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import torch

__all__ = [
    "LR_DECAYS",
    "PAPER_MILESTONES",
    "TimeBudget",
    "budget_lr_factor",
    "cosine_lr_factor",
    "paper_lr_factor",
    "paper_lr_scheduler",
]

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
    passed = sum(step >= round(m * total_steps) for m in milestones)
    return _warmup(step, warmup_steps) * gamma**passed


LR_DECAYS = ("steps", "cosine")
"""How the learning rate falls over a run: ``"steps"``, the paper's x0.1 at 70/95 and 85/95
([`paper_lr_factor()`][paper_lr_factor], [`budget_lr_factor()`][budget_lr_factor]); ``"cosine"``, a half
cosine from 1 to 0 ([`cosine_lr_factor()`][cosine_lr_factor])."""


def cosine_lr_factor(step: int, fraction: float, warmup_steps: int = 0) -> float:
    """Multiplier of the base learning rate with a half-cosine decay: linear warm-up in steps,
    then ``(1 + cos(pi * fraction)) / 2``, from 1 at the start of the run to 0 at its end.

    Args:
        step: optimizer steps done (0-based).
        fraction: the share of the run done, 0..1 (of its steps, or of its time budget;
            more counts as 1).
        warmup_steps: steps of linear warm-up.

    Examples:
        >>> [round(cosine_lr_factor(1000, f), 6) for f in (0.0, 0.25, 0.5, 1.0, 1.5)]
        [1.0, 0.853553, 0.5, 0.0, 0.0]
        >>> cosine_lr_factor(1, 0.5, warmup_steps=4)
        0.25
    """
    done = min(max(fraction, 0.0), 1.0)
    return _warmup(step, warmup_steps) * 0.5 * (1.0 + math.cos(math.pi * done))


def _warmup(step: int, warmup_steps: int) -> float:
    """The linear warm-up factor, ``(step + 1) / warmup_steps`` during the warm-up, else 1."""
    return (step + 1) / warmup_steps if 0 <= step < warmup_steps else 1.0


def budget_lr_factor(
    step: int,
    fraction: float,
    warmup_steps: int = 0,
    milestones: Sequence[float] = PAPER_MILESTONES,
    gamma: float = 0.1,
) -> float:
    """Multiplier of the base learning rate at ``step`` when ``fraction`` of the time budget
    is used.

    The drops follow the time used (``gamma ** (number of milestones <= fraction)``); the
    warm-up stays counted in steps (it is about the first updates of fresh weights, not
    about the machine's speed).

    Args:
        step: optimizer steps done (0-based).
        fraction: the share of the time budget used, 0..1 (more counts as 1).
        warmup_steps: steps of linear warm-up.
        milestones: fractions of the budget where the rate drops.
        gamma: the drop factor.

    Examples:
        >>> [round(budget_lr_factor(1000, f), 6) for f in (0.0, 0.73, 0.74, 0.9, 1.5)]
        [1.0, 1.0, 0.1, 0.01, 0.01]
        >>> budget_lr_factor(1, 0.0, warmup_steps=4)
        0.5
    """
    passed = sum(fraction >= m for m in milestones)
    return _warmup(step, warmup_steps) * gamma**passed


class TimeBudget:
    """A training time budget: the share used drives the learning rate; the run stops when
    the next step and its checkpoint would not fit.

    Only training time counts: a resumed run continues from the time its checkpoint had
    spent ([`resume()`][resume]), so an interruption costs no budget.

    Args:
        seconds: the budget, in seconds (positive).
        clock: the clock read by [`spent()`][spent] (seconds, monotonic); tests pass a fake one.

    Raises:
        ValueError: for a budget that is not a positive number of seconds.

    Example:
        >>> ticks = iter(range(100))
        >>> budget = TimeBudget(10.0, clock=lambda: float(next(ticks)))
        >>> budget.start(); budget.spent(), budget.fraction()
        (1.0, 0.2)
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.perf_counter) -> None:
        if isinstance(seconds, bool) or not (math.isfinite(seconds) and seconds > 0):
            raise ValueError(f"time_budget must be a positive number of seconds, got {seconds}")
        self.seconds = float(seconds)
        self.clock = clock
        self._before = 0.0  # spent by the run before this process (resume)
        self._started: float | None = None

    def resume(self, spent: float) -> None:
        """Count ``spent`` seconds as used already (from the checkpoint of a resumed run)."""
        self._before = float(spent)

    def start(self) -> None:
        """Start the clock (at the first step of this process)."""
        self._started = self.clock()

    def spent(self) -> float:
        """Seconds of training used so far, this process's and the resumed run's."""
        running = 0.0 if self._started is None else self.clock() - self._started
        return self._before + running

    def fraction(self, spent: float | None = None) -> float:
        """The share of the budget used, ``spent / seconds`` (not capped)."""
        return (self.spent() if spent is None else spent) / self.seconds

    def exhausted(self, spent: float, step_seconds: float, save_seconds: float) -> bool:
        """Whether another step of ``step_seconds`` and a checkpoint of ``save_seconds``
        would pass the budget, after ``spent`` seconds."""
        return spent + step_seconds + save_seconds >= self.seconds


def paper_lr_scheduler(
    optimizer: torch.optim.Optimizer,
    total_steps: int,
    warmup_steps: int = 0,
    milestones: Sequence[float] = PAPER_MILESTONES,
    gamma: float = 0.1,
) -> torch.optim.lr_scheduler.LambdaLR:
    """A per-step ``LambdaLR`` following [`paper_lr_factor()`][paper_lr_factor].

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
