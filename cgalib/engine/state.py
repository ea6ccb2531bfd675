"""The training state of a run: what ``last.pt`` holds, saved by itself and loaded by itself
to resume.

A [`TrainState`][TrainState] holds the model (and its ``DistributedDataParallel`` wrapper under
``torchrun``), the optimizer, the learning-rate schedule, the gradient scaler, the step,
the time spent of a time budget, the running state of the divergence guard, the
augmentation's generator and the run's settings. [`save()`][TrainState.save] writes
``last.pt`` (with the RNG states of every process) and, when asked, ``model.pt``;
[`resume()`][TrainState.resume] reads ``last.pt`` back, refusing other fixed settings and
reporting changed ones.
"""

from __future__ import annotations

import errno
import os
import random
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from cgalib.engine.distributed import DistributedContext, agree, gather
from cgalib.engine.ema import WeightAverage
from cgalib.engine.fingerprint import DataFingerprint
from cgalib.engine.guards import DIVERGENCE_GUARD, DivergenceGuard
from cgalib.engine.metrics_log import MetricsLog
from cgalib.engine.schedule import budget_lr_factor, cosine_lr_factor, paper_lr_scheduler
from cgalib.engine.settings import FIXED_SETTINGS, TrainSettings
from cgalib.models.checkpoint import (
    TRAIN_STATE_FORMAT,
    load_checkpoint,
    load_state,
    save_checkpoint,
    save_model,
)
from cgalib.registry import build_config
from cgalib.utils.outputs import OutputError, describe_os_error

__all__ = ["LAST", "METRICS", "MODEL", "TrainState"]

LAST = "last.pt"
"""The training state of a run (``--resume`` continues from it)."""
MODEL = "model.pt"
"""The weights of a run, loadable by [`cgalib.load_model()`][cgalib.load_model]."""
METRICS = "metrics.csv"
"""The log of a run (see [`MetricsLog`][cgalib.engine.MetricsLog])."""


def _rng_state() -> dict[str, Any]:
    """The global RNG states as tensors and plain values (``weights_only``-loadable)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: Mapping[str, Any]) -> None:
    random.setstate(state["python"])
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _augment_generator(augment: nn.Module | None) -> torch.Generator | None:
    """The private generator of an augmentation (``PoseAugmentation(seed=...)``), if any."""
    generator = getattr(augment, "generator", None)
    return generator if isinstance(generator, torch.Generator) else None


def _describe_model(model: nn.Module) -> str:
    """The builder and keyword arguments of a registered model, else its class name."""
    config = build_config(model)
    if not config:
        return type(model).__name__
    kwargs = ", ".join(f"{k}={v!r}" for k, v in sorted(config["kwargs"].items()))
    return f"{config['name']}({kwargs})"


def _check_data(path: Path, saved: Mapping[str, Any], data: DataFingerprint | None) -> str | None:
    """Refuse a resume on other data than the run's; a note when it cannot be checked."""
    if data is None:  # the caller gave no fingerprint: nothing to compare
        return None
    if saved.get("data") is None:
        why = "written by an earlier cgalib" if "data" not in saved else "the run began without one"
        return (
            f"note: {path} holds no fingerprint of its training data ({why}); whether the data "
            "changed since could not be checked"
        )
    changes = data.changes(saved["data"])
    if changes:
        raise ValueError(
            f"cannot resume {path}: its training data changed since the run started: "
            f"{', '.join(changes)}; resume with the run's data or start a new run in another "
            "folder"
        )
    return None


def _check_resume(path: Path, saved: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """Refuse a resume whose fixed settings differ; list the changed tunable ones."""
    differ = [
        f"{k}={now[k]} (the run used {saved[k]})" for k in FIXED_SETTINGS if saved.get(k) != now[k]
    ]
    if differ:
        raise ValueError(
            f"cannot resume {path} with other settings: {', '.join(differ)}; resume with the "
            "run's own model, batch size, processes and data, or start a new run in another "
            "folder"
        )
    return [
        f"{k} {saved[k]!r} -> {now[k]!r}"
        for k in now
        if k not in FIXED_SETTINGS and k in saved and saved[k] != now[k]
    ]


class TrainState:
    """Everything a run continues from: built fresh for step 0, saved to ``last.pt``, loaded
    back by [`resume()`][resume].

    Building the state moves the model to the context's device (in the settings' memory
    format, in training mode), wraps it in ``DistributedDataParallel`` under ``torchrun``
    (``net``, the module the step calls), and builds the optimizer (SGD or AdamW over the
    parameters that need a gradient), the schedule (the paper's, in steps, or the time
    budget's) and the gradient scaler (enabled for fp16).

    Args:
        model: the model; it is trained in place (its ``build_config`` is recorded).
        settings: how the run trains.
        folder: the run folder (``last.pt``, ``model.pt``).
        context: the distributed context (default: a single process on the CPU).
        steps_per_epoch: optimizer steps per epoch (per process).
        dataset_size: the items of the data set (a fixed setting of a resume).
        augment: the device augmentation; its ``generator``, when it has one, is saved.
        divergence_guard: the guard whose running state ([`DivergenceMonitor`][cgalib.engine.DivergenceMonitor])
            is saved; ``None``: none.
        data_fingerprint: the training data's
            [`DataFingerprint`][cgalib.engine.fingerprint.DataFingerprint], kept in ``last.pt``; a
            resume on other data is refused (``None``: not checked).

    Attributes:
        step: optimizer steps done.
        saved_step: the step of the ``last.pt`` on disk (``None``: none yet).
        record: the settings as checkpoints record them
            ([`TrainSettings.record()`][cgalib.engine.settings.TrainSettings.record]).
        budget_used: the share of the time budget used at the last step (the schedule
            reads it).
        input_size: the ``[H, W]`` of the run's batches, ``"mixed"``, or ``None`` before
            the first batch.

    Example:
        >>> import tempfile
        >>> from cgalib.engine.settings import TrainSettings
        >>> with tempfile.TemporaryDirectory() as d:
        ...     state = TrainState(nn.Linear(2, 1), TrainSettings(epochs=1, batch_size=2), d)
        ...     state.save(write_model=False)
        ...     again = TrainState(nn.Linear(2, 1), TrainSettings(epochs=1, batch_size=2), d)
        ...     again.resume()
        >>> again.step, again.saved_step, again.kept
        (0, 0, 'the last checkpoint, ... at step 0, is kept')
    """

    def __init__(
        self,
        model: nn.Module,
        settings: TrainSettings,
        folder: str | os.PathLike,
        context: DistributedContext | None = None,
        steps_per_epoch: int = 1,
        dataset_size: int = 0,
        augment: nn.Module | None = None,
        divergence_guard: DivergenceGuard | None = DIVERGENCE_GUARD,
        data_fingerprint: DataFingerprint | None = None,
    ) -> None:
        ctx = context or DistributedContext()
        self.context, self.settings, self.folder = ctx, settings, Path(folder)
        self.steps_per_epoch = steps_per_epoch
        self.model = model.to(ctx.device, memory_format=settings.memory_format).train()
        self.net: nn.Module = DistributedDataParallel(model) if ctx.is_distributed else model
        self.optimizer = self._optimizer()
        self.ema = WeightAverage(model, settings.ema_decay) if settings.ema_decay else None
        self.budget_used = 0.0
        self.scheduler = self._scheduler()
        self.scaler = torch.amp.GradScaler(ctx.device.type, enabled=settings.amp == "fp16")
        self.augment = augment
        self.generator = _augment_generator(augment)
        self.guard = divergence_guard
        self.monitor = divergence_guard.monitor() if divergence_guard is not None else None
        self.record = settings.record(_describe_model(model), ctx.world_size, dataset_size)
        self.data = data_fingerprint
        self.step = 0
        self.saved_step: int | None = None
        self.input_size: list[int] | str | None = None
        self._check_size = False  # the first batch of a resumed run must have the run's size

    def _optimizer(self) -> torch.optim.Optimizer:
        s = self.settings
        params = [p for p in self.model.parameters() if p.requires_grad]
        if s.optimizer == "sgd":
            return torch.optim.SGD(
                params, lr=s.lr, momentum=s.momentum, weight_decay=s.weight_decay
            )
        # one fused kernel for all parameters (CPU and CUDA): on the demo's CPU it takes
        # a sixth of the per-parameter loop's time per step
        fused = all(p.device.type in ("cpu", "cuda") for p in params)
        return torch.optim.AdamW(params, lr=s.lr, weight_decay=s.weight_decay, fused=fused)

    def _scheduler(self) -> torch.optim.lr_scheduler.LambdaLR:
        s = self.settings
        total_steps = s.total_steps(self.steps_per_epoch)
        if s.budget is None:
            warmup = min(s.warmup_steps, total_steps // 10)
            if s.lr_decay == "steps":
                return paper_lr_scheduler(self.optimizer, total_steps, warmup, s.lr_milestones)
        else:
            warmup = s.warmup_steps
        factor = partial(self._lr_factor, total_steps=total_steps, warmup_steps=warmup)
        return torch.optim.lr_scheduler.LambdaLR(self.optimizer, factor)

    def _lr_factor(self, step: int, total_steps: int | None, warmup_steps: int) -> float:
        """The learning-rate factor at ``step``: of the time budget's share used, or of the
        run's steps."""
        done = self.budget_used if self.settings.budget is not None else step / total_steps
        if self.settings.lr_decay == "cosine":
            return cosine_lr_factor(step, done, warmup_steps)
        return budget_lr_factor(step, done, warmup_steps, self.settings.lr_milestones)

    @property
    def last_path(self) -> Path:
        """The run's ``last.pt``."""
        return self.folder / LAST

    @property
    def epoch(self) -> int:
        """Epochs completed (the epoch a checkpoint records)."""
        return self.step // self.steps_per_epoch

    @property
    def kept(self) -> str:
        """What an error message says of the checkpoint a failed run leaves."""
        if self.saved_step is None:
            return "no checkpoint was written yet"
        return f"the last checkpoint, {self.last_path} at step {self.saved_step}, is kept"

    @property
    def again(self) -> str:
        """What an error message says to do after the fix: start again, or resume."""
        return "start again" if self.saved_step is None else "resume from it"

    def see_batch(self, images: torch.Tensor) -> None:
        """Note the size of a batch; the first batch of a resumed run must have the run's.

        Args:
            images: the batch, `(B, C, H, W)` (only its size is read).

        Raises:
            ValueError: when a resumed run's first batch has another ``H x W`` than the
                run's (unless its batches varied in size).
        """
        size = list(images.shape[-2:])
        if self._check_size and size != self.input_size:
            raise ValueError(
                f"cannot resume {self.last_path}: the run trained on {self.input_size[0]}x"
                f"{self.input_size[1]} images, these batches are {size[0]}x{size[1]}; resume "
                "with the run's input size (--input-size) or start a new run in another folder"
            )
        self._check_size = False
        if self.input_size is None:
            self.input_size = size
        elif self.input_size != size:
            self.input_size = "mixed"  # multi-scale batches: nothing to check on resume

    def advance(self, spent: float | None = None) -> None:
        """Count one optimizer step: the schedule moves on.

        Args:
            spent: the seconds of the time budget used after the step, the same number on
                every rank (``None`` without a time budget).
        """
        if self.settings.budget is not None:
            self.budget_used = self.settings.budget.fraction(spent)
        self.scheduler.step()
        self.step += 1

    def state_dict(self, rngs: list[dict[str, Any]]) -> dict[str, Any]:
        """The content of ``last.pt``: plain values and tensors (``weights_only``-loadable).

        Args:
            rngs: the RNG states of every rank, in rank order (``global`` and ``augment``).

        Returns:
            The dict [`save()`][save] writes with the ``cgalib-train-state-v1`` format tag.
        """
        budget = self.settings.budget
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "epoch": self.epoch,
            "step": self.step,
            "settings": {**self.record, "input_size": self.input_size},
            "rng": rngs,
            "guard": self.monitor.state_dict() if self.monitor is not None else None,
            "build_config": build_config(self.model),
            "spent": budget.spent() if budget is not None else None,
            "data": self.data.state_dict() if self.data is not None else None,
            "ema": self.ema.state_dict() if self.ema is not None else None,
        }

    def write_model(self) -> Path:
        """Write ``model.pt`` (atomically): the weights (their moving average when the run
        keeps one, ``ema_decay``), the epoch and step, and what the training data was when
        its annotation file says (``trained_on``: its ``info.description``, the synthetic
        set's for instance).

        Returns:
            The file written.
        """
        description = self.data.description if self.data is not None else None
        provenance: dict[str, Any] = {"trained_on": description} if description else {}
        weights = None
        if self.ema is not None:
            weights = self.ema.state_dict()
            provenance["ema_decay"] = self.ema.decay
        path = self.folder / MODEL
        save_model(
            self.model, path, weights=weights, epoch=self.epoch, step=self.step, **provenance
        )
        return path

    def save(self, write_model: bool) -> None:
        """Write ``last.pt`` (and ``model.pt`` when ``write_model``), atomically, from rank 0.

        Every rank calls it at the same step: the RNG states of every rank are gathered
        and the outcome of rank 0's writing is shared (collective calls under
        ``torchrun``), so a failed save stops every rank.

        Args:
            write_model: also write ``model.pt`` (at epoch ends and at the end of a run).

        Raises:
            OutputError: (an ``OSError``) when a file cannot be written (a full disk): one
                line naming the step, the file, the reason and the checkpoint kept.
        """
        own = {"global": _rng_state()}
        own["augment"] = self.generator.get_state() if self.generator is not None else None
        rngs = gather(self.context, own)
        failed: OutputError | None = None
        if self.context.is_main:
            path = self.last_path
            try:
                save_checkpoint(self.state_dict(rngs), path, TRAIN_STATE_FORMAT)
                self.saved_step = self.step
                if write_model:
                    path = self.folder / MODEL
                    self.write_model()
            except OSError as err:
                failed = OutputError(self.cannot_write(path, err))
        if agree(self.context, [failed is not None])[0]:
            raise failed or OutputError(
                f"training stopped at step {self.step}: rank 0 could not save; see its message"
            )
        self.saved_step = self.step

    def cannot_write(self, path: Path, err: OSError) -> str:
        """The one line of a run that stops because ``path`` cannot be written.

        Args:
            path: the file (``last.pt``, ``model.pt``, ``metrics.csv``).
            err: the error of writing it.

        Returns:
            The step, the file, the reason, the checkpoint kept and what to do.
        """
        reason = describe_os_error(err) if err.errno is not None else str(err)
        full = err.errno in (errno.ENOSPC, errno.EDQUOT)
        todo = "free space and " if full else "make it writable and "
        again = f"{self.again} (--resume)" if self.saved_step is not None else self.again
        return (
            f"training stopped at step {self.step}: cannot write {path}: {reason}; {self.kept}; "
            f"{todo}{again}"
        )

    def resume(self, metrics: MetricsLog | None = None) -> None:
        """Continue from ``last.pt``: check the settings, then restore every part.

        A changed tunable setting (``lr``, ``epochs``...) is printed as a note and applies
        from the resumed step on (the learning rates are set again from the new ``lr``,
        ``momentum`` and ``weight_decay``). The rows of ``metrics`` past the checkpoint's
        step are removed (by rank 0).

        Args:
            metrics: the run's log, cut back to the checkpoint's step.

        Raises:
            ValueError: for other fixed settings (one line naming each), other training
                data than the run's (naming what changed, when both fingerprints are
                known), or a checkpoint past the ``epochs`` asked for.
            CheckpointError: for a ``last.pt`` that is not a training state or is damaged.
        """
        path = self.last_path
        saved = load_checkpoint(path, TRAIN_STATE_FORMAT, map_location=self.context.device)
        changed = _check_resume(path, saved["settings"], self.record)
        note = _check_data(path, saved, self.data)
        step = int(saved["step"])
        total_steps = self.settings.total_steps(self.steps_per_epoch)
        if total_steps is not None and step > total_steps:
            done = -(-step // self.steps_per_epoch)
            raise ValueError(
                f"{path} is at step {step}, past the {self.settings.epochs} epochs asked for "
                f"({total_steps} steps); resume with epochs={done} (--epochs {done}) or more"
            )
        self._load(saved, changed)
        self.input_size = saved["settings"].get("input_size")
        self._check_size = isinstance(self.input_size, list)
        self.step = self.saved_step = step
        if self.context.is_main:
            if metrics is not None:
                metrics.truncate(step)
            if note:
                print(note)
            if changed:
                print(
                    f"note: resuming {path} at step {step} with changed settings: "
                    f"{', '.join(changed)}; they apply from here on, so the run is no longer "
                    "identical to an uninterrupted one"
                )

    def _load(self, saved: Mapping[str, Any], changed: list[str]) -> None:
        """Restore the parts from a checked ``last.pt``."""
        name = (saved.get("build_config") or {}).get("name")
        load_state(self.model, saved["model"], f"training state {self.last_path}", name)
        self.optimizer.load_state_dict(saved["optimizer"])
        self.scheduler.load_state_dict(saved["scheduler"])
        if self.ema is not None:  # a run that kept no average starts one here
            if saved.get("ema") is not None:
                self.ema.load_state_dict(saved["ema"])
            else:
                self.ema.reset(self.model)
        if saved["scaler"] and self.scaler.is_enabled():  # fp16 both times; else nothing
            self.scaler.load_state_dict(saved["scaler"])
        if changed:
            self._apply_rates()
        own = saved["rng"][self.context.rank]
        _set_rng_state(own["global"])
        if self.generator is not None and own["augment"] is not None:
            self.generator.set_state(own["augment"])
        if self.guard is not None:
            self.monitor = self.guard.monitor(saved.get("guard"))
        if self.settings.budget is not None:
            self.settings.budget.resume(saved.get("spent") or 0.0)
            self.budget_used = self.settings.budget.fraction()

    def _apply_rates(self) -> None:
        """Set the optimizer's groups from this run's settings (the saved ones carry the old
        values), at the saved step of the schedule."""
        s, optimizer, scheduler = self.settings, self.optimizer, self.scheduler
        for group in optimizer.param_groups:
            group.update(initial_lr=s.lr, weight_decay=s.weight_decay)
            if "momentum" in group:
                group["momentum"] = s.momentum
        scheduler.base_lrs = [s.lr] * len(optimizer.param_groups)
        for group, fn in zip(optimizer.param_groups, scheduler.lr_lambdas):
            group["lr"] = s.lr * fn(scheduler.last_epoch)
