"""Signals as requests to stop: long work finishes its step, keeps what it made, and ends
with the signal's exit status.

``timeout``, ``kill``, Docker and Slurm stop a process with SIGTERM; a terminal with
SIGINT (Ctrl-C). Their default actions end a Python process between two bytecodes, so a
training step is cut in half and a results file never written. Inside
[`stop_requests()`][stop_requests] the first SIGTERM or SIGINT only records the request:
the loop asks [`StopRequest.requested`][StopRequest.requested] at a safe point (after a step,
after a picture), saves what it has, and calls [`StopRequest.stop()`][StopRequest.stop], which
raises [`Interrupted`][Interrupted] (a ``KeyboardInterrupt``) carrying the exit status a shell
expects, ``128 + signal``. A second signal of either kind raises at once: a user who
insists is obeyed.

Example:
    >>> import os, signal
    >>> with stop_requests() as stop:
    ...     os.kill(os.getpid(), signal.SIGTERM)  # recorded, not fatal
    ...     stop.requested, stop.signal_name
    (True, 'SIGTERM')
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator, Sequence

__all__ = ["STOP_SIGNALS", "Interrupted", "StopRequest", "stop_requests"]

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""The signals that ask a run to stop: Ctrl-C and what ``timeout``/``kill``/schedulers send."""


class Interrupted(KeyboardInterrupt):
    """A run stopped by a signal, after keeping what it had made.

    Args:
        signum: the signal's number.
        message: what was kept (one line).

    Attributes:
        signum: the signal's number.
        exit_status: ``128 + signum``, the status a shell gives a process ended by it.
    """

    def __init__(self, signum: int, message: str) -> None:
        super().__init__(message)
        self.signum = int(signum)
        self.exit_status = 128 + self.signum


class StopRequest:
    """Whether a stop was asked for, and by which signal (see [`stop_requests()`][stop_requests])."""

    def __init__(self) -> None:
        self.signum: int | None = None

    @property
    def requested(self) -> bool:
        """A stop signal arrived."""
        return self.signum is not None

    @property
    def signal_name(self) -> str | None:
        """``"SIGTERM"``, ``"SIGINT"``, ... or ``None``."""
        return None if self.signum is None else signal.Signals(self.signum).name

    def stop(self, kept: str) -> None:
        """Raise [`Interrupted`][Interrupted] for the signal that arrived (a no-op without one).

        Args:
            kept: what the run kept, for the message (e.g. ``"last.pt at step 120"``).

        Raises:
            Interrupted: when a stop was requested.
        """
        if self.signum is not None:
            raise Interrupted(self.signum, f"stopped by {self.signal_name}; {kept}")


@contextlib.contextmanager
def stop_requests(signals: Sequence[int] = STOP_SIGNALS) -> Iterator[StopRequest]:
    """Turn ``signals`` into a [`StopRequest`][StopRequest] for the duration of the block.

    The first signal is recorded; a second one raises [`Interrupted`][Interrupted] at once.
    The previous handlers come back when the block ends. Outside the main thread (where
    Python cannot install handlers) the request never fires and signals keep their
    usual effect.

    Args:
        signals: the signals to catch (default SIGINT and SIGTERM).

    Yields:
        The [`StopRequest`][StopRequest] that a loop polls.
    """
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return

    def handler(signum: int, frame: object) -> None:
        if request.signum is not None:  # asked twice: stop now
            raise Interrupted(signum, f"stopped at once by a second {signal.Signals(signum).name}")
        request.signum = signum

    previous = {s: signal.signal(s, handler) for s in signals}
    try:
        yield request
    finally:
        for s, old in previous.items():
            signal.signal(s, old)
