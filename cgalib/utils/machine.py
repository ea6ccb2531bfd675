"""What machine a measurement ran on, in one line, for the numbers the docs quote."""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

import torch

__all__ = ["cpu_bf16", "cpu_cores", "cpu_name", "data_workers", "machine_description"]


def cpu_name() -> str:
    """The CPU's model name (from ``/proc/cpuinfo`` on Linux, else ``platform``)."""
    info = Path("/proc/cpuinfo")
    if info.is_file():
        names = re.findall(r"model name\s*:\s*(.+)", info.read_text())
        if names:
            return names[0].strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def cpu_bf16() -> str | None:
    """The CPU's native bf16 instructions, as oneDNN uses them: ``"AMX"`` (recent Xeons),
    ``"AVX-512 bf16"`` (e.g. AMD EPYC Zen 4), or ``None`` (bf16 is then emulated and slower
    than fp32: bf16 autocast does not pay).

    Example:
        >>> cpu_bf16() in ("AMX", "AVX-512 bf16", None)
        True
    """
    cpu = getattr(torch, "cpu", None)
    if getattr(cpu, "_is_amx_tile_supported", lambda: False)():
        return "AMX"
    if getattr(cpu, "_is_avx512_bf16_supported", lambda: False)():
        return "AVX-512 bf16"
    return None


def machine_description() -> str:
    """The CPU (with its native bf16 instructions, which decide the bf16 figures), torch's
    thread count and the torch and Python versions, e.g.
    ``"Intel(R) Xeon(R) Processor (AMX), 2 threads, torch 2.13.0+cpu, Python 3.11.9"``.

    Example:
        >>> "threads, torch" in machine_description()
        True
    """
    bf16 = cpu_bf16()
    features = f" ({bf16})" if bf16 else " (no native bf16)"
    return (
        f"{cpu_name()}{features}, {torch.get_num_threads()} threads, torch {torch.__version__}, "
        f"Python {platform.python_version()}"
    )


def cpu_cores() -> int:
    """The CPU cores this process may run on (its affinity, where the system has one).

    Example:
        >>> cpu_cores() >= 1
        True
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def data_workers(cores: int | None = None, most: int = 4) -> int:
    """Data-loading worker processes this machine affords: one core is left to the
    training process, and more than ``most`` rarely helps.

    Args:
        cores: the cores to plan for; default [`cpu_cores()`][cpu_cores].
        most: the upper bound.

    Returns:
        ``min(most, cores - 1)``, at least 0 (0 loads in the training process itself).

    Example:
        >>> data_workers(cores=2), data_workers(cores=1), data_workers(cores=16)
        (1, 0, 4)
    """
    cores = cpu_cores() if cores is None else cores
    return max(0, min(most, cores - 1))
