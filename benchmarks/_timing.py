"""Timing helpers shared by the speed benchmarks (``speed.py``, ``peers.py``).

Everything is synchronised on CUDA, warm-up calls are excluded and the median of the
timed calls is reported.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

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


def cganet_time_split(
    model: torch.nn.Module, images: torch.Tensor, device: torch.device, warmup: int, iters: int
) -> dict[str, float]:
    """Median seconds of a CGANet's eval forward and of its parts.

    Call under ``torch.inference_mode()`` and the autocast of the precision measured.

    Returns:
        ``total`` (``model(images)``: network, AA, decode, DEA, ROI head, keypoint
        decode), ``dense`` (backbone and dense heads only) and ``post`` (the
        post-processing alone: sigmoid, AA, top-k decode, DEA and the keypoint decode,
        on precomputed network outputs), with the shares ``post_share = post / total``
        and ``post_dense_share = 1 - dense / total`` (everything after the dense heads,
        the ROI head included).
    """
    total = time_call(model, images, device, warmup, iters)
    dense = time_call(model.forward_dense, images, device, warmup, iters)
    features, outputs = model.forward_dense(images)
    rois = model.postprocess.detect(outputs)["extended_boxes"]
    logits = model.keypoint_head(features, list(rois.unbind(0)))

    def post(outs: dict) -> torch.Tensor:
        boxes = model.postprocess.detect(outs)["extended_boxes"]
        return model.postprocess.decode_keypoints(logits, boxes)

    post_time = time_call(post, outputs, device, warmup, iters)
    return {
        "total": total,
        "dense": dense,
        "post": post_time,
        "post_share": min(1.0, post_time / total),
        "post_dense_share": max(0.0, 1 - dense / total),
    }
