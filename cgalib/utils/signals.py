"""Signals as requests to stop: long work finishes its step, keeps what it made, and ends
with the signal's exit status; helper processes end with their parent.

``timeout``, ``kill``, Docker and Slurm stop a process with SIGTERM; a terminal with
SIGINT (Ctrl-C); a closed terminal or a dropped ssh session with SIGHUP; Slurm warns a job
before its time limit with SIGUSR1 (``--signal``). Their
default actions end a Python process between two bytecodes, so a training step is cut in
half and a results file never written. Inside [`stop_requests()`][stop_requests] the first
such signal only records the request: the loop asks
[`StopRequest.requested`][StopRequest.requested] at a safe point (after a step, after a
picture), saves what it has, and calls [`StopRequest.stop()`][StopRequest.stop], which raises
[`Interrupted`][Interrupted] (a ``KeyboardInterrupt``) carrying the exit status a shell
expects, ``128 + signal``. A second signal of either kind raises at once: a user who
insists is obeyed. Work without safe points uses
[`interrupt_on_signals()`][interrupt_on_signals] instead: every stop signal raises at once,
as Ctrl-C does, so ``finally`` blocks and atomic writes leave no half-written file, and
the exit status is still the signal's. A signal that was ignored when the block began
(``nohup``, a shell script's ``cmd &``, which ignore SIGHUP and SIGINT) stays ignored.

A process that helps another one (a data loader's worker) should not outlive it: after
``kill -9`` of the main process nothing else tells it to stop.
[`die_with_parent()`][die_with_parent] asks the kernel to end it with its parent (Linux;
a watchdog thread elsewhere).

Example:
    >>> import os, signal
    >>> with stop_requests() as stop:
    ...     os.kill(os.getpid(), signal.SIGTERM)  # recorded, not fatal
    ...     stop.requested, stop.signal_name
    (True, 'SIGTERM')
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence

__all__ = [
    "STOP_SIGNALS",
    "Interrupted",
    "StopRequest",
    "die_with_parent",
    "interrupt_on_signals",
    "stop_requests",
]

STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGUSR1") if hasattr(signal, name)
)
"""The signals that ask a run to stop: Ctrl-C, what ``timeout``/``kill``/schedulers send, a
closed terminal or ssh session, and Slurm's warning before a job's time limit (where the
platform has them)."""


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


def _catch(signals: Sequence[int], handler: Callable[[int, object], None]) -> dict[int, object]:
    """Install ``handler`` for the ``signals`` not ignored now; their previous handlers."""
    previous = {}
    for s in signals:
        if signal.getsignal(s) is not signal.SIG_IGN:  # nohup, `cmd &`: leave it ignored
            previous[s] = signal.signal(s, handler)
    return previous


@contextlib.contextmanager
def stop_requests(signals: Sequence[int] = STOP_SIGNALS) -> Iterator[StopRequest]:
    """Turn ``signals`` into a [`StopRequest`][StopRequest] for the duration of the block.

    The first signal is recorded; a second one raises [`Interrupted`][Interrupted] at once.
    The previous handlers come back when the block ends. A signal ignored when the block
    begins stays ignored. Outside the main thread (where Python cannot install handlers)
    the request never fires and signals keep their usual effect.

    Args:
        signals: the signals to catch (default [`STOP_SIGNALS`][STOP_SIGNALS]).

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

    previous = _catch(signals, handler)
    try:
        yield request
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


@contextlib.contextmanager
def interrupt_on_signals(
    what: str, kept: str | None = None, signals: Sequence[int] = STOP_SIGNALS
) -> Iterator[None]:
    """Inside the block every one of ``signals`` raises [`Interrupted`][Interrupted] at once.

    SIGTERM then behaves like Ctrl-C: the work stops where it is, ``finally`` blocks and
    atomic writes keep what they keep, and the caller ends with the signal's exit status
    instead of a kill that leaves temporary files. Work inside the block that can stop at
    a safe point installs its own [`stop_requests()`][stop_requests], which takes precedence
    until it ends. A signal ignored when the block begins stays ignored; outside the main
    thread nothing is installed.

    Args:
        what: the work, for the message (e.g. ``"eval"``).
        kept: what a stop leaves, for the message (e.g. ``"nothing was written"``).
        signals: the signals to catch (default [`STOP_SIGNALS`][STOP_SIGNALS]).

    Raises:
        Interrupted: ``"<what> stopped by SIGTERM; <kept>"`` when a signal arrives.

    Example:
        >>> import os, signal
        >>> try:
        ...     with interrupt_on_signals("export", "nothing was written"):
        ...         os.kill(os.getpid(), signal.SIGTERM)
        ... except Interrupted as stopped:
        ...     print(stopped, stopped.exit_status)
        export stopped by SIGTERM; nothing was written 143
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        note = f"; {kept}" if kept else ""
        raise Interrupted(signum, f"{what} stopped by {signal.Signals(signum).name}{note}")

    previous = _catch(signals, handler)
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent_pid: int) -> None:
    """End this process when its parent ends, however the parent ends (``kill -9`` too).

    Meant for helper processes such as data loader workers, which hold memory and the
    parent's pipes and have nothing of their own to save. On Linux the kernel sends this
    process SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``); elsewhere a daemon
    thread checks the parent every half second. If the parent is already gone, this
    process ends at once.

    Args:
        parent_pid: the process id of the parent this process must not outlive, read in
            the parent (``os.getpid()`` there) before this process was started.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: fall back on the watchdog
            pass
        else:
            if os.getppid() != parent_pid:  # the parent died before prctl took effect
                os._exit(1)
            return

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    if os.getppid() != parent_pid:
        os._exit(1)
    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()
