"""Signals as stop requests: recorded once, obeyed at once the second time, handlers restored."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from cgalib.utils.signals import (
    STOP_SIGNALS,
    Interrupted,
    StopRequest,
    interrupt_on_signals,
    stop_requests,
)

pytestmark = pytest.mark.usefixtures("default_stop_signals")  # as a terminal starts them


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


def test_an_ignored_signal_stays_ignored():
    """``nohup`` and a shell script's ``cmd &`` ignore SIGHUP/SIGINT: a block leaves them so."""
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with stop_requests() as stop, interrupt_on_signals("work"):
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGINT)
            assert not stop.requested
            assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)


def test_a_closed_terminal_is_a_stop_request():
    assert signal.SIGHUP in STOP_SIGNALS
    with stop_requests() as stop:
        os.kill(os.getpid(), signal.SIGHUP)
        assert stop.requested and stop.signal_name == "SIGHUP"
        with pytest.raises(Interrupted) as err:
            stop.stop("last.pt")
    assert err.value.exit_status == 129


def test_slurm_s_warning_is_a_stop_request():
    assert signal.SIGUSR1 in STOP_SIGNALS
    with stop_requests() as stop:
        os.kill(os.getpid(), signal.SIGUSR1)
        with pytest.raises(Interrupted) as err:
            stop.stop("last.pt")
    assert err.value.exit_status == 138


def test_interrupt_on_signals_raises_at_once_with_what_was_kept():
    with pytest.raises(Interrupted) as err:
        with interrupt_on_signals("eval", "nothing was written"):
            os.kill(os.getpid(), signal.SIGTERM)
    assert str(err.value) == "eval stopped by SIGTERM; nothing was written"
    assert err.value.exit_status == 143


def test_a_stop_request_inside_takes_precedence_until_it_ends():
    with interrupt_on_signals("train"):
        with stop_requests() as stop:
            os.kill(os.getpid(), signal.SIGTERM)  # recorded by the inner block
        assert stop.requested
        with pytest.raises(Interrupted, match="^train stopped by SIGINT$"):
            os.kill(os.getpid(), signal.SIGINT)  # the outer block again


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
def test_die_with_parent_ends_a_child_after_kill_9_of_its_parent(tmp_path):
    """A parent starts a child that calls die_with_parent, then is killed with SIGKILL: the
    child (which would sleep a minute) is gone within a second or two."""
    import subprocess
    import sys
    import time

    code = (
        "import os, subprocess, sys\n"
        "child = subprocess.Popen([sys.executable, '-c', "
        "'import os, sys, time; from cgalib.utils.signals import die_with_parent; "
        "die_with_parent(int(sys.argv[1])); print(os.getpid(), flush=True); time.sleep(60)', "
        "str(os.getpid())], stdout=sys.stdout)\n"
        "child.wait()\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            state = open(f"/proc/{child}/stat").read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            break
        if state in ("Z", "X"):
            break
        time.sleep(0.05)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the child outlived its parent")


def test_die_with_parent_whose_parent_is_already_gone_ends_at_once():
    import subprocess
    import sys

    code = "from cgalib.utils.signals import die_with_parent; die_with_parent(1); print('alive')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 1 and "alive" not in done.stdout
