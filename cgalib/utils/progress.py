"""Progress bars for long loops (training, evaluation, generation, prediction), on tqdm.

In a terminal the bar redraws in place; in Jupyter it is one widget line (``tqdm.auto``);
in a log file or CI, where carriage returns pile up into one endless line, every redraw
is a line of its own and redraws are spaced out (``log_interval`` seconds).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO, TypeVar

from tqdm.auto import tqdm

__all__ = ["ProgressBar", "progress"]

T = TypeVar("T")


class _Lines:
    """A text stream that turns tqdm's in-place redraws into one line each."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        text = text.replace("\x1b[A", "").replace("\r", "\n")
        lines = [line.rstrip() for line in text.split("\n")]
        out = "\n".join(line for line in lines if line)
        if out:
            self.stream.write(out + "\n")
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class ProgressBar:
    """A one-line progress bar with rate, ETA and postfix fields (a thin tqdm wrapper).

    Args:
        total: number of steps (``None`` if unknown).
        desc: a label printed first.
        unit: what a step is, for the rate (``"img"``, ``"step"``).
        stream: where to write (default ``sys.stderr``).
        enabled: ``False`` silences it (e.g. on non-zero distributed ranks).
        interval: minimum seconds between redraws on a terminal.
        log_interval: minimum seconds between lines when ``stream`` is not a terminal.

    Examples:
        >>> import io
        >>> out = io.StringIO()
        >>> bar = ProgressBar(4, "demo", stream=out)
        >>> for _ in range(4):
        ...     bar.update(1, loss=0.5)
        >>> bar.close()
        >>> "demo" in out.getvalue() and "4/4" in out.getvalue() and "loss=0.5" in out.getvalue()
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
        log_interval: float = 10.0,
    ) -> None:
        stream = stream or sys.stderr
        tty = _isatty(stream)
        self._bar = tqdm(
            total=total,
            desc=desc,
            unit=unit,
            file=stream if tty else _Lines(stream),
            disable=not enabled,
            mininterval=interval if tty else log_interval,
            dynamic_ncols=tty,
            ncols=None if tty else 100,
            ascii=not tty,
        )

    @property
    def count(self) -> int:
        """Steps done so far."""
        return int(self._bar.n)

    def update(self, n: int = 1, **fields: Any) -> None:
        """Advance by ``n`` steps and set postfix fields (numbers are shown compactly)."""
        if fields:
            self._bar.set_postfix(fields, refresh=False)
        self._bar.update(n)

    def close(self) -> None:
        """Finish the line (the final state is always shown once)."""
        self._bar.close()


def progress(
    iterable: Iterable[T], total: int | None = None, desc: str = "", **kw: Any
) -> Iterator[T]:
    """Wrap an iterable with a [`ProgressBar`][ProgressBar].

    Args:
        iterable: what to iterate.
        total: its length (taken from ``len()`` when possible).
        desc: a label.
        **kw: more [`ProgressBar`][ProgressBar] arguments.
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
