"""Training loop: SGD per the paper, AMP, atomic checkpoints (every epoch and mid-epoch),
exact resume, loss guards, torchrun DDP.

The entry point is [`train()`][train]; the ``cgalib train`` command turns its arguments into
keyword arguments of this function. The loop, [`train_model()`][train_model], is short: it asks
a [`TrainState`][cgalib.engine.state.TrainState] (the run's parts, saved and loaded by itself),
[`train_step()`][cgalib.engine.step.train_step] (one optimizer step) and the policies of
[`cgalib.engine.policies`][cgalib.engine.policies] (when to checkpoint, stop and log).
"""

from __future__ import annotations

import dataclasses
import os
import random
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from cgalib.data import CocoKeypoints, find_split, training_pipeline
from cgalib.engine.distributed import (
    DistributedContext,
    agree,
    cleanup_distributed,
    init_distributed,
    rank0_value,
)
from cgalib.engine.fingerprint import DataFingerprint
from cgalib.engine.guards import (
    DIVERGENCE_GUARD,
    DivergenceError,
    DivergenceGuard,
    NonFiniteLossError,
)
from cgalib.engine.metrics_log import MetricsLog
from cgalib.engine.policies import CheckpointPolicy, LogPolicy, StopPolicy
from cgalib.engine.run_folder import claim_run_folder
from cgalib.engine.sampler import ResumableSampler, SeededDataset
from cgalib.engine.schedule import PAPER_MILESTONES, TimeBudget
from cgalib.engine.settings import TrainSettings
from cgalib.engine.state import LAST, METRICS, MODEL, TrainState
from cgalib.engine.step import train_step
from cgalib.models.contract import check_pose_model
from cgalib.registry import create_model
from cgalib.utils.keypoint_set import KeypointSet
from cgalib.utils.outputs import OutputError
from cgalib.utils.signals import Interrupted, StopRequest, die_with_parent, stop_requests

__all__ = ["DivergenceError", "NonFiniteLossError", "train", "train_model"]


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class _TargetsAsArrays:
    """A loader worker's ``collate_fn`` whose batches carry the targets' tensors as numpy arrays.

    A tensor leaves a worker through shared memory, one file descriptor and one
    authenticated socket connection per storage; a batch of 16 images has about 140 small
    target tensors, and receiving them took 50 ms per step of the CPU demo (12% of its
    time). Arrays are pickled inline; the step (`cgalib.engine.step`) turns them back into
    tensors.
    """

    def __init__(self, collate_fn: Callable) -> None:
        self.collate_fn = collate_fn

    def __call__(self, batch: Any) -> tuple[Any, list[dict]]:
        images, targets = self.collate_fn(batch)
        return images, [
            {k: v.numpy() if torch.is_tensor(v) else v for k, v in t.items()} for t in targets
        ]


def _worker_init(worker_id: int, parent_pid: int) -> None:
    """A loader worker ends with the process that started it, even after its ``kill -9``."""
    die_with_parent(parent_pid)


def _loader(
    dataset: Dataset, collate_fn: Callable, settings: TrainSettings, ctx: DistributedContext
) -> DataLoader:
    """The run's loader: a resumable data order, each sample seeded by ``(seed, epoch, index)``.

    Raises:
        ValueError: for a data set smaller than one batch (per process).
    """
    seed, workers = settings.seed, settings.num_workers
    sampler = ResumableSampler(dataset, ctx.world_size, ctx.rank, seed=seed, drop_last=True)
    loader = DataLoader(
        SeededDataset(dataset),
        batch_size=settings.batch_size,
        sampler=sampler,
        drop_last=True,
        num_workers=workers,
        collate_fn=_TargetsAsArrays(collate_fn) if workers > 0 else collate_fn,
        pin_memory=ctx.device.type == "cuda",
        persistent_workers=workers > 0,
        worker_init_fn=partial(_worker_init, parent_pid=os.getpid()) if workers > 0 else None,
        generator=torch.Generator().manual_seed(seed),  # iterators leave the global RNG alone
    )
    if len(loader) == 0:
        per = f" per process ({ctx.world_size} processes)" if ctx.is_distributed else ""
        raise ValueError(
            f"the data set has {sampler.num_samples} images{per}, fewer than one batch of "
            f"{settings.batch_size}; lower batch_size (--batch) or add images"
        )
    return loader


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
    lr_decay: str = "steps",
    lr_milestones: Sequence[float] = PAPER_MILESTONES,
    clip_grad_norm: float | None = 10.0,
    amp: str | None = None,
    channels_last: bool = False,
    ema_decay: float | None = None,
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
    data_fingerprint: DataFingerprint | None = None,
) -> Path:
    """Train a model whose train-mode ``forward(images, targets)`` returns a dict of losses.

    The run folder ``out_dir`` receives ``last.pt`` (the training state: model, optimizer,
    scheduler, scaler, the RNG states of every process, the loss guard, the step),
    ``model.pt`` (the weights, loadable by [`cgalib.load_model()`][cgalib.load_model]) and ``metrics.csv``
    (loss terms, learning rate and images/s every ``log_every`` steps). ``last.pt`` is
    written at the end of every epoch, every ``checkpoint_every`` steps and every
    ``checkpoint_seconds``; ``model.pt`` at the end of every epoch and of the run. Both are
    written atomically (an interrupted save leaves the previous file) with a content hash
    checked on load.

    **The run folder** is checked before anything is built
    ([`claim_run_folder()`][cgalib.engine.run_folder.claim_run_folder]): it must accept a file
    (a read-only or full place is one line, not an error at the first log row), and one
    run at a time writes it: a second run into it, a resume included, is refused at once
    with the process id of the run that holds it, and nothing of that run's files is
    touched. A folder that already holds a run (``last.pt`` or ``model.pt``) is refused
    unless ``resume=True``; a ``metrics.csv`` alone (a run stopped before its first
    checkpoint) is renamed ``metrics.<n>.csv`` and a new log begins. A file that cannot be
    written during the run (a full disk) stops it with one line naming the step, the file,
    the reason and the checkpoint kept (an ``OutputError``, an ``OSError``).

    **Signals.** SIGTERM (``timeout``, ``kill``, Docker, Slurm), SIGINT (Ctrl-C), SIGHUP (a
    closed terminal or ssh session) and SIGUSR1 (Slurm's warning before a time limit) ask
    the run to stop
    ([`stop_requests()`][cgalib.utils.signals.stop_requests]): the step under way finishes,
    ``last.pt`` and ``model.pt`` are written at that step, and
    [`Interrupted`][cgalib.utils.signals.Interrupted] (a ``KeyboardInterrupt``) is raised with
    one line saying what was saved and how to resume, and the exit status of the signal
    (``exit_status``, 143 for SIGTERM); the ``cgalib`` command ends with it. A second signal
    stops at once (the last checkpoint stays as it was). Under ``torchrun`` rank 0's request
    is every rank's, so every rank stops at the same step. Loader workers end with their
    process, also after a ``kill -9`` of it.

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
    run is then no longer identical to any uninterrupted one. With a ``data_fingerprint``
    (``train()`` takes it from the annotation file), a resume on other data (an edited
    annotation file with as many images) is refused too, naming what changed; a ``last.pt``
    written without one resumes after a note.

    **Time budget.** With ``time_budget`` the run is measured in time instead of epochs:
    the learning rate drops at ``lr_milestones`` of the budget (70/95 and 85/95 by default;
    [`budget_lr_factor()`][cgalib.engine.schedule.budget_lr_factor]; the warm-up stays in steps), and the
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
        lr: base learning rate (the paper: 1e-2); drops x0.1 at ``lr_milestones`` of the run.
        optimizer: ``"sgd"`` (the paper's, with ``momentum``) or ``"adamw"`` (converges
            faster in short runs such as the CPU demo).
        momentum: SGD momentum.
        weight_decay: weight decay.
        warmup_steps: linear warm-up steps (capped at a tenth of the run).
        lr_decay: ``"steps"`` (the paper's drops, above) or ``"cosine"`` (a half cosine from
            ``lr`` to 0 over the run's steps or time budget).
        lr_milestones: the fractions of the run where ``"steps"`` drops the rate x0.1
            (default the paper's 70/95 and 85/95; the CPU demo's recipe drops later, at 0.85
            and 0.95).
        clip_grad_norm: gradient-norm clipping threshold; ``None`` disables it.
        amp: ``None``, ``"bf16"`` or ``"fp16"`` autocast (fp16 uses a gradient scaler).
        channels_last: keep weights and images in the channels-last memory format (faster
            convolutions on CPUs, about 20% per step for the demo model on 2 cores, and on
            GPUs with AMP); checkpoints are unaffected.
        ema_decay: keep an exponential moving average of the weights with this decay (e.g.
            0.998, about the last 500 steps; [`WeightAverage`][cgalib.engine.WeightAverage]):
            ``model.pt`` then holds the average, ``last.pt`` both; ``None``: none.
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
        data_fingerprint: the training data's
            [`DataFingerprint`][cgalib.engine.fingerprint.DataFingerprint], kept in ``last.pt`` to
            refuse a resume on other data (``None``: not checked).

    Returns:
        The path of ``model.pt``.

    Raises:
        ValueError: for a bad argument, a data set smaller than one batch, or a resume
            with other fixed settings (one line each).
        FileExistsError: without ``resume``, if ``out_dir`` already holds a run.
        FileNotFoundError: with ``resume=True`` and no ``last.pt``.
        OutputError: (an ``OSError``) when ``out_dir`` cannot be written, another process
            writes it, or a checkpoint or log row cannot be written during the run.
        Interrupted: (a ``KeyboardInterrupt``) when a signal stopped the run, after
            ``last.pt`` and ``model.pt`` were saved (its ``exit_status`` is the signal's).
        CheckpointError: with ``resume=True`` and a ``last.pt`` that is not a training
            state or is damaged.
        NonFiniteLossError: when a loss term becomes NaN/inf (naming the step and term).
        DivergenceError: when the loss diverges (naming the steps and the kept checkpoint).
    """
    settings = TrainSettings(
        epochs=epochs, batch_size=batch_size, lr=lr, optimizer=optimizer, momentum=momentum,
        weight_decay=weight_decay, warmup_steps=warmup_steps, lr_decay=lr_decay,
        lr_milestones=lr_milestones, clip_grad_norm=clip_grad_norm,
        amp=amp, channels_last=channels_last, ema_decay=ema_decay, num_workers=num_workers,
        seed=seed,
        time_limit=time_limit, log_every=log_every, checkpoint_every=checkpoint_every,
        checkpoint_seconds=checkpoint_seconds, time_budget=time_budget,
    )  # fmt: skip
    ctx = context or init_distributed()
    with claim_run_folder(out_dir, resume, ctx) as out:
        _seed_everything(seed + ctx.rank)
        loader = _loader(dataset, collate_fn, settings, ctx)
        state = TrainState(
            model, settings, out, ctx, steps_per_epoch=len(loader), dataset_size=len(dataset),
            augment=augment, divergence_guard=divergence_guard, data_fingerprint=data_fingerprint,
        )  # fmt: skip
        metrics = MetricsLog(out / METRICS)
        if resume:
            state.resume(metrics)
        stop = StopPolicy(epochs, len(loader), time_limit, settings.budget)
        checkpoints = CheckpointPolicy(checkpoint_every, checkpoint_seconds)
        checkpoints.start(started := time.perf_counter())
        stop.start(started)
        signum = None
        if stop.complete(state.step):
            _report_complete(state, stop)
        else:
            log = LogPolicy(metrics, log_every, epochs, enabled=ctx.is_main)
            with stop_requests() as request:
                try:
                    signum = _run_epochs(state, loader, stop, checkpoints, log, request)
                except Interrupted as err:  # a second signal: at once, mid-step
                    raise Interrupted(err.signum, f"{err}; {state.kept}") from None
        if ctx.is_distributed:  # leave together: rank 0 may still be writing the checkpoint
            torch.distributed.barrier()
        if signum is not None:
            raise Interrupted(signum, _stopped(state, signum))
    return out / MODEL


def _stopped(state: TrainState, signum: int) -> str:
    """The line of a run stopped by a signal: what was saved, and how to continue."""
    return (
        f"stopped by {signal.Signals(signum).name} after step {state.step}: "
        f"{state.folder / LAST} and {MODEL} saved; resume=True (--resume) continues the run"
    )


def _report_complete(state: TrainState, stop: StopPolicy) -> None:
    """A resumed run with nothing left to train says so (and writes a missing ``model.pt``)."""
    if state.context.is_main:
        of = f" of {stop.total_steps}" if stop.finished(state.step) else ", its time budget spent"
        print(f"{state.folder} is already complete (step {state.step}{of}); nothing to train")
        if not (state.folder / MODEL).is_file():
            state.write_model()


def _run_epochs(
    state: TrainState,
    loader: DataLoader,
    stop: StopPolicy,
    checkpoints: CheckpointPolicy,
    log: LogPolicy,
    request: StopRequest,
) -> int | None:
    """Train from the state's step (also mid-epoch) until the stop policy ends the run, or a
    stop ``request`` (a signal) does: then the signal's number, after the checkpoint."""
    ctx, per_epoch, budget = state.context, state.steps_per_epoch, state.settings.budget
    if budget is not None:
        budget.start()  # only training time counts
    first_epoch, offset = divmod(state.step, per_epoch)
    for epoch in range(first_epoch, stop.last_epoch):
        start = offset if epoch == first_epoch else 0
        loader.sampler.set_epoch(epoch, start * loader.batch_size)
        now = time.perf_counter()
        log.begin_epoch(epoch, per_epoch - start, now)
        stop.begin_epoch(now)
        out_of_time, signum = False, None
        try:
            for images, targets in loader:
                out_of_time, signum = _step(state, images, targets, stop, checkpoints, log, request)
                if out_of_time or signum is not None:
                    break
        finally:
            log.end_epoch()  # the bar closes also when an error or a second signal ends the run
        if signum is not None:
            return signum
        if out_of_time:
            if ctx.is_main:
                print(f"{stop.reason()} after step {state.step}; checkpoint saved")
            break
    return None


def _step(
    state: TrainState,
    images: torch.Tensor,
    targets: Sequence[dict],
    stop: StopPolicy,
    checkpoints: CheckpointPolicy,
    log: LogPolicy,
    request: StopRequest,
) -> tuple[bool, int | None]:
    """One step, its decisions, its log row and its checkpoint: whether the run is out of
    time, and the signal that stops it (``None``: none)."""
    ctx, budget = state.context, state.settings.budget
    state.see_batch(images)
    row = train_step(state, images, targets)
    now = time.perf_counter()
    stop.step_done(now)
    spent = rank0_value(ctx, budget.spent()) if budget is not None else None
    state.advance(spent)
    loss = sum(row.values())
    out_of_time, time_due, diverged, suspicious, signalled = _decide(
        state, stop, checkpoints, loss, now, spent, request
    )
    signum = None
    if signalled and not stop.finished(state.step):  # a signal at the last step: just end
        signum = int(rank0_value(ctx, float(request.signum or 0)))
    end_of_epoch = state.step % state.steps_per_epoch == 0
    lr = state.optimizer.param_groups[0]["lr"]
    stopping = out_of_time or signum is not None
    try:
        log.after_step(state.step, lr, row, images.shape[0] * ctx.world_size, now, end_of_epoch,
                       stopping=stopping)  # fmt: skip
    except OSError as err:  # a full disk: one line, with the checkpoint kept
        raise OutputError(state.cannot_write(log.metrics.path, err)) from err
    if diverged:
        raise DivergenceError(_diverged(state, loss))
    forced = stop.finished(state.step) or stopping
    if checkpoints.due(
        state.step, end_of_epoch=end_of_epoch, time_due=time_due, suspicious=suspicious,
        forced=forced,
    ):  # fmt: skip
        checkpoints.save(state, checkpoints.writes_model(end_of_epoch=end_of_epoch, forced=forced))
        if suspicious and ctx.is_main:
            print(_written_while_suspicious(state, loss))
    return out_of_time, signum


def _decide(
    state: TrainState,
    stop: StopPolicy,
    checkpoints: CheckpointPolicy,
    loss: float,
    now: float,
    spent: float | None,
    request: StopRequest,
) -> list[bool]:
    """Out of time, a checkpoint due by time, diverged, suspicious, a stop signal: rank 0's
    verdicts after a step (its clock, its loss guard, its signals), the same on every
    rank."""
    ctx, monitor = state.context, state.monitor
    diverged = monitor.update(loss) if monitor is not None and ctx.is_main else False
    suspicious = monitor is not None and ctx.is_main and monitor.streak > 0
    out_of_time = stop.out_of_time(now, spent, checkpoints.save_seconds)
    flags = [out_of_time, checkpoints.time_due(now), diverged, suspicious, request.requested]
    return agree(ctx, flags)


def _diverged(state: TrainState, loss: float) -> str:
    guard, monitor, step = state.guard, state.monitor, state.step
    return (
        f"training diverged at step {step}: the loss ({loss:.3g}) stayed above "
        f"{guard.factor:g}x its running median ({monitor.median:.3g}) for "
        f"{guard.patience} steps since step {step - guard.patience + 1}; {state.kept}; "
        f"lower the learning rate (--lr) and {state.again}"
    )


def _written_while_suspicious(state: TrainState, loss: float) -> str:
    return (
        f"warning: checkpoint at step {state.step} written while the loss ({loss:.3g}) is "
        f"above {state.guard.factor:g}x its running median for the last "
        f"{state.monitor.streak} steps"
    )


def _check_model_keypoints(
    net: nn.Module, name: str, keypoints: KeypointSet, ann_file: Path
) -> None:
    """Refuse a model built for other keypoints than the data's (``model_kwargs`` that set
    ``keypoint_set``)."""
    if "keypoints" not in net.outputs:  # a segmentation-only model predicts no keypoints
        return
    if net.keypoint_set.names != keypoints.names:
        raise ValueError(
            f"{name} is built for {net.keypoint_set.describe()} but {ann_file} has "
            f"{keypoints.describe()}; leave keypoint_set out of the model arguments (the data "
            "set's is used)"
        )


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

    The model's contract picks the data pipeline
    ([`training_pipeline()`][cgalib.data.training_pipeline]): a model that finds people in whole
    images (``needs_boxes`` false, [`CGANet`][cgalib.CGANet]) trains on letterboxed whole images
    ([`CocoKeypoints`][cgalib.data.CocoKeypoints] at ``input_rule.side``,
    [`PoseAugmentation`][cgalib.data.PoseAugmentation]); a top-down model (``needs_boxes`` true,
    [`TopDownPose`][cgalib.TopDownPose]) on person crops ([`PersonCrops`][cgalib.data.PersonCrops],
    [`TopDownAugmentation`][cgalib.data.TopDownAugmentation] with the model's crop size); both flip
    with the model's keypoint set.

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
    names = {f.name for f in dataclasses.fields(TrainSettings)}
    TrainSettings(**{k: v for k, v in train_kwargs.items() if k in names})  # checked first
    given = (model_kwargs or {}).get("input_size", input_size)
    if input_size is not None and given != input_size:
        raise ValueError(
            f"input_size={input_size} disagrees with model_kwargs' input_size={given}; "
            "give the training size once"
        )
    ctx = init_distributed(device)
    try:
        with claim_run_folder(out, train_kwargs.get("resume", False), ctx):  # before the data
            images_dir, ann_file = find_split(data, "train", images_train, ann_train)
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
            size = {} if input_size is None else {"input_size": input_size}
            own_set = {} if keypoints == KeypointSet.coco() else {"keypoint_set": keypoints}
            torch.manual_seed(train_kwargs.get("seed", 0))  # the same seed, the same weights
            net = create_model(model, **{**size, **own_set, **(model_kwargs or {})})
            check_pose_model(net, "train")
            _check_model_keypoints(net, model, keypoints, ann_file)
            if "masks" in net.outputs:  # a segmentation model: people with masks
                people = read(with_masks=True)
            if ctx.is_main:
                print(people.report)
            warning = people.report.check_for_training()  # no labelled person: stop here
            if warning and ctx.is_main:
                print(f"warning: {warning}", file=sys.stderr)
            pipeline = training_pipeline(net, people, augment, augment_kwargs, ctx.device)
            return train_model(
                net,
                pipeline.dataset,
                pipeline.collate_fn,
                out,
                augment=pipeline.augment,
                context=ctx,
                data_fingerprint=DataFingerprint.of_coco(people.coco.dataset, people.category_ids),
                **train_kwargs,
            )
    finally:
        cleanup_distributed()
