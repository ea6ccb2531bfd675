"""Timing helpers shared by the speed benchmarks (``speed.py``, ``peers.py``).

Everything is synchronised on CUDA, warm-up calls are excluded and the median of the
timed calls is reported. Where a CGANet's time goes is read from the stages its
``predict_batch`` labels (:func:`cgalib.utils.stage_seconds`), not replayed from outside.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

from cgalib.utils import stage_seconds
from cgalib.utils.machine import cpu_name
from cgalib.utils.precision import PRECISIONS, autocast

__all__ = [
    "PRECISIONS",
    "autocast",
    "cganet_time_split",
    "cpu_model",
    "device_name",
    "sync",
    "time_call",
]


def sync(device: torch.device) -> None:
    """Wait for the device's queued work (a no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_call(
    fn: Callable[[Any], Any], arg: Any, device: torch.device, warmup: int, iters: int
) -> float:
    """Median seconds of ``fn(arg)`` over ``iters`` synchronised calls after ``warmup``."""
    for _ in range(warmup):
        fn(arg)
    sync(device)
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        fn(arg)
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cpu_model() -> str:
    """The CPU's model name (`cgalib.utils.cpu_name`) and its
    logical core count."""
    return f"{cpu_name()}, {os.cpu_count()} cores"


def device_name(device: torch.device) -> str:
    """The GPU's name, or the CPU (model, cores) and torch's thread count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{cpu_model()}, {torch.get_num_threads()} threads"


POST_STAGES = ("detect", "decode_keypoints")
"""The stages of CGANet's ``predict_batch`` that make up its post-processing."""


def _stage_split(model: torch.nn.Module, images: torch.Tensor, device: torch.device) -> dict:
    """Seconds of the ``dense`` stage and of the post-processing stages in one profiled
    call. On CUDA a stage takes at least its launching on the host and its kernels on the
    GPU; the larger of the two is its time."""
    clocks = ("host", "device") if device.type == "cuda" else ("host",)
    times = [stage_seconds(model.predict_batch, images, clock=clock) for clock in clocks]

    def seconds(names: tuple[str, ...]) -> float:
        return max(sum(t.stages.get(name, 0.0) for name in names) for t in times)

    return {"dense": seconds(("dense",)), "post": seconds(POST_STAGES)}


def cganet_time_split(
    model: torch.nn.Module, images: torch.Tensor, device: torch.device, warmup: int, iters: int
) -> dict[str, float]:
    """Median seconds of a CGANet's eval forward and of its parts.

    Call under ``torch.inference_mode()`` and the autocast of the precision measured. The
    total is timed without a profiler; the parts are the stages ``predict_batch`` labels
    (:func:`cgalib.utils.stage_seconds`, one profiled call per iteration after one that
    warms the profiler up), so they are those of the very call timed, flip test and mask
    head included when the model has them.

    Returns:
        ``total`` (``model(images)``: network, AA, decode, DEA, ROI head, keypoint
        decode), ``dense`` (the ``dense`` stage: preprocessing, backbone and dense heads)
        and ``post`` (the post-processing: the ``detect`` stage (sigmoid, AA, top-k
        decode, DEA) and the ``decode_keypoints`` stage), with the shares
        ``post_share = post / total`` and ``post_dense_share = 1 - dense / total``
        (everything after the dense heads, the ROI head included).
    """
    total = time_call(model, images, device, warmup, iters)  # warms the model up too
    _stage_split(model, images, device)  # the first profiled call sets the profiler up
    splits = [_stage_split(model, images, device) for _ in range(iters)]
    dense = statistics.median(s["dense"] for s in splits)
    post = statistics.median(s["post"] for s in splits)
    return {
        "total": total,
        "dense": dense,
        "post": post,
        "post_share": min(1.0, post / total),
        "post_dense_share": max(0.0, 1 - dense / total),
    }
