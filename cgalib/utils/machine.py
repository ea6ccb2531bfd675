"""What machine a measurement ran on, in one line, for the numbers the docs quote."""

from __future__ import annotations

import platform
import re
from pathlib import Path

import torch

__all__ = ["cpu_name", "machine_description"]


def cpu_name() -> str:
    """The CPU's model name (from ``/proc/cpuinfo`` on Linux, else ``platform``)."""
    info = Path("/proc/cpuinfo")
    if info.is_file():
        names = re.findall(r"model name\s*:\s*(.+)", info.read_text())
        if names:
            return names[0].strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def machine_description() -> str:
    """The CPU, torch's thread count and the torch and Python versions, e.g.
    ``"Intel(R) Xeon(R) Processor, 2 threads, torch 2.13.0+cpu, Python 3.11.9"``.

    Example:
        >>> "threads, torch" in machine_description()
        True
    """
    return (
        f"{cpu_name()}, {torch.get_num_threads()} threads, torch {torch.__version__}, "
        f"Python {platform.python_version()}"
    )
