"""Training loop: SGD per the paper, AMP, atomic checkpoints (every epoch and mid-epoch),
exact resume, loss guards, torchrun DDP.

The entry point is [`train()`][train]; the ``cgalib train`` command turns its arguments into
keyword arguments of this function.
"""

from __future__ import annotations

import math
import os
import random
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset

from cgalib.engine.distributed import DistributedContext, cleanup_distributed, init_distributed
from cgalib.engine.guards import (
    DIVERGENCE_GUARD,
    DivergenceError,
    DivergenceGuard,
    NonFiniteLossError,
)
from cgalib.engine.metrics_log import MetricsLog
from cgalib.engine.sampler import ResumableSampler, SeededDataset
from cgalib.engine.schedule import TimeBudget, budget_lr_factor, paper_lr_scheduler
from cgalib.models.checkpoint import (
    TRAIN_STATE_FORMAT,
    load_checkpoint,
    load_state,
    save_checkpoint,
    save_model,
)
from cgalib.registry import create_model
from cgalib.utils.image import to_float_image
from cgalib.utils.keypoint_set import KeypointSet
from cgalib.utils.precision import autocast as precision_autocast
from cgalib.utils.progress import ProgressBar

__all__ = ["DivergenceError", "NonFiniteLossError", "train", "train_model"]

LAST = "last.pt"
MODEL = "model.pt"
METRICS = "metrics.csv"

FIXED_SETTINGS = ("model", "batch_size", "world_size", "dataset_size", "optimizer")
"""Settings a resumed run must share with its checkpoint (they define what a step is)."""


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


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


def _to_device(targets: Sequence[dict], device: torch.device) -> list[dict]:
    def move(v: Any) -> Any:
        if isinstance(v, np.ndarray):
            v = torch.from_numpy(v)
        return v.to(device, non_blocking=True) if torch.is_tensor(v) else v

    return [{k: move(v) for k, v in t.items()} for t in targets]


class _TargetsAsArrays:
    """A loader worker's ``collate_fn`` whose batches carry the targets' tensors as numpy arrays.

    A tensor leaves a worker through shared memory, one file descriptor and one
    authenticated socket connection per storage; a batch of 16 images has about 140 small
    target tensors, and receiving them took 50 ms per step of the CPU demo (12% of its
    time). Arrays are pickled inline; `_to_device` turns them back into tensors.
    """

    def __init__(self, collate_fn: Callable) -> None:
        self.collate_fn = collate_fn

    def __call__(self, batch: Any) -> tuple[Any, list[dict]]:
        images, targets = self.collate_fn(batch)
        return images, [
            {k: v.numpy() if torch.is_tensor(v) else v for k, v in t.items()} for t in targets
        ]


def _check_arguments(
    epochs: int | None,
    batch_size: int,
    lr: float,
    optimizer: str,
    warmup_steps: int,
    amp: str | None,
    num_workers: int,
    time_limit: float | None,
    log_every: int,
    checkpoint_every: int | None,
    checkpoint_seconds: float | None,
    time_budget: float | TimeBudget | None,
) -> None:
    """Refuse bad arguments before anything is built or written, one line each."""
    if epochs is None and time_budget is None:
        raise ValueError("give epochs (--epochs) or a time budget (--time-budget)")
    if time_budget is not None and time_limit is not None:
        raise ValueError(
            "give time_budget or time_limit, not both: a time budget already stops the run "
            "when it is spent (--time-budget), a time limit cuts a step-scheduled run short "
            "(--time-limit)"
        )
    if time_budget is not None and not isinstance(time_budget, TimeBudget):
        TimeBudget(time_budget)  # checks the value
    at_least_one = {"epochs": epochs or 1, "batch_size": batch_size, "log_every": log_every}
    if checkpoint_every is not None:
        at_least_one["checkpoint_every"] = checkpoint_every
    for name, value in at_least_one.items():
        if value < 1:
            why = " (a run of no epochs trains nothing and writes no model.pt)" * (name == "epochs")
            raise ValueError(f"{name} must be at least 1, got {value}{why}")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr}")
    if optimizer not in ("sgd", "adamw"):
        raise ValueError(f"optimizer must be 'sgd' or 'adamw', got {optimizer!r}")
    if amp not in (None, "bf16", "fp16"):
        raise ValueError(f"amp must be None, 'bf16' or 'fp16', got {amp!r}")
    for name, value in {"warmup_steps": warmup_steps, "num_workers": num_workers}.items():
        if value < 0:
            raise ValueError(f"{name} must be 0 or more, got {value}")
    for name, value in {"time_limit": time_limit, "checkpoint_seconds": checkpoint_seconds}.items():
        if value is not None and not value >= 0:
            raise ValueError(f"{name} must be None or 0 or more seconds, got {value}")


def _refuse_previous_run(out: Path, is_main: bool) -> None:
    """A folder that holds a run is continued (resume) or left alone, never mixed into.

    A ``metrics.csv`` alone (a run stopped before its first checkpoint) cannot be resumed;
    it is renamed ``metrics.<n>.csv`` and a new log begins.
    """
    found = [name for name in (LAST, MODEL) if (out / name).exists()]
    if found:
        raise FileExistsError(
            f"{out} already holds a training run ({', '.join(found)}); pass resume=True "
            "(--resume) to continue it, or train into another folder (or delete those files "
            "to start over)"
        )
    log = out / METRICS
    if is_main and log.exists():
        n = 1
        while (kept := out / f"metrics.{n}.csv").exists():
            n += 1
        log.rename(kept)
        print(
            f"note: {log} of an earlier run that wrote no checkpoint was renamed {kept.name}; "
            "this run starts a new log"
        )


def _describe_model(model: nn.Module) -> str:
    config = getattr(model, "build_config", None)
    if not config:
        return type(model).__name__
    kwargs = ", ".join(f"{k}={v!r}" for k, v in sorted(config["kwargs"].items()))
    return f"{config['name']}({kwargs})"


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


def _gather(ctx: DistributedContext, obj: Any) -> list[Any]:
    """``obj`` of every rank, in rank order (a collective call under torchrun)."""
    if not ctx.is_distributed:
        return [obj]
    objs: list[Any] = [None] * ctx.world_size
    torch.distributed.all_gather_object(objs, obj)
    return objs


def _rank0_value(ctx: DistributedContext, device: torch.device, value: float) -> float:
    """Rank 0's ``value`` (its clock), broadcast so that every rank uses the same number."""
    if not ctx.is_distributed:
        return value
    t = torch.tensor([value], dtype=torch.float64, device=device)
    torch.distributed.broadcast(t, src=0)
    return float(t.item())


def _agree(ctx: DistributedContext, device: torch.device, flags: list[bool]) -> list[bool]:
    """Rank 0's decisions (clock, loss guard), broadcast so that every rank acts alike."""
    if not ctx.is_distributed:
        return flags
    t = torch.tensor([float(f) for f in flags], device=device)
    torch.distributed.broadcast(t, src=0)
    return [bool(v) for v in t.tolist()]


def train_model(
    model: nn.Module,
    dataset: Dataset,
    collate_fn: Callable,
    out_dir: str | os.PathLike,
    epochs: int | None,
    batch_size: int,
    augment: nn.Module | None = None,
    lr: float = 1e-2,
    optimizer: str = "sgd",
    momentum: float = 0.9,
    weight_decay: float = 1e-4,
    warmup_steps: int = 500,
    clip_grad_norm: float | None = 10.0,
    amp: str | None = None,
    channels_last: bool = False,
    resume: bool = False,
    num_workers: int = 2,
    seed: int = 0,
    time_limit: float | None = None,
    log_every: int = 10,
    context: DistributedContext | None = None,
    checkpoint_every: int | None = None,
    checkpoint_seconds: float | None = 600.0,
    divergence_guard: DivergenceGuard | None = DIVERGENCE_GUARD,
    time_budget: float | TimeBudget | None = None,
) -> Path:
    """Train a model whose train-mode ``forward(images, targets)`` returns a dict of losses.

    The run folder ``out_dir`` receives ``last.pt`` (the training state: model, optimizer,
    scheduler, scaler, the RNG states of every process, the loss guard, the step),
    ``model.pt`` (the weights, loadable by [`cgalib.load_model()`][cgalib.load_model]) and ``metrics.csv``
    (loss terms, learning rate and images/s every ``log_every`` steps). ``last.pt`` is
    written at the end of every epoch, every ``checkpoint_every`` steps and every
    ``checkpoint_seconds``; ``model.pt`` at the end of every epoch and of the run. Both are
    written atomically (an interrupted save leaves the previous file) with a content hash
    checked on load. A folder that already holds a run (``last.pt`` or ``model.pt``) is
    refused unless ``resume=True``; a ``metrics.csv`` alone (a run stopped before its first
    checkpoint) is renamed ``metrics.<n>.csv`` and a new log begins.

    **Resume.** With ``resume=True`` training continues from ``last.pt`` at its step, also
    in the middle of an epoch: the rows of ``metrics.csv`` past that step are removed, the
    epoch's consumed batches are skipped without being loaded, and the RNG states, the
    augmentation's generator and the loss guard are restored; the steps after the
    checkpoint (up to a kill) are computed again. With the same code, machine, device,
    number of CPU threads, data and settings, the resumed run is bit-identical to an
    uninterrupted one: the same weights, losses and ``metrics.csv`` rows (images/s aside).
    This holds for any ``num_workers``, also another one than before the interruption
    (each sample's randomness is seeded from ``(seed, epoch, index)``, see
    [`SeededDataset`][cgalib.engine.sampler.SeededDataset], not from the worker that reads it), and
    under ``torchrun`` with the same number of processes. On a GPU it also needs
    deterministic kernels (``torch.use_deterministic_algorithms(True)``); without them a
    resumed run differs from an uninterrupted one as two uninterrupted runs differ from
    each other. What is refused, with one line
    naming each difference: another model (builder name or kwargs), ``batch_size``, number
    of processes, data set size or optimizer, and images of another size than the run's
    (checked on the first batch, unless the run's batches varied in size); they define what
    a step is. What is allowed and printed as a note: another ``lr``,
    ``momentum``, ``weight_decay``, ``warmup_steps``, ``epochs`` (the schedule is
    recomputed for the new length), ``clip_grad_norm``, ``amp``, ``seed`` (the order of
    the remaining epochs) or ``channels_last``; they apply from the resumed step on, so the
    run is then no longer identical to any uninterrupted one.

    **Time budget.** With ``time_budget`` the run is measured in time instead of epochs:
    the learning rate drops at 70/95 and 85/95 of the budget
    ([`budget_lr_factor()`][cgalib.engine.schedule.budget_lr_factor]; the warm-up stays in steps), and the
    run stops, with its checkpoints written, when the next step and the checkpoint would no
    longer fit in it. Every machine so trains for its whole budget with the whole schedule,
    a faster one for more steps; ``epochs``, if given, is an upper bound. Only training
    time counts: a resumed run continues from the time its ``last.pt`` had spent. Such a
    run depends on the machine's speed, so its resume is not bit-identical (the learning
    rate of each step follows the clock).

    **Guards.** A NaN or infinite loss term stops the run at once
    ([`NonFiniteLossError`][NonFiniteLossError]); a loss that stays far above its running median stops it
    too ([`DivergenceError`][DivergenceError], see [`DivergenceGuard`][DivergenceGuard]). While the loss is
    suspicious, the periodic checkpoints are postponed, so ``last.pt`` keeps the last good
    state to resume from with a lower ``lr``; a checkpoint forced by the run's end or its
    time limit is written anyway.

    Args:
        model: the model (its ``build_config`` is kept in the checkpoints).
        dataset: yields ``(image, target)`` pairs that ``collate_fn`` batches into an image
            tensor `(B, 3, S, S)` and a list of target dicts.
        collate_fn: the batching function.
        out_dir: the run folder.
        epochs: passes over the data (at least 1); with ``time_budget``, an optional upper
            bound (``None``: none).
        batch_size: images per step (per process under ``torchrun``).
        augment: a module applied on the device to ``(images, targets)``, returning
            float images in 0..1 and targets (e.g. [`cgalib.data.PoseAugmentation`][cgalib.data.PoseAugmentation]);
            its ``generator`` attribute, when it has one, is checkpointed.
        lr: base learning rate (the paper: 1e-2); drops x0.1 at 70/95 and 85/95 of the run.
        optimizer: ``"sgd"`` (the paper's, with ``momentum``) or ``"adamw"`` (converges
            faster in short runs such as the CPU demo).
        momentum: SGD momentum.
        weight_decay: weight decay.
        warmup_steps: linear warm-up steps (capped at a tenth of the run).
        clip_grad_norm: gradient-norm clipping threshold; ``None`` disables it.
        amp: ``None``, ``"bf16"`` or ``"fp16"`` autocast (fp16 uses a gradient scaler).
        channels_last: keep weights and images in the channels-last memory format (faster
            convolutions on CPUs, about 20% per step for the demo model on 2 cores, and on
            GPUs with AMP); checkpoints are unaffected.
        resume: continue the run in ``out_dir`` from its ``last.pt``.
        num_workers: data-loading worker processes (the results do not depend on it).
        seed: seeds data order, augmentation and initialisation-independent randomness.
        time_limit: stop (after checkpointing) once this many seconds have passed.
        log_every: steps between ``metrics.csv`` rows.
        context: the distributed context (default: from the environment).
        checkpoint_every: also write ``last.pt`` every this many steps (``None``: only at
            epoch ends and by time).
        checkpoint_seconds: also write ``last.pt`` when this many seconds have passed since
            the last one (``None``: never by time).
        divergence_guard: when a loss counts as diverged; ``None`` disables the check.
        time_budget: train for this many seconds (or a
            [`TimeBudget`][cgalib.engine.schedule.TimeBudget]) with the schedule following the
            time used, instead of a number of epochs; not with ``time_limit``.

    Returns:
        The path of ``model.pt``.

    Raises:
        ValueError: for a bad argument, a data set smaller than one batch, or a resume
            with other fixed settings (one line each).
        FileExistsError: without ``resume``, if ``out_dir`` already holds a run.
        FileNotFoundError: with ``resume=True`` and no ``last.pt``.
        CheckpointError: with ``resume=True`` and a ``last.pt`` that is not a training
            state or is damaged.
        NonFiniteLossError: when a loss term becomes NaN/inf (naming the step and term).
        DivergenceError: when the loss diverges (naming the steps and the kept checkpoint).
    """
    _check_arguments(
        epochs,
        batch_size,
        lr,
        optimizer,
        warmup_steps,
        amp,
        num_workers,
        time_limit,
        log_every,
        checkpoint_every,
        checkpoint_seconds,
        time_budget,
    )
    budget = TimeBudget(time_budget) if isinstance(time_budget, (int, float)) else time_budget
    ctx = context or init_distributed()
    device = ctx.device
    out = Path(out_dir)
    last_path = out / LAST
    if resume:
        if not last_path.is_file():
            raise FileNotFoundError(
                f"cannot resume: no checkpoint {last_path} (the run wrote none yet); train "
                "without resume to start it"
            )
    else:
        _refuse_previous_run(out, ctx.is_main)
    _seed_everything(seed + ctx.rank)
    sampler = ResumableSampler(dataset, ctx.world_size, ctx.rank, seed=seed, drop_last=True)
    loader = DataLoader(
        SeededDataset(dataset),
        batch_size=batch_size,
        sampler=sampler,
        drop_last=True,
        num_workers=num_workers,
        collate_fn=_TargetsAsArrays(collate_fn) if num_workers > 0 else collate_fn,
        pin_memory=device.type == "cuda",
        persistent_workers=num_workers > 0,
        generator=torch.Generator().manual_seed(seed),  # iterators leave the global RNG alone
    )
    steps_per_epoch = len(loader)
    if steps_per_epoch == 0:
        per = f" per process ({ctx.world_size} processes)" if ctx.is_distributed else ""
        raise ValueError(
            f"the data set has {sampler.num_samples} images{per}, fewer than one batch of "
            f"{batch_size}; lower batch_size (--batch) or add images"
        )
    total_steps = epochs * steps_per_epoch if epochs is not None else None
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(device, memory_format=memory_format).train()
    build_config = getattr(model, "build_config", None)
    net: nn.Module = DistributedDataParallel(model) if ctx.is_distributed else model
    params = [p for p in model.parameters() if p.requires_grad]
    if optimizer == "sgd":
        optim = torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    else:
        optim = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    used = [0.0]  # the share of the time budget used, read by the budget schedule
    if budget is None:
        scheduler = paper_lr_scheduler(optim, total_steps, min(warmup_steps, total_steps // 10))
    else:
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optim, lambda s: budget_lr_factor(s, used[0], warmup_steps)
        )
    scaler = torch.amp.GradScaler(device.type, enabled=amp == "fp16")
    generator = _augment_generator(augment)
    monitor = divergence_guard.monitor() if divergence_guard is not None else None
    metrics = MetricsLog(out / METRICS)
    settings: dict[str, Any] = {
        "model": _describe_model(model),
        "batch_size": batch_size,
        "world_size": ctx.world_size,
        "dataset_size": len(dataset),
        "optimizer": optimizer,
        "lr": lr,
        "momentum": momentum,
        "weight_decay": weight_decay,
        "warmup_steps": warmup_steps,
        "epochs": epochs,
        "time_budget": budget.seconds if budget is not None else None,
        "clip_grad_norm": clip_grad_norm,
        "amp": amp,
        "seed": seed,
        "channels_last": channels_last,
    }
    input_size: list[int] | str | None = None  # (H, W) of the run's batches, or "mixed"
    check_size = False  # the first batch of a resumed run must have the run's size

    step = 0
    saved_step: int | None = None  # the step of the last.pt on disk
    if resume:
        state = load_checkpoint(last_path, TRAIN_STATE_FORMAT, map_location=device)
        changed = _check_resume(last_path, state["settings"], settings)
        step = int(state["step"])
        if total_steps is not None and step > total_steps:
            done = -(-step // steps_per_epoch)
            raise ValueError(
                f"{last_path} is at step {step}, past the {epochs} epochs asked for "
                f"({total_steps} steps); resume with epochs={done} (--epochs {done}) or more"
            )
        saved = (state.get("build_config") or {}).get("name")
        load_state(model, state["model"], f"training state {last_path}", saved)
        optim.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        if state["scaler"] and scaler.is_enabled():  # fp16 both times; else nothing to carry
            scaler.load_state_dict(state["scaler"])
        if changed:
            for group in optim.param_groups:  # the saved groups carry the old values
                group.update(initial_lr=lr, weight_decay=weight_decay)
                if "momentum" in group:
                    group["momentum"] = momentum
            scheduler.base_lrs = [lr] * len(optim.param_groups)
            for group, fn in zip(optim.param_groups, scheduler.lr_lambdas):
                group["lr"] = lr * fn(scheduler.last_epoch)
        own = state["rng"][ctx.rank]
        _set_rng_state(own["global"])
        if generator is not None and own["augment"] is not None:
            generator.set_state(own["augment"])
        if divergence_guard is not None:
            monitor = divergence_guard.monitor(state.get("guard"))
        if budget is not None:
            budget.resume(state.get("spent") or 0.0)
            used[0] = budget.fraction()
        input_size = state["settings"].get("input_size")
        check_size = isinstance(input_size, list)
        saved_step = step
        if ctx.is_main:
            metrics.truncate(step)
            if changed:
                print(
                    f"note: resuming {last_path} at step {step} with changed settings: "
                    f"{', '.join(changed)}; they apply from here on, so the run is no longer "
                    "identical to an uninterrupted one"
                )
    elif ctx.is_main:
        out.mkdir(parents=True, exist_ok=True)

    def kept() -> str:
        if saved_step is None:
            return "no checkpoint was written yet"
        return f"the last checkpoint, {last_path} at step {saved_step}, is kept"

    def again() -> str:
        return "start again" if saved_step is None else "resume from it"

    def save(write_model: bool) -> None:
        nonlocal saved_step, last_save, save_s
        began = time.perf_counter()
        own = {"global": _rng_state(), "augment": generator.get_state() if generator else None}
        rngs = _gather(ctx, own)
        if ctx.is_main:
            save_checkpoint(
                {
                    "model": model.state_dict(),
                    "optimizer": optim.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "scaler": scaler.state_dict(),
                    "epoch": step // steps_per_epoch,
                    "step": step,
                    "settings": {**settings, "input_size": input_size},
                    "rng": rngs,
                    "guard": monitor.state_dict() if monitor is not None else None,
                    "build_config": build_config,
                    "spent": budget.spent() if budget is not None else None,
                },
                last_path,
                TRAIN_STATE_FORMAT,
            )
            if write_model:
                save_model(model, out / MODEL, epoch=step // steps_per_epoch, step=step)
        saved_step, last_save = step, time.perf_counter()
        save_s = last_save - began

    started = last_save = time.perf_counter()
    save_s = step_s = 0.0  # the last checkpoint's and a step's duration (the time budget)
    first_epoch, offset = divmod(step, steps_per_epoch)
    last_epoch = epochs if epochs is not None else sys.maxsize
    if step == total_steps or (budget is not None and budget.exhausted(budget.spent(), 0, 0)):
        if ctx.is_main:
            of = f" of {total_steps}" if step == total_steps else ", its time budget spent"
            print(f"{out} is already complete (step {step}{of}); nothing to train")
            if not (out / MODEL).is_file():
                save_model(model, out / MODEL, epoch=first_epoch, step=step)
        last_epoch = first_epoch
    if budget is not None:
        budget.start()
    for epoch in range(first_epoch, last_epoch):
        start = offset if epoch == first_epoch else 0
        sampler.set_epoch(epoch, start * batch_size)
        bar = ProgressBar(
            steps_per_epoch - start,
            f"epoch {epoch + 1}/{epochs}" if epochs is not None else f"epoch {epoch + 1}",
            unit="step",
            enabled=ctx.is_main,
        )
        tick, seen = time.perf_counter(), 0
        tick_step = tick
        out_of_time = False
        for images, targets in loader:
            size = list(images.shape[-2:])
            if check_size and size != input_size:
                raise ValueError(
                    f"cannot resume {last_path}: the run trained on {input_size[0]}x"
                    f"{input_size[1]} images, these batches are {size[0]}x{size[1]}; resume "
                    "with the run's input size (--input-size) or start a new run in another "
                    "folder"
                )
            check_size = False
            if input_size is None:
                input_size = size
            elif input_size != size:
                input_size = "mixed"  # multi-scale batches: nothing to check on resume
            images = images.to(device, non_blocking=True)
            targets = _to_device(targets, device)
            if augment is not None:
                with torch.no_grad():
                    images, targets = augment(images, targets)
            else:
                images = to_float_image(images)
            images = images.contiguous(memory_format=memory_format)
            with precision_autocast(device, amp or "fp32"):
                losses = net(images, targets)
            row = dict(
                zip(losses, torch.stack([v.detach().float() for v in losses.values()]).tolist())
            )
            bad = {k: v for k, v in row.items() if not math.isfinite(v)}
            if bad:
                raise NonFiniteLossError(
                    f"non-finite loss at step {step + 1}: "
                    f"{', '.join(f'{k}={v}' for k, v in bad.items())}; {kept()}; lower the "
                    "learning rate, enable gradient clipping or check the data of this batch, "
                    f"and {again()}"
                )
            loss = sum(losses.values())
            optim.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            if clip_grad_norm:
                scaler.unscale_(optim)
                torch.nn.utils.clip_grad_norm_(params, clip_grad_norm)
            scaler.step(optim)
            scaler.update()
            now = time.perf_counter()
            step_s = now - tick_step if step_s == 0 else 0.8 * step_s + 0.2 * (now - tick_step)
            tick_step = now
            if budget is not None:
                spent = _rank0_value(ctx, device, budget.spent())
                used[0] = budget.fraction(spent)
            scheduler.step()
            step += 1
            seen += images.shape[0] * ctx.world_size
            total = sum(row.values())
            diverged = monitor.update(total) if monitor is not None and ctx.is_main else False
            out_of_time, time_due, diverged, suspicious = _agree(
                ctx,
                device,
                [
                    (time_limit is not None and now - started > time_limit)
                    or (budget is not None and budget.exhausted(spent, step_s, save_s)),
                    checkpoint_seconds is not None and now - last_save > checkpoint_seconds,
                    diverged,
                    monitor is not None and ctx.is_main and monitor.streak > 0,
                ],
            )
            end_of_epoch = step % steps_per_epoch == 0
            if ctx.is_main:
                rate = seen / max(now - tick, 1e-9)
                lr_now = optim.param_groups[0]["lr"]
                bar.update(1, loss=total, lr=lr_now, **{"img/s": round(rate, 1)})
                if step % log_every == 0 or end_of_epoch or out_of_time:
                    metrics.append(
                        {
                            "epoch": epoch + 1,
                            "step": step,
                            "lr": lr_now,
                            "loss": total,
                            **row,
                            "images_per_s": rate,
                        }
                    )
            if diverged:
                guard = divergence_guard
                raise DivergenceError(
                    f"training diverged at step {step}: the loss ({total:.3g}) stayed above "
                    f"{guard.factor:g}x its running median ({monitor.median:.3g}) for "
                    f"{guard.patience} steps since step {step - guard.patience + 1}; {kept()}; "
                    f"lower the learning rate (--lr) and {again()}"
                )
            finished = step == total_steps
            periodic = (
                end_of_epoch or time_due or bool(checkpoint_every and step % checkpoint_every == 0)
            )
            if finished or out_of_time or (periodic and not suspicious):
                save(write_model=end_of_epoch or finished or out_of_time)
                if suspicious and ctx.is_main:
                    print(
                        f"warning: checkpoint at step {step} written while the loss "
                        f"({total:.3g}) is above {divergence_guard.factor:g}x its running "
                        f"median for the last {monitor.streak} steps"
                    )
            if out_of_time:
                break
        bar.close()
        if out_of_time:
            if ctx.is_main:
                what = (
                    f"time budget of {budget.seconds:.0f}s spent"
                    if budget is not None
                    else f"time limit of {time_limit:.0f}s reached"
                )
                print(f"{what} after step {step}; checkpoint saved")
            break
    if ctx.is_distributed:  # leave together: rank 0 may still be writing the checkpoint
        torch.distributed.barrier()
    return out / MODEL


def _check_model_keypoints(
    net: nn.Module, name: str, keypoints: KeypointSet, ann_file: Path
) -> None:
    """Refuse a model built for other keypoints than the data's (``model_kwargs`` that set
    ``num_keypoints`` or ``keypoint_set``)."""
    k = getattr(net, "num_keypoints", None)
    own = getattr(net, "keypoint_set", None)
    if k == 0:  # a segmentation-only model predicts no keypoints
        return
    if (k is not None and k != len(keypoints)) or (
        own is not None and own.names != keypoints.names
    ):
        what = own.describe() if own is not None else f"{k} keypoints"
        raise ValueError(
            f"{name} is built for {what} but {ann_file} has {keypoints.describe()}; leave "
            "num_keypoints and keypoint_set out of the model arguments (the data set's are used)"
        )


def _upper_body(
    keypoints: KeypointSet, augment_kwargs: Mapping[str, Any], ann_file: Path
) -> dict[str, tuple[int, ...]]:
    """The ``upper_body`` of half-body crops: the keypoint set's; COCO's default for COCO;
    refused when half-body crops are asked for a set that has none."""
    if keypoints.upper_body is not None:
        return {"upper_body": keypoints.upper_body}
    if (
        augment_kwargs.get("half_body_prob", 0)
        and "upper_body" not in augment_kwargs
        and not keypoints.is_coco()
    ):
        raise ValueError(
            f"half-body crops need the upper-body keypoints of {ann_file}'s "
            f"{keypoints.describe()}: add an \"upper_body\" list of names to its category, or "
            "pass upper_body=[...] in the augmentation arguments"
        )
    return {}


def train(
    model: str,
    data: str | os.PathLike,
    out: str | os.PathLike,
    model_kwargs: dict | None = None,
    ann_train: str | os.PathLike | None = None,
    images_train: str | os.PathLike | None = None,
    input_size: int | Sequence[int] | None = None,
    device: str | None = None,
    augment: bool = True,
    augment_kwargs: Mapping[str, Any] | None = None,
    categories: str | Sequence[str | int] | None = None,
    flip_index: Sequence[int] | None = None,
    sigmas: Sequence[float] | None = None,
    **train_kwargs: Any,
) -> Path:
    """Train a registered model on a COCO-format keypoint data set (``cgalib train``).

    The kind of model picks the data pipeline: a multi-person model ([`CGANet`][cgalib.CGANet])
    trains on letterboxed whole images ([`CocoKeypoints`][cgalib.data.CocoKeypoints] with
    ``input_size``, [`PoseAugmentation`][cgalib.data.PoseAugmentation]); a top-down model
    ([`TopDownPose`][cgalib.TopDownPose]) on person crops ([`PersonCrops`][cgalib.data.PersonCrops],
    [`TopDownAugmentation`][cgalib.data.TopDownAugmentation] with the model's crop size and flip map).

    Before the first step the annotation file is checked
    ([`CocoKeypoints`][cgalib.data.CocoKeypoints]) and its report printed: images, people kept and
    dropped by reason. A set where no kept person has a labelled keypoint stops here; when
    more than 20% of the people are dropped a one-line warning goes to stderr.

    The keypoint set comes from the annotation file (its category's names, skeleton, flip
    map and sigmas; [`CocoKeypoints.keypoint_set`][cgalib.data.CocoKeypoints]): the
    model is built for it (a set other than COCO's 17 keypoints is passed to the builder
    as ``keypoint_set``, so ``model.pt`` stores it and ``cgalib eval``/``predict``/
    ``export`` need nothing more), and the augmentation flips with its flip map.

    Args:
        model: a registered model name (e.g. ``"cganet_tnet_d1w64"`` or
            ``"topdown_tnet_d3w64"``); its builder receives ``input_size`` when given (the
            CGANet builders size the ROI crops from it).
        data: the data root with ``train/`` images and ``annotations/person_keypoints_train.json``
            (the synthetic set's and COCO's layout, COCO's ``train2017/`` is found too).
        out: the run folder.
        model_kwargs: builder overrides.
        ann_train: the annotation file, if not in the default place.
        images_train: the image folder, if not in the default place.
        input_size: the training input: a side for a multi-person model (the paper: 512),
            ``(H, W)`` (or a side) for a top-down model (the paper: ``(256, 192)``);
            ``None`` keeps the builder's default.
        device: ``"cuda"``/``"cpu"``; default CUDA when available (the local rank under
            ``torchrun``).
        augment: apply the paper's GPU augmentation (the top-down one for a top-down model).
        augment_kwargs: overrides of the augmentation's defaults
            ([`PoseAugmentation`][cgalib.data.PoseAugmentation]: ``scale``, ``rotation``,
            ``translation``, ``flip_prob``; [`TopDownAugmentation`][cgalib.data.TopDownAugmentation]: its
            arguments); the flip map (and the top-down ``upper_body``) are the keypoint
            set's.
        categories: the keypoint categories to train on (see
            [`Categories`][cgalib.data.Categories]; default the one named ``"person"``).
        flip_index: the keypoint set's flip map, when its names do not give it.
        sigmas: the keypoint set's OKS sigmas, overriding the category's.
        **train_kwargs: passed to [`train_model()`][train_model] (epochs, batch_size, lr, amp, resume...).

    Returns:
        The path of the trained ``model.pt``.

    Raises:
        FileNotFoundError: for a missing data root, annotation file or image.
        AnnotationError: (a ``ValueError``) for a malformed annotation file, naming the
            annotation id, one with nothing to train on, or a keypoint set that cannot be
            used (see [`read_keypoint_set()`][cgalib.data.read_keypoint_set]).
        ValueError: if ``model_kwargs`` build a model for another keypoint set than the
            data's (naming both).
    """
    from cgalib.data import (
        CocoKeypoints,
        PersonCrops,
        PoseAugmentation,
        TopDownAugmentation,
        collate_letterboxed,
        collate_person_crops,
        find_split,
    )
    from cgalib.models import TopDownPose

    ctx = init_distributed(device)
    try:
        images_dir, ann_file = find_split(data, "train", images_train, ann_train)
        size = {} if input_size is None else {"input_size": input_size}
        given = (model_kwargs or {}).get("input_size", input_size)
        if input_size is not None and given != input_size:
            raise ValueError(
                f"input_size={input_size} disagrees with model_kwargs' input_size={given}; "
                "give the training size once"
            )
        read = partial(
            CocoKeypoints,
            images_dir,
            ann_file,
            categories=categories,
            flip_index=flip_index,
            sigmas=sigmas,
        )
        people = read()  # the keypoint set, checked before the model is built for it
        keypoints = people.keypoint_set
        own_set = {} if keypoints == KeypointSet.coco() else {"keypoint_set": keypoints.to_dict()}
        torch.manual_seed(train_kwargs.get("seed", 0))  # the same seed, the same initial weights
        net = create_model(model, **{**size, **own_set, **(model_kwargs or {})})
        _check_model_keypoints(net, model, keypoints, ann_file)
        if "masks" in getattr(net, "outputs", ()):  # a segmentation model: people with masks
            people = read(with_masks=True)
        if ctx.is_main:
            print(people.report)
        warning = people.report.check_for_training()  # no labelled person: stop here
        if warning and ctx.is_main:
            print(f"warning: {warning}", file=sys.stderr)
        if isinstance(net, TopDownPose):
            dataset, collate = PersonCrops(people), collate_person_crops
            halves = _upper_body(keypoints, augment_kwargs or {}, ann_file)
            make_augment = partial(
                TopDownAugmentation, net.input_size, flip_index=net.flip_index, **halves
            )
        else:
            dataset, collate = people.letterboxed(net.input_size), collate_letterboxed
            make_augment = partial(
                PoseAugmentation, output_size=net.input_size, flip_index=keypoints.flip_index
            )
        aug = make_augment(**(augment_kwargs or {})).to(ctx.device) if augment else None
        return train_model(net, dataset, collate, out, augment=aug, context=ctx, **train_kwargs)
    finally:
        cleanup_distributed()
