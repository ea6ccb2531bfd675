"""Guards that stop a training run whose loss went wrong: non-finite terms, divergence."""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DIVERGENCE_GUARD",
    "DivergenceError",
    "DivergenceGuard",
    "DivergenceMonitor",
    "NonFiniteLossError",
]


class NonFiniteLossError(FloatingPointError):
    """A loss term became NaN or infinite; the message names the step and the term."""


class DivergenceError(FloatingPointError):
    """The loss stayed far above its running median; the message names the steps and the
    checkpoint that was kept."""


@dataclass(frozen=True)
class DivergenceGuard:
    """When a loss counts as diverged: above ``factor`` times its running median for
    ``patience`` steps in a row.

    The running median is taken over the last ``window`` losses that were not themselves
    suspicious (the first loss of a run always counts), so a divergence cannot raise its
    own reference, even one that starts at the second step. A single spike resets the
    count; a run that has really diverged (``--lr 1e4`` reaches losses of 1e18) stops
    ``patience`` steps later. A slow drift upwards moves the median with it and is not
    caught. The settings are fixed; [`monitor()`][monitor] starts the running state of one run.

    Args:
        factor: how many times the running median a suspicious loss exceeds.
        patience: consecutive suspicious steps that confirm a divergence.
        window: losses in the running median.

    Raises:
        ValueError: for a ``factor`` not above 1 or a non-positive count.

    Examples:
        >>> monitor = DivergenceGuard(factor=10, patience=2).monitor()
        >>> [monitor.update(x) for x in (1.0, 1.2, 50.0, 0.9, 50.0, 60.0)]
        [False, False, False, False, False, True]
    """

    factor: float = 10.0
    patience: int = 50
    window: int = 200

    def __post_init__(self) -> None:
        if not self.factor > 1:
            raise ValueError(f"DivergenceGuard factor must be above 1, got {self.factor}")
        for name in ("patience", "window"):
            if getattr(self, name) < 1:
                raise ValueError(
                    f"DivergenceGuard {name} must be at least 1, got {getattr(self, name)}"
                )

    def monitor(self, state: dict[str, Any] | None = None) -> DivergenceMonitor:
        """The running state of one run, fresh or restored from [`DivergenceMonitor.state_dict()`][DivergenceMonitor.state_dict]."""
        return DivergenceMonitor(self, state)


class DivergenceMonitor:
    """The running state of a [`DivergenceGuard`][DivergenceGuard] over one run (saved in checkpoints).

    Args:
        guard: the settings.
        state: a [`state_dict()`][state_dict] to continue from (a resumed run).
    """

    def __init__(self, guard: DivergenceGuard, state: dict[str, Any] | None = None) -> None:
        self.guard = guard
        self._history: deque[float] = deque(maxlen=guard.window)
        self._streak = 0
        if state is not None:
            self._history.extend(float(x) for x in state["history"])
            self._streak = int(state["streak"])

    @property
    def median(self) -> float:
        """The running median of the recent unsuspicious losses (NaN before any)."""
        return statistics.median(self._history) if self._history else math.nan

    @property
    def streak(self) -> int:
        """Consecutive suspicious losses up to now (0: the last loss was ordinary)."""
        return self._streak

    def update(self, loss: float) -> bool:
        """Record one step's loss; ``True`` once the divergence is confirmed."""
        if self._history and loss > self.guard.factor * self.median:
            self._streak += 1
            return self._streak >= self.guard.patience
        self._streak = 0
        self._history.append(float(loss))
        return False

    def state_dict(self) -> dict[str, Any]:
        """The running state, plain Python values (for ``torch.load(weights_only=True)``)."""
        return {"history": list(self._history), "streak": self._streak}


DIVERGENCE_GUARD = DivergenceGuard()
"""The default of [`train_model()`][cgalib.engine.train_model]: 10x the running median for 50 steps."""
