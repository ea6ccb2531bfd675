"""A dependency-free progress bar for long loops (training, evaluation, generation)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TextIO, TypeVar

__all__ = ["ProgressBar", "progress"]

T = TypeVar("T")


class ProgressBar:
    """A one-line progress bar with rate, ETA and free-form postfix fields.

    On a terminal it redraws in place (at most every ``interval`` seconds); elsewhere
    (logs, CI) it prints a line every 10% so output stays readable.

    Args:
        total: number of steps (``None`` if unknown).
        desc: a label printed first.
        unit: what a step is, for the rate (``"img"``, ``"step"``).
        stream: where to write (default ``sys.stderr``).
        enabled: ``False`` silences it (e.g. on non-zero distributed ranks).
        interval: minimum seconds between redraws on a terminal.

    Examples:
        >>> import io
        >>> out = io.StringIO()
        >>> bar = ProgressBar(4, "demo", stream=out)
        >>> for _ in range(4):
        ...     bar.update(1, loss=0.5)
        >>> bar.close()
        >>> "demo 4/4" in out.getvalue() and "loss=0.5" in out.getvalue()
        True
    """

    def __init__(
        self,
        total: int | None,
        desc: str = "",
        unit: str = "it",
        stream: TextIO | None = None,
        enabled: bool = True,
        interval: float = 0.5,
    ) -> None:
        self.total, self.desc, self.unit = total, desc, unit
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.interval = interval
        self.count = 0
        self.start = time.perf_counter()
        self._last_draw = 0.0
        self._last_decile = -1
        self._fields: dict[str, object] = {}
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def update(self, n: int = 1, **fields) -> None:
        """Advance by ``n`` steps and set postfix fields (numbers are shown compactly)."""
        self.count += n
        self._fields.update(fields)
        if not self.enabled:
            return
        now = time.perf_counter()
        if self._tty:
            if now - self._last_draw >= self.interval or self.count == self.total:
                self._last_draw = now
                self.stream.write("\r" + self._line() + "\033[K")
                self.stream.flush()
        elif self.total:
            decile = 10 * self.count // self.total
            if decile > self._last_decile:
                self._last_decile = decile
                self.stream.write(self._line() + "\n")
                self.stream.flush()

    def _line(self) -> str:
        elapsed = time.perf_counter() - self.start
        rate = self.count / elapsed if elapsed > 0 else 0.0
        parts = [
            f"{self.desc} {self.count}/{self.total}" if self.total else f"{self.desc} {self.count}"
        ]
        if self.total:
            filled = int(20 * self.count / self.total)
            parts.append("[" + "#" * filled + "." * (20 - filled) + "]")
            eta = (self.total - self.count) / rate if rate > 0 else 0.0
            parts.append(f"{rate:.1f} {self.unit}/s eta {eta:.0f}s")
        else:
            parts.append(f"{rate:.1f} {self.unit}/s")
        for k, v in self._fields.items():
            parts.append(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}")
        return " ".join(parts)

    def close(self) -> None:
        """Finish the line (always prints the final state once)."""
        if self.enabled:
            if self._tty:
                self.stream.write("\r" + self._line() + "\033[K\n")
            elif not self.total or self._last_decile < 10:
                self.stream.write(self._line() + "\n")
            self.stream.flush()


def progress(
    iterable: Iterable[T], total: int | None = None, desc: str = "", **kw: Any
) -> Iterator[T]:
    """Wrap an iterable with a :class:`ProgressBar`.

    Args:
        iterable: what to iterate.
        total: its length (taken from ``len()`` when possible).
        desc: a label.
        **kw: more :class:`ProgressBar` arguments.
    """
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    bar = ProgressBar(total, desc, **kw)
    try:
        for item in iterable:
            yield item
            bar.update(1)
    finally:
        bar.close()
