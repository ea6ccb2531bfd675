"""The settings of a training run: checked once, before anything is built or written, and
recorded in its checkpoints (the fixed ones define what a step is)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from cgalib.engine.ema import check_decay
from cgalib.engine.schedule import LR_DECAYS, PAPER_MILESTONES, TimeBudget

__all__ = ["FIXED_SETTINGS", "TrainSettings"]

FIXED_SETTINGS = ("model", "batch_size", "world_size", "dataset_size", "optimizer")
"""Settings a resumed run must share with its checkpoint (they define what a step is)."""


@dataclass(frozen=True)
class TrainSettings:
    """How a run trains, checked when built (see [`train_model()`][cgalib.engine.train_model],
    whose arguments these are).

    Args:
        epochs: passes over the data (at least 1); with ``time_budget``, an optional upper
            bound (``None``: none).
        batch_size: images per step (per process under ``torchrun``).
        lr: base learning rate.
        optimizer: ``"sgd"`` (with ``momentum``) or ``"adamw"``.
        momentum: SGD momentum.
        weight_decay: weight decay.
        warmup_steps: linear warm-up steps (capped at a tenth of a run measured in steps).
        lr_decay: how the learning rate falls over the run, one of
            [`LR_DECAYS`][cgalib.engine.schedule.LR_DECAYS]: ``"steps"`` (the paper's x0.1 at
            70/95 and 85/95, or at ``lr_milestones``) or ``"cosine"`` (a half cosine to 0);
            of the steps, or of the time budget.
        lr_milestones: the fractions of the run (of its steps, or of its time budget) where
            ``"steps"`` drops the rate x0.1, increasing, each in (0, 1] (default
            [`PAPER_MILESTONES`][cgalib.engine.schedule.PAPER_MILESTONES]).
        clip_grad_norm: gradient-norm clipping threshold; ``None`` disables it.
        amp: ``None``, ``"bf16"`` or ``"fp16"`` autocast (fp16 uses a gradient scaler).
        channels_last: keep weights and images in the channels-last memory format.
        ema_decay: keep an exponential moving average of the weights with this decay
            ([`WeightAverage`][cgalib.engine.WeightAverage]) and save it as ``model.pt``
            (``None``: none, ``model.pt`` holds the trained weights).
        num_workers: data-loading worker processes.
        seed: seeds data order and augmentation.
        time_limit: stop (after checkpointing) once this many seconds have passed.
        log_every: steps between ``metrics.csv`` rows.
        checkpoint_every: also write ``last.pt`` every this many steps.
        checkpoint_seconds: also write ``last.pt`` this many seconds after the last one.
        time_budget: train for this many seconds (a number becomes a
            [`TimeBudget`][cgalib.engine.schedule.TimeBudget]; a ``TimeBudget`` is kept as
            given); not with ``time_limit``.

    Raises:
        ValueError: for the first bad value, one line naming it (and its flag where the
            message is about the command line).

    Examples:
        >>> settings = TrainSettings(epochs=2, batch_size=4, time_limit=60.0)
        >>> settings.total_steps(10), settings.memory_format
        (20, torch.contiguous_format)
        >>> TrainSettings(epochs=1, batch_size=0)
        Traceback (most recent call last):
        ...
        ValueError: batch_size must be at least 1, got 0
    """

    epochs: int | None
    batch_size: int
    lr: float = 1e-2
    optimizer: str = "sgd"
    momentum: float = 0.9
    weight_decay: float = 1e-4
    warmup_steps: int = 500
    lr_decay: str = "steps"
    lr_milestones: tuple[float, ...] = PAPER_MILESTONES
    clip_grad_norm: float | None = 10.0
    amp: str | None = None
    channels_last: bool = False
    ema_decay: float | None = None
    num_workers: int = 2
    seed: int = 0
    time_limit: float | None = None
    log_every: int = 10
    checkpoint_every: int | None = None
    checkpoint_seconds: float | None = 600.0
    time_budget: float | TimeBudget | None = None

    def __post_init__(self) -> None:
        self._check_run_length()
        at_least_one = {
            "epochs": 1 if self.epochs is None else self.epochs,  # None: a time budget
            "batch_size": self.batch_size,
            "log_every": self.log_every,
        }
        if self.checkpoint_every is not None:
            at_least_one["checkpoint_every"] = self.checkpoint_every
        for name, value in at_least_one.items():
            if value < 1:
                why = " (a run of no epochs trains nothing and writes no model.pt)"
                raise ValueError(
                    f"{name} must be at least 1, got {value}{why * (name == 'epochs')}"
                )
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a positive number, got {self.lr}")
        if self.optimizer not in ("sgd", "adamw"):
            raise ValueError(f"optimizer must be 'sgd' or 'adamw', got {self.optimizer!r}")
        if self.lr_decay not in LR_DECAYS:
            raise ValueError(f"lr_decay must be one of {LR_DECAYS}, got {self.lr_decay!r}")
        self._check_milestones()
        if self.amp not in (None, "bf16", "fp16"):
            raise ValueError(f"amp must be None, 'bf16' or 'fp16', got {self.amp!r}")
        if self.ema_decay is not None:
            check_decay(self.ema_decay, " (--ema)")
        for name in ("warmup_steps", "num_workers"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 or more, got {getattr(self, name)}")
        for name in ("time_limit", "checkpoint_seconds"):
            value = getattr(self, name)
            if value is not None and not value >= 0:
                raise ValueError(f"{name} must be None or 0 or more seconds, got {value}")

    def _check_milestones(self) -> None:
        """Increasing fractions in (0, 1] (none: a constant rate after the warm-up), kept as
        a tuple; only for the stepped decay."""
        try:
            milestones = tuple(float(m) for m in self.lr_milestones)
        except (TypeError, ValueError):
            milestones = (math.nan,)  # not numbers: refused below
        if not all(0 < m <= 1 for m in milestones) or any(
            b <= a for a, b in zip(milestones, milestones[1:], strict=False)
        ):
            raise ValueError(
                "lr_milestones must be increasing fractions of the run in (0, 1], e.g. "
                f"(0.85, 0.95), got {self.lr_milestones}"
            )
        if self.lr_decay != "steps" and milestones != PAPER_MILESTONES:
            raise ValueError(
                f"lr_milestones apply to lr_decay='steps', not to {self.lr_decay!r}; leave "
                "them at their default"
            )
        object.__setattr__(self, "lr_milestones", milestones)

    def _check_run_length(self) -> None:
        """A run is measured in epochs or in time, and a time budget already has a limit."""
        if self.epochs is None and self.time_budget is None:
            raise ValueError("give epochs (--epochs) or a time budget (--time-budget)")
        if self.time_budget is not None and self.time_limit is not None:
            raise ValueError(
                "give time_budget or time_limit, not both: a time budget already stops the run "
                "when it is spent (--time-budget), a time limit cuts a step-scheduled run short "
                "(--time-limit)"
            )
        if self.time_budget is not None and not isinstance(self.time_budget, TimeBudget):
            object.__setattr__(self, "time_budget", TimeBudget(self.time_budget))  # checks it

    @property
    def budget(self) -> TimeBudget | None:
        """The time budget (``None`` for a run measured in epochs)."""
        return self.time_budget  # type: ignore[return-value]  # a TimeBudget once built

    @property
    def memory_format(self) -> torch.memory_format:
        """The memory format of weights and images (``channels_last`` or contiguous)."""
        return torch.channels_last if self.channels_last else torch.contiguous_format

    def total_steps(self, steps_per_epoch: int) -> int | None:
        """The steps of the whole run, ``epochs x steps_per_epoch`` (``None``: no epoch cap)."""
        return self.epochs * steps_per_epoch if self.epochs is not None else None

    def record(self, model: str, world_size: int, dataset_size: int) -> dict[str, Any]:
        """The settings as the checkpoints record them (plain values, fixed ones first).

        Args:
            model: the model's description (its builder and keyword arguments).
            world_size: the number of processes.
            dataset_size: the items of the data set.

        Returns:
            A dict whose keys [`FIXED_SETTINGS`][FIXED_SETTINGS] a resume must match; the others
            may change and are reported.
        """
        return {
            "model": model,
            "batch_size": self.batch_size,
            "world_size": world_size,
            "dataset_size": dataset_size,
            "optimizer": self.optimizer,
            "lr": self.lr,
            "momentum": self.momentum,
            "weight_decay": self.weight_decay,
            "warmup_steps": self.warmup_steps,
            "lr_decay": self.lr_decay,
            "lr_milestones": list(self.lr_milestones),
            "epochs": self.epochs,
            "time_budget": self.budget.seconds if self.budget is not None else None,
            "clip_grad_norm": self.clip_grad_norm,
            "amp": self.amp,
            "seed": self.seed,
            "channels_last": self.channels_last,
            "ema_decay": self.ema_decay,
        }
