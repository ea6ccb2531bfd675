"""The peak resident memory of this process, for the CPU rows of the training benchmark.

torch keeps no allocator statistics on the CPU, so the benchmark reads the kernel's
high-water mark of the resident set. On Linux that is ``VmHWM`` in ``/proc/self/status``,
first reset to the current resident set by writing ``5`` to ``/proc/self/clear_refs``, so
the increase is the peak of what the measured code touched. ``getrusage``'s ``ru_maxrss``
is only the fallback where there is no ``/proc``: Linux carries it across ``fork`` and
``exec``, so a child started by a large parent would report the parent's peak instead of
its own (psutil reads the same two numbers and adds nothing here).
"""

from __future__ import annotations

import sys

__all__ = ["PeakRSS"]


def _status_mib(field: str) -> float | None:
    """A ``kB`` field of ``/proc/self/status`` in MiB, or ``None`` without ``/proc``."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _ru_maxrss_mib() -> float:
    import resource  # Unix only; imported where used so the module loads everywhere

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes / KiB


class PeakRSS:
    """How much this process's peak resident set grows from construction on.

    Construct it just before the code to measure (on Linux this resets the kernel's
    high-water mark), call :meth:`increase_mib` after it.

    Attributes:
        method: how the peak is read, for a table header: ``"VmHWM reset by clear_refs"``,
            ``"VmHWM since start"`` (``clear_refs`` not writable) or ``"getrusage
            ru_maxrss"`` (no ``/proc``).

    Example:
        >>> import mmap
        >>> peak = PeakRSS()
        >>> block = mmap.mmap(-1, 64 * 2**20)  # 64 MiB of fresh pages
        >>> for offset in range(0, len(block), mmap.PAGESIZE):
        ...     block[offset] = 1  # written, so resident
        >>> peak.increase_mib() > 60
        True
    """

    def __init__(self) -> None:
        if _status_mib("VmHWM") is None:
            self.method = "getrusage ru_maxrss"
            self._start = _ru_maxrss_mib()
            return
        try:
            with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
                f.write("5")  # reset the peak RSS to the current RSS
        except OSError:
            self.method = "VmHWM since start"
            self._start = _status_mib("VmHWM") or 0.0
        else:
            self.method = "VmHWM reset by clear_refs"
            self._start = _status_mib("VmRSS") or 0.0

    def increase_mib(self) -> float:
        """The peak resident set since construction minus the resident set then, in MiB."""
        now = _ru_maxrss_mib() if self.method == "getrusage ru_maxrss" else _status_mib("VmHWM")
        return max(0.0, (now or 0.0) - self._start)

    def __repr__(self) -> str:
        return f"PeakRSS(method={self.method!r})"
