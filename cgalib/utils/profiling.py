"""Where the time of one call goes: stages labelled in the library, timed by ``torch.profiler``.

A model labels the stages of its inference with [`stage()`][stage] (CGANet's
``predict_batch``: ``dense``, ``flip``, ``detect``, ``keypoint_head``,
``decode_keypoints``, ``mask_head``); [`stage_seconds()`][stage_seconds] runs one call under
``torch.profiler`` and returns the seconds of each stage. The labels are
``torch.profiler.record_function`` ranges named ``cgalib.<stage>``, so they also show in
any profiler trace (TensorBoard, Perfetto). Outside a profiler they cost nothing: no
range is opened, no host synchronisation added, and a traced or compiled graph
(``torch.jit.trace``, ONNX export, ``torch.compile``) holds no trace of them.

Example:
    >>> def square_then_sum(x):
    ...     with stage("square"):
    ...         y = x @ x
    ...     with stage("sum"):
    ...         return y.sum()
    >>> times = stage_seconds(square_then_sum, torch.rand(64, 64))
    >>> list(times.stages), times.total >= sum(times.stages.values())
    (['square', 'sum'], True)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch.autograd import DeviceType
from torch.profiler import ProfilerActivity, profile, record_function

__all__ = ["STAGE_PREFIX", "StageTimes", "stage", "stage_seconds"]

STAGE_PREFIX = "cgalib."
"""The prefix of every stage label in a profiler trace (``cgalib.dense``, ...)."""

_CALL = "stage_seconds.call"
"""The range [`stage_seconds()`][stage_seconds] opens around the call (not a stage)."""

Clock = Literal["host", "device"]


def stage(name: str) -> contextlib.AbstractContextManager:
    """Label the work inside the ``with`` block as the stage ``name`` of a profile.

    While a ``torch.profiler`` session records, this is
    ``torch.profiler.record_function("cgalib." + name)``; otherwise (and while
    ``torch.jit.trace`` or ``torch.compile`` traces the code) it does nothing.

    Args:
        name: the stage, e.g. ``"detect"``.

    Returns:
        A context manager.

    Example:
        >>> with stage("detect"):  # no profiler: nothing is recorded
        ...     pass
    """
    if (
        torch.compiler.is_compiling()
        or torch.jit.is_tracing()
        or not torch.autograd._profiler_enabled()
    ):
        return contextlib.nullcontext()
    return record_function(STAGE_PREFIX + name)


@dataclass(frozen=True)
class StageTimes:
    """The seconds of one call and of its labelled stages.

    Attributes:
        total: the seconds of the whole call.
        stages: the seconds of each stage, in the order the stages first ran; a stage run
            several times in the call is summed, and a stage labelled inside another is
            counted in its own entry only (the stages never overlap, so their sum is at
            most ``total``).
        clock: ``"host"``: time on the calling CPU thread (on the CPU, the work itself;
            with CUDA, the launching of it). ``"device"``: the time the GPU spent in the
            kernels each stage launched.
    """

    total: float
    stages: dict[str, float]
    clock: Clock

    @property
    def unlabelled(self) -> float:
        """The seconds of the call outside every stage (``total`` minus the stages)."""
        return max(0.0, self.total - sum(self.stages.values()))


def stage_seconds(
    fn: Callable[..., Any], *args: Any, clock: Clock = "host", **kwargs: Any
) -> StageTimes:
    """Run ``fn(*args, **kwargs)`` once under ``torch.profiler``; the seconds of its stages.

    The call should be warm (run it a few times before): a first call's one-off costs
    (memory allocation, kernel selection, lazy compilation) land in its stages. The
    profiler adds a little time to every operator it records, so a stage of many small
    operators reads slightly longer than it runs unprofiled; time the whole call without
    the profiler for the total to report.

    Args:
        fn: the call to profile, e.g. a model's ``predict_batch``.
        *args: its positional arguments.
        clock: ``"host"`` (the calling thread's time; the CPU's work) or ``"device"``
            (the kernels' time on the GPU; needs CUDA). The call is synchronised before
            the profile ends, so every kernel it launched is counted.
        **kwargs: its keyword arguments.

    Returns:
        The [`StageTimes`][StageTimes] of the call; stages are the [`stage()`][stage] labels
        without their prefix.

    Raises:
        ValueError: for a ``clock`` other than ``"host"``/``"device"``, or ``"device"``
            without CUDA.

    Example:
        >>> from cgalib.registry import create_model
        >>> model = create_model("cganet_tnet_d1w16", input_size=64).eval()
        >>> with torch.inference_mode():
        ...     times = stage_seconds(model.predict_batch, torch.rand(1, 3, 64, 64))
        >>> list(times.stages)
        ['dense', 'detect', 'keypoint_head', 'decode_keypoints']
    """
    if clock not in ("host", "device"):
        raise ValueError(f"clock must be 'host' or 'device', got {clock!r}")
    activities = [ProfilerActivity.CPU]
    if clock == "device":
        if not torch.cuda.is_available():
            raise ValueError("clock='device' times CUDA kernels; this machine has no CUDA device")
        activities.append(ProfilerActivity.CUDA)
        torch.cuda.synchronize()
    with profile(activities=activities) as prof:
        with record_function(_CALL):
            fn(*args, **kwargs)
            if clock == "device":
                torch.cuda.synchronize()
    total, stages = _attribute(prof.events(), clock)
    return StageTimes(total=total, stages=stages, clock=clock)


def _is_range(event: Any) -> bool:
    return event.name == _CALL or event.name.startswith(STAGE_PREFIX)


def _owner(event: Any) -> Any | None:
    """The innermost range (a stage, or the call) that holds ``event``, itself included;
    ``None`` for an event outside the call."""
    while event is not None and not _is_range(event):
        event = event.cpu_parent
    return event


def _inside_call(event: Any) -> bool:
    while event is not None:
        if event.name == _CALL:
            return True
        event = event.cpu_parent
    return False


def _attribute(events: Any, clock: Clock) -> tuple[float, dict[str, float]]:
    """``(total, stages)`` in seconds from the profiler's events: each stage's own time
    (host: its range less the stages inside it; device: the kernels launched by the
    operators it holds directly)."""
    cpu = [
        e for e in events if e.device_type == DeviceType.CPU and not e.is_async and _inside_call(e)
    ]
    own: dict[int, float] = {}  # range event id -> its own microseconds
    for event in sorted(cpu, key=lambda e: e.time_range.start):
        if clock == "host":
            if _is_range(event):
                own[event.id] = own.get(event.id, 0.0) + event.cpu_time_total
                parent = _owner(event.cpu_parent)
                if parent is not None:
                    own[parent.id] = own.get(parent.id, 0.0) - event.cpu_time_total
        else:
            kernels = sum(
                k.duration
                for k in event.kernels
                if k.name != _CALL and not k.name.startswith(STAGE_PREFIX)
            )
            holder = _owner(event)
            if kernels and holder is not None:
                own[holder.id] = own.get(holder.id, 0.0) + kernels
    ranges = sorted((e for e in cpu if _is_range(e)), key=lambda e: e.time_range.start)
    stages: dict[str, float] = {}
    total = 0.0
    for event in ranges:
        if event.name == _CALL:
            if clock == "host":
                total = event.cpu_time_total / 1e6
            continue
        name = event.name.removeprefix(STAGE_PREFIX)
        stages[name] = stages.get(name, 0.0) + max(0.0, own.get(event.id, 0.0)) / 1e6
    if clock == "device":
        total = sum(own.values()) / 1e6
    return total, stages
