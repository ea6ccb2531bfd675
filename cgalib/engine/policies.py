"""The policies of the training loop: small objects that decide, and the loop asks them.

- [`CheckpointPolicy`][CheckpointPolicy]: when ``last.pt`` (and ``model.pt``) is written.
- [`StopPolicy`][StopPolicy]: when the run stops (its last step, its time limit, its time
  budget; the divergence guard is [`DivergenceGuard`][cgalib.engine.DivergenceGuard]).
- [`LogPolicy`][LogPolicy]: what rank 0 shows and logs after each step.

Under ``torchrun`` the clock-based decisions are rank 0's, broadcast by the loop
([`agree()`][cgalib.engine.distributed.agree]) so that every process acts alike.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from cgalib.engine.metrics_log import MetricsLog
from cgalib.engine.schedule import TimeBudget
from cgalib.utils.progress import ProgressBar

if TYPE_CHECKING:
    from cgalib.engine.state import TrainState

__all__ = ["CheckpointPolicy", "LogPolicy", "StopPolicy"]


class CheckpointPolicy:
    """When ``last.pt`` is written: at every epoch's end, every ``every_steps`` steps and
    ``every_seconds`` after the last one, unless the loss is suspicious (the periodic
    checkpoints are postponed, so ``last.pt`` keeps the last good state); always when
    ``forced`` (the run's last step, an early stop). ``model.pt`` goes with the epoch ends
    and the forced ones.

    Args:
        every_steps: steps between periodic checkpoints (``None``: only at epoch ends and by
            time).
        every_seconds: seconds after the last checkpoint that make the next one due
            (``None``: never by time).
        clock: the clock of [`save()`][save] (seconds, monotonic).

    Examples:
        >>> policy = CheckpointPolicy(every_steps=3, every_seconds=None)
        >>> [policy.due(s, end_of_epoch=s == 4, time_due=False, suspicious=False, forced=False)
        ...  for s in (1, 2, 3, 4)]
        [False, False, True, True]
        >>> policy.due(6, end_of_epoch=False, time_due=False, suspicious=True, forced=False)
        False
        >>> policy.writes_model(end_of_epoch=False, forced=True)
        True
    """

    def __init__(
        self,
        every_steps: int | None = None,
        every_seconds: float | None = 600.0,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.every_steps = every_steps
        self.every_seconds = every_seconds
        self.clock = clock
        self.last_save = clock()
        self.save_seconds = 0.0  # how long the last checkpoint took (the time budget's margin)

    def start(self, now: float) -> None:
        """Count the time to the first periodic checkpoint from ``now``."""
        self.last_save = now

    def time_due(self, now: float) -> bool:
        """Whether ``every_seconds`` have passed since the last checkpoint, at ``now``."""
        return self.every_seconds is not None and now - self.last_save > self.every_seconds

    def due(
        self, step: int, *, end_of_epoch: bool, time_due: bool, suspicious: bool, forced: bool
    ) -> bool:
        """Whether to write ``last.pt`` after ``step``.

        Args:
            step: optimizer steps done.
            end_of_epoch: ``step`` ends an epoch.
            time_due: [`time_due()`][time_due], as the processes agreed.
            suspicious: the loss is above the divergence guard's threshold now.
            forced: the run stops after this step (its last step, a time limit).

        Returns:
            ``True`` when forced, or when a periodic checkpoint is due and the loss is not
            suspicious.
        """
        every = bool(self.every_steps and step % self.every_steps == 0)
        return forced or ((end_of_epoch or time_due or every) and not suspicious)

    def writes_model(self, *, end_of_epoch: bool, forced: bool) -> bool:
        """Whether a checkpoint also writes ``model.pt``: at epoch ends and forced ones."""
        return end_of_epoch or forced

    def save(self, state: TrainState, write_model: bool) -> None:
        """Write the state's checkpoint and time it (every rank calls it at the same step).

        Args:
            state: the training state, which writes itself.
            write_model: also write ``model.pt``.
        """
        began = self.clock()
        state.save(write_model)
        self.last_save = self.clock()
        self.save_seconds = self.last_save - began


class StopPolicy:
    """When the run stops: after its last step (``epochs`` of ``steps_per_epoch``), or early,
    after the step where ``time_limit`` seconds have passed, or where the next step and a
    checkpoint would no longer fit in the time ``budget``.

    A step's duration is a running average (``0.8 x`` the last average ``+ 0.2 x`` the new
    step); the first step of an epoch counts from the epoch's start.

    Args:
        epochs: the run's epochs (``None``: no cap, a time budget ends it).
        steps_per_epoch: optimizer steps per epoch.
        time_limit: seconds after [`start()`][start] that end the run (``None``: none).
        budget: the run's time budget (``None``: none).

    Examples:
        >>> stop = StopPolicy(epochs=2, steps_per_epoch=5, time_limit=10.0)
        >>> stop.start(0.0)
        >>> stop.finished(9), stop.finished(10), stop.out_of_time(10.5)
        (False, True, True)
        >>> stop.reason()
        'time limit of 10s reached'
    """

    def __init__(
        self,
        epochs: int | None,
        steps_per_epoch: int,
        time_limit: float | None = None,
        budget: TimeBudget | None = None,
    ) -> None:
        self.epochs = epochs
        self.total_steps = epochs * steps_per_epoch if epochs is not None else None
        self.time_limit = time_limit
        self.budget = budget
        self.started = 0.0
        self.step_seconds = 0.0
        self._tick = 0.0

    @property
    def last_epoch(self) -> int:
        """The end of the epoch range (``sys.maxsize`` without an epoch cap)."""
        return self.epochs if self.epochs is not None else sys.maxsize

    def start(self, now: float) -> None:
        """Count the time limit from ``now``."""
        self.started = now

    def begin_epoch(self, now: float) -> None:
        """An epoch starts at ``now`` (its first step is timed from there)."""
        self._tick = now

    def step_done(self, now: float) -> None:
        """A step ended at ``now``: update the running step duration."""
        took = now - self._tick
        self.step_seconds = took if self.step_seconds == 0 else 0.8 * self.step_seconds + 0.2 * took
        self._tick = now

    def finished(self, step: int) -> bool:
        """Whether ``step`` is the run's last (never without an epoch cap)."""
        return step == self.total_steps

    def complete(self, step: int) -> bool:
        """Whether a run at ``step`` has nothing left to train (before it starts)."""
        spent = self.budget is not None and self.budget.exhausted(self.budget.spent(), 0, 0)
        return self.finished(step) or spent

    def out_of_time(self, now: float, spent: float | None = None, save_seconds: float = 0) -> bool:
        """Whether the run stops early after the step that ended at ``now``.

        Args:
            now: the clock of [`start()`][start] after the step.
            spent: the time budget's seconds used (``None`` without a budget).
            save_seconds: how long the last checkpoint took.

        Returns:
            ``True`` past the time limit, or when another step and a checkpoint would pass
            the budget.
        """
        if self.time_limit is not None and now - self.started > self.time_limit:
            return True
        return self.budget is not None and self.budget.exhausted(
            spent, self.step_seconds, save_seconds
        )

    def reason(self) -> str:
        """Why the run stopped early, for the line it prints."""
        if self.budget is not None:
            return f"time budget of {self.budget.seconds:.0f}s spent"
        return f"time limit of {self.time_limit:.0f}s reached"


class LogPolicy:
    """What rank 0 shows and records after each step: the epoch's progress bar (loss, rate,
    images/s), and a ``metrics.csv`` row every ``every`` steps, at each epoch's end and at
    an early stop.

    Args:
        metrics: the run's log.
        every: steps between rows.
        epochs: the run's epochs, for the bar's title (``None``: no cap).
        enabled: show and log (rank 0); other ranks only count.

    Examples:
        >>> import tempfile, pathlib
        >>> with tempfile.TemporaryDirectory() as d:
        ...     log = LogPolicy(MetricsLog(pathlib.Path(d) / "m.csv"), every=2, enabled=True)
        ...     log.begin_epoch(0, steps=3, now=0.0)
        ...     for step in (1, 2, 3):
        ...         log.after_step(step, 0.1, {"fit": 1.0}, 4, now=step, end_of_epoch=step == 3)
        ...     log.end_epoch()
        ...     [row["step"] for row in log.metrics.rows()]
        ['2', '3']
    """

    def __init__(
        self, metrics: MetricsLog, every: int = 10, epochs: int | None = None, enabled: bool = True
    ) -> None:
        self.metrics, self.every, self.epochs, self.enabled = metrics, every, epochs, enabled
        self.epoch, self.seen, self.started = 0, 0, 0.0
        self.bar: ProgressBar | None = None

    def begin_epoch(self, epoch: int, steps: int, now: float) -> None:
        """Epoch ``epoch`` (0-based) starts at ``now`` with ``steps`` steps left in it."""
        title = (
            f"epoch {epoch + 1}/{self.epochs}" if self.epochs is not None else f"epoch {epoch + 1}"
        )
        self.bar = ProgressBar(steps, title, unit="step", enabled=self.enabled)
        self.epoch, self.seen, self.started = epoch, 0, now

    def after_step(
        self,
        step: int,
        lr: float,
        row: Mapping[str, float],
        images: int,
        now: float,
        end_of_epoch: bool = False,
        stopping: bool = False,
    ) -> None:
        """Show the step, and log its row when due.

        Args:
            step: optimizer steps done.
            lr: the learning rate after the step.
            row: the step's loss terms.
            images: the images of the step, over every process.
            now: the clock of [`begin_epoch()`][begin_epoch] after the step.
            end_of_epoch: ``step`` ends an epoch (a row is logged).
            stopping: the run stops early after the step (a row is logged).
        """
        self.seen += images
        if not self.enabled:
            return
        rate = self.seen / max(now - self.started, 1e-9)
        total = sum(row.values())
        self.bar.update(1, loss=total, lr=lr, **{"img/s": round(rate, 1)})
        if step % self.every == 0 or end_of_epoch or stopping:
            self.metrics.append(
                {"epoch": self.epoch + 1, "step": step, "lr": lr, "loss": total, **row,
                 "images_per_s": rate}
            )  # fmt: skip

    def end_epoch(self) -> None:
        """Close the epoch's progress bar."""
        if self.bar is not None:
            self.bar.close()
