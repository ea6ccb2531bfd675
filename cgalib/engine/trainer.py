"""Training loop: SGD per the paper, AMP, atomic checkpoints, exact resume, torchrun DDP.

The entry point is :func:`train`; the ``cgalib train`` command turns its arguments into
keyword arguments of this function.
"""

from __future__ import annotations

import csv
import math
import os
import random
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset
from torch.utils.data.distributed import DistributedSampler

from cgalib.engine.distributed import DistributedContext, cleanup_distributed, init_distributed
from cgalib.engine.schedule import paper_lr_scheduler
from cgalib.models.checkpoint import atomic_save, save_model
from cgalib.registry import create_model
from cgalib.utils.image import to_float_image
from cgalib.utils.precision import autocast as precision_autocast
from cgalib.utils.progress import ProgressBar

__all__ = ["NonFiniteLossError", "train", "train_model"]

LAST = "last.pt"
MODEL = "model.pt"
METRICS = "metrics.csv"


class NonFiniteLossError(FloatingPointError):
    """A loss term became NaN or infinite; the message names the step and the term."""


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _rng_state() -> dict:
    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _to_device(targets: Sequence[dict], device: torch.device) -> list[dict]:
    return [
        {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in t.items()}
        for t in targets
    ]


def _check_finite(losses: dict[str, torch.Tensor], step: int) -> None:
    values = torch.stack([v.detach().float() for v in losses.values()])
    if not torch.isfinite(values).all():
        bad = {k: float(v) for k, v in zip(losses, values.tolist()) if not math.isfinite(v)}
        raise NonFiniteLossError(
            f"non-finite loss at step {step}: {', '.join(f'{k}={v}' for k, v in bad.items())}; "
            "lower the learning rate, enable gradient clipping or check the data of this batch"
        )


def train_model(
    model: nn.Module,
    dataset: Dataset,
    collate_fn: Callable,
    out_dir: str | os.PathLike,
    epochs: int,
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
) -> Path:
    """Train a model whose train-mode ``forward(images, targets)`` returns a dict of losses.

    Every epoch ends with an atomic checkpoint ``out_dir/last.pt`` (model, optimizer,
    scheduler, scaler, RNG states, step) and the weights ``out_dir/model.pt`` (loadable by
    :func:`cgalib.load_model`). With ``resume=True`` training continues from ``last.pt`` at
    the same step with the same state. Loss terms, learning rate and images/s are appended
    to ``out_dir/metrics.csv``.

    Args:
        model: the model (its ``build_config`` is kept in the checkpoints).
        dataset: yields ``(image, target)`` pairs that ``collate_fn`` batches into an image
            tensor `(B, 3, S, S)` and a list of target dicts.
        collate_fn: the batching function.
        out_dir: the run folder.
        epochs: passes over the data.
        batch_size: images per step (per process under ``torchrun``).
        augment: a module applied on the device to ``(images, targets)``, returning
            float images in 0..1 and targets (e.g. :class:`cgalib.data.PoseAugmentation`).
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
        resume: continue from ``out_dir/last.pt``.
        num_workers: data-loading worker processes.
        seed: seeds data order, augmentation and initialisation-independent randomness.
        time_limit: stop (after checkpointing) once this many seconds have passed.
        log_every: steps between ``metrics.csv`` rows.
        context: the distributed context (default: from the environment).

    Returns:
        The path of ``model.pt``.

    Raises:
        NonFiniteLossError: when a loss term becomes NaN/inf (naming the step and term).
        FileNotFoundError: with ``resume=True`` and no ``last.pt``.
    """
    ctx = context or init_distributed()
    device = ctx.device
    out = Path(out_dir)
    if ctx.is_main:
        out.mkdir(parents=True, exist_ok=True)
    _seed_everything(seed + ctx.rank)
    sampler = DistributedSampler(
        dataset, ctx.world_size, ctx.rank, shuffle=True, seed=seed, drop_last=True
    )
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        drop_last=True,
        num_workers=num_workers,
        collate_fn=collate_fn,
        pin_memory=device.type == "cuda",
        persistent_workers=num_workers > 0,
    )
    steps_per_epoch = len(loader)
    if steps_per_epoch == 0:
        raise ValueError(f"{len(dataset)} images cannot fill one batch of {batch_size}")
    total_steps = epochs * steps_per_epoch
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(device, memory_format=memory_format).train()
    build_config = getattr(model, "build_config", None)
    net: nn.Module = DistributedDataParallel(model) if ctx.is_distributed else model
    params = [p for p in model.parameters() if p.requires_grad]
    if optimizer == "sgd":
        optim = torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    elif optimizer == "adamw":
        optim = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    else:
        raise ValueError(f"optimizer must be 'sgd' or 'adamw', got {optimizer!r}")
    scheduler = paper_lr_scheduler(optim, total_steps, min(warmup_steps, total_steps // 10))
    if amp not in (None, "bf16", "fp16"):
        raise ValueError(f"amp must be None, 'bf16' or 'fp16', got {amp!r}")
    scaler = torch.amp.GradScaler(device.type, enabled=amp == "fp16")

    start_epoch, step = 0, 0
    if resume:
        ckpt_path = out / LAST
        if not ckpt_path.is_file():
            raise FileNotFoundError(f"--resume: no checkpoint {ckpt_path}")
        state = torch.load(ckpt_path, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optim.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        scaler.load_state_dict(state["scaler"])
        start_epoch, step = state["epoch"], state["step"]
        _set_rng_state(state["rng"])

    started = time.perf_counter()
    metrics_file = out / METRICS
    for epoch in range(start_epoch, epochs):
        sampler.set_epoch(epoch)
        bar = ProgressBar(
            steps_per_epoch, f"epoch {epoch + 1}/{epochs}", unit="step", enabled=ctx.is_main
        )
        tick, seen = time.perf_counter(), 0
        for images, targets in loader:
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
            _check_finite(losses, step)
            loss = sum(losses.values())
            optim.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            if clip_grad_norm:
                scaler.unscale_(optim)
                torch.nn.utils.clip_grad_norm_(params, clip_grad_norm)
            scaler.step(optim)
            scaler.update()
            scheduler.step()
            step += 1
            seen += images.shape[0] * ctx.world_size
            out_of_time = _out_of_time(started, time_limit, ctx, device)
            if ctx.is_main:
                row = {k: float(v.detach()) for k, v in losses.items()}
                total = sum(row.values())
                rate = seen / max(time.perf_counter() - tick, 1e-9)
                bar.update(
                    1,
                    loss=total,
                    lr=optim.param_groups[0]["lr"],
                    **{"img/s": round(rate, 1)},
                )
                last_of_epoch = step % steps_per_epoch == 0
                if step % log_every == 0 or last_of_epoch or out_of_time:
                    _append_metrics(
                        metrics_file,
                        {
                            "epoch": epoch + 1,
                            "step": step,
                            "lr": optim.param_groups[0]["lr"],
                            "loss": total,
                            **row,
                            "images_per_s": rate,
                        },
                    )
            if out_of_time:
                break
        bar.close()
        if ctx.is_main:
            state = {
                "model": model.state_dict(),
                "optimizer": optim.state_dict(),
                "scheduler": scheduler.state_dict(),
                "scaler": scaler.state_dict(),
                "epoch": epoch + 1,
                "step": step,
                "rng": _rng_state(),
                "build_config": build_config,
            }
            atomic_save(state, out / LAST)
            save_model(model, out / MODEL, epoch=epoch + 1, step=step)
        if out_of_time:
            if ctx.is_main:
                print(
                    f"time limit of {time_limit:.0f}s reached after step {step}; checkpoint saved"
                )
            break
    if ctx.is_distributed:  # leave together: rank 0 may still be writing the checkpoint
        torch.distributed.barrier()
    return out / MODEL


def _out_of_time(
    started: float, time_limit: float | None, ctx: DistributedContext, device: torch.device
) -> bool:
    """Whether the time budget is spent; under torchrun all ranks agree (rank 0's clock)."""
    if time_limit is None:
        return False
    flag = torch.tensor(float(time.perf_counter() - started > time_limit), device=device)
    if ctx.is_distributed:
        torch.distributed.broadcast(flag, src=0)
    return bool(flag)


def _append_metrics(path: Path, row: dict) -> None:
    new = not path.exists()
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


def train(
    model: str,
    data: str | os.PathLike,
    out: str | os.PathLike,
    model_kwargs: dict | None = None,
    ann_train: str | os.PathLike | None = None,
    images_train: str | os.PathLike | None = None,
    input_size: int = 512,
    device: str | None = None,
    augment: bool = True,
    augment_kwargs: Mapping[str, Any] | None = None,
    **train_kwargs: Any,
) -> Path:
    """Train a registered model on a COCO-format keypoint data set (``cgalib train``).

    Before the model is built the annotation file is checked
    (:class:`~cgalib.data.CocoKeypoints`) and its report printed: images, people kept and
    dropped by reason. A set where no kept person has a labelled keypoint stops here; when
    more than 20% of the people are dropped a one-line warning goes to stderr.

    Args:
        model: a registered model name (e.g. ``"cganet_tnet_d1w64"``); its builder receives
            ``input_size`` (the CGANet builders size the ROI crops from it).
        data: the data root with ``train/`` images and ``annotations/person_keypoints_train.json``
            (the synthetic set's and COCO's layout, COCO's ``train2017/`` is found too).
        out: the run folder.
        model_kwargs: builder overrides.
        ann_train: the annotation file, if not in the default place.
        images_train: the image folder, if not in the default place.
        input_size: square training input (the paper: 512).
        device: ``"cuda"``/``"cpu"``; default CUDA when available (the local rank under
            ``torchrun``).
        augment: apply the paper's GPU augmentation.
        augment_kwargs: overrides of :class:`~cgalib.data.PoseAugmentation`'s paper defaults
            (``scale``, ``rotation``, ``translation``, ``flip_prob``).
        **train_kwargs: passed to :func:`train_model` (epochs, batch_size, lr, amp, resume...).

    Returns:
        The path of the trained ``model.pt``.

    Raises:
        FileNotFoundError: for a missing data root, annotation file or image.
        AnnotationError: (a ``ValueError``) for a malformed annotation file, naming the
            annotation id, or one with nothing to train on.
    """
    from cgalib.data import CocoKeypoints, PoseAugmentation, collate_letterboxed, find_split

    ctx = init_distributed(device)
    try:
        images_dir, ann_file = find_split(data, "train", images_train, ann_train)
        dataset = CocoKeypoints(images_dir, ann_file, input_size=input_size)
        if ctx.is_main:
            print(dataset.report)
        warning = dataset.report.check_for_training()  # no labelled person: stop here
        if warning and ctx.is_main:
            print(f"warning: {warning}", file=sys.stderr)
        torch.manual_seed(train_kwargs.get("seed", 0))  # the same seed, the same initial weights
        net = create_model(model, **{"input_size": input_size, **(model_kwargs or {})})
        aug = (
            PoseAugmentation(output_size=input_size, **(augment_kwargs or {})).to(ctx.device)
            if augment
            else None
        )
        return train_model(
            net, dataset, collate_letterboxed, out, augment=aug, context=ctx, **train_kwargs
        )
    finally:
        cleanup_distributed()
