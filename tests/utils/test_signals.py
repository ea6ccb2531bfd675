"""Signals as stop requests: recorded once, obeyed at once the second time, handlers restored."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from cgalib.utils.signals import Interrupted, StopRequest, stop_requests


def test_the_first_signal_is_a_request_and_stop_raises_with_the_shell_status():
    with stop_requests() as stop:
        assert not stop.requested
        stop.stop("nothing to keep")  # no request: nothing happens
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested and stop.signum == signal.SIGTERM
        with pytest.raises(Interrupted) as err:
            stop.stop("results.json with 3 pictures")
    assert err.value.exit_status == 143 and isinstance(err.value, KeyboardInterrupt)
    assert str(err.value) == "stopped by SIGTERM; results.json with 3 pictures"


def test_a_second_signal_stops_at_once():
    with pytest.raises(Interrupted, match="stopped at once by a second SIGINT") as err:
        with stop_requests() as stop:
            os.kill(os.getpid(), signal.SIGTERM)
            assert stop.requested
            os.kill(os.getpid(), signal.SIGINT)
    assert err.value.exit_status == 130


def test_the_previous_handlers_come_back():
    before = signal.getsignal(signal.SIGTERM)
    with stop_requests():
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before


def test_outside_the_main_thread_nothing_is_installed():
    seen: list[StopRequest] = []

    def worker() -> None:
        with stop_requests() as stop:
            seen.append(stop)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert len(seen) == 1 and not seen[0].requested
