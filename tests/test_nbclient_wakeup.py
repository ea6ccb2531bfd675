"""The notebook runners' wait for kernel messages (docs/scripts/nbclient_wakeup.py).

The socket below behaves like pyzmq's asyncio socket after a lost ``ZMQ_FD`` edge: a poll
does not wake when the message arrives, only when its own timeout fires, and then reports
the message. Time is a fake clock that each poll advances by its timeout.
"""

import asyncio
import importlib.util
from pathlib import Path
from queue import Empty

import pytest

channels = pytest.importorskip("jupyter_client.channels")

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "scripts" / "nbclient_wakeup.py"


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def monotonic(self):
        return self.now


class MissedWakeUpSocket:
    """A message arriving at ``arrival`` seconds that no poll is woken for."""

    def __init__(self, clock, arrival):
        self.clock, self.arrival, self.polls = clock, arrival, []

    async def poll(self, timeout_ms=None):
        self.polls.append(timeout_ms)
        self.clock.now += timeout_ms / 1000
        return int(self.clock.now >= self.arrival)


class Channel:
    def __init__(self, socket):
        self.socket = socket

    async def _recv(self):
        return {"msg_type": "execute_reply"}


@pytest.fixture
def wakeup(monkeypatch):
    original = channels.AsyncZMQSocketChannel.get_msg
    spec = importlib.util.spec_from_file_location("nbclient_wakeup", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert channels.AsyncZMQSocketChannel.get_msg is module.get_msg  # importing applies it
    channels.AsyncZMQSocketChannel.get_msg = original
    clock = FakeClock()
    monkeypatch.setattr(module, "time", clock)
    module.clock = clock
    module.original = original
    return module


def test_a_reply_with_a_lost_wake_up_is_read_after_one_slice(wakeup):
    socket = MissedWakeUpSocket(wakeup.clock, arrival=0.01)
    msg = asyncio.run(wakeup.get_msg(Channel(socket), timeout=300))
    assert msg == {"msg_type": "execute_reply"}
    assert socket.polls == [250] and wakeup.SLICE == 0.25
    assert wakeup.clock.now == pytest.approx(0.25)


def test_without_it_the_reply_waits_for_the_whole_timeout(wakeup):
    socket = MissedWakeUpSocket(wakeup.clock, arrival=0.01)
    msg = asyncio.run(wakeup.original(Channel(socket), timeout=300))
    assert msg == {"msg_type": "execute_reply"}
    assert socket.polls == [300_000]


def test_the_timeout_still_ends_in_empty_at_the_same_time(wakeup):
    socket = MissedWakeUpSocket(wakeup.clock, arrival=10.0)
    with pytest.raises(Empty):
        asyncio.run(wakeup.get_msg(Channel(socket), timeout=0.6))
    assert socket.polls == [250, 250, 100]
    assert wakeup.clock.now == pytest.approx(0.6)


def test_no_timeout_waits_until_the_message_comes(wakeup):
    socket = MissedWakeUpSocket(wakeup.clock, arrival=0.9)
    assert asyncio.run(wakeup.get_msg(Channel(socket), timeout=None))
    assert socket.polls == [250] * 4
