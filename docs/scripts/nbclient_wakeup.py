"""Running notebooks: pick up kernel messages that the client's event loop was not woken for.

Import this module before executing notebooks (``make test`` loads it into pytest with
``-p nbclient_wakeup``; ``render_notebooks.py`` imports it).

**Cause.** ``jupyter_client``'s asyncio channel (``AsyncZMQSocketChannel.get_msg``, used by
nbclient and so by nbmake) waits for a message with one ``socket.poll(timeout)`` of pyzmq's
asyncio socket, which is woken by the socket's edge-triggered ``ZMQ_FD``. Now and then the
edge for an arriving message is consumed without waking the waiting poll; it then returns only
when its timeout fires (pyzmq checks the socket once more at that point and finds the message).
For the ``execute_reply`` of a cell, nbclient's timeout is the cell timeout, so the client sat
idle for nbmake's whole 300 s on a reply that had arrived in milliseconds, and the notebook
still passed: the ``make test`` notebook step that took 325 s. It showed up
in notebook 02, whose widget cell sends dozens of ``comm`` messages, in about one run in four
(pyzmq 27.3, jupyter_client 8.10, nbclient 0.11, ipykernel 7.4).

**Workaround.** Wait in slices of `SLICE` seconds up to the caller's timeout: every slice ends
with that same final check, so a message whose wake-up was lost is read within one slice.
Timeouts, ``Empty`` and the message order are unchanged.
"""

from __future__ import annotations

import math
import time
from queue import Empty
from typing import Any

from jupyter_client.channels import AsyncZMQSocketChannel

__all__ = ["SLICE", "get_msg"]

SLICE = 0.25
"""Seconds of one wait: the longest a message with a lost wake-up stays unread."""


async def get_msg(self: AsyncZMQSocketChannel, timeout: float | None = None) -> dict[str, Any]:
    """``AsyncZMQSocketChannel.get_msg`` waiting in slices of `SLICE` seconds.

    Args:
        self: the channel.
        timeout: seconds to wait in all (``None``: until a message comes).

    Returns:
        The next message on the channel.

    Raises:
        queue.Empty: no message within ``timeout``.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        left = SLICE if deadline is None else max(0.0, min(SLICE, deadline - time.monotonic()))
        if await self.socket.poll(math.ceil(left * 1000)):
            return await self._recv()
        if deadline is not None and time.monotonic() >= deadline:
            raise Empty


AsyncZMQSocketChannel.get_msg = get_msg
