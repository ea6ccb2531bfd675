"""Helpers of the signal and output-folder robustness tests: the real ``cgalib`` command in a
subprocess on a tiny synthetic set, and the processes a run leaves behind."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cgalib

REPO = Path(cgalib.__file__).resolve().parent.parent
MODEL_KWARGS = {
    "input_size": 64,
    "max_train_rois": 4,
    "backbone_kwargs": {"num_blocks": 0, "stem_blocks": 0},
}
"""A CGANet small enough for a step in well under a second on one CPU thread."""

SLOW_IMAGES = """
import os, time, PIL.Image
_open, _marker = PIL.Image.open, os.environ["CGALIB_TEST_MARKER"]
_gate = os.environ.get("CGALIB_TEST_GATE")
def _slow_open(*args, **kwargs):
    if _gate is None or os.path.exists(_gate):
        with open(_marker, "a") as f:
            f.write("x")
        time.sleep(float(os.environ.get("CGALIB_TEST_DELAY", "0.3")))
    return _open(*args, **kwargs)
PIL.Image.open = _slow_open
"""
"""Code run before ``main``: every image opened appends a byte to ``$CGALIB_TEST_MARKER``
and takes ``$CGALIB_TEST_DELAY`` seconds (once the file ``$CGALIB_TEST_GATE`` exists, when
that is set), so a test knows the work has begun and has time to signal it in the middle."""


def train_args(data: Path, out: Path, *extra: str, epochs: int = 50, workers: int = 0) -> list[str]:
    """``cgalib train`` of the tiny CGANet at 64 px, batch 2, a row and a checkpoint per
    step count given by ``extra``."""
    return [
        "train",
        "--model", "cganet_tnet_d1w16",
        "--data", str(data),
        "--out", str(out),
        "--epochs", str(epochs),
        "--batch", "2",
        "--input-size", "64",
        "--device", "cpu",
        "--workers", str(workers),
        "--log-every", "1",
        "--model-kwargs", json.dumps(MODEL_KWARGS),
        *extra,
    ]  # fmt: skip


def start(*args: str, before: str = "", env: dict | None = None, **popen) -> subprocess.Popen:
    """``python -m cgalib.cli ARGS`` (after running the code ``before``), output captured."""
    code = f"{before}\nimport sys\nfrom cgalib.cli import main\nsys.exit(main(sys.argv[1:]))"
    environ = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", **(env or {})}
    environ.pop("CGALIB_TRACEBACK", None)
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def wait_until(condition: Callable[[], bool], proc: subprocess.Popen, what: str, seconds=120):
    """Poll ``condition`` until it holds; fail if ``proc`` ends first or time runs out."""
    deadline = time.monotonic() + seconds
    while not condition():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"the run ended before {what}:\n{out}\n{err}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"no {what} within {seconds}s")
        time.sleep(0.02)


def finish(proc: subprocess.Popen, seconds: float = 120) -> tuple[int, str, str]:
    """Wait for ``proc``: its exit status, stdout and stderr."""
    try:
        out, err = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"the run did not end within {seconds}s:\n{out}\n{err}") from None
    return proc.returncode, out, err


def logged_steps(path: Path) -> int:
    """The rows of a ``metrics.csv`` (0 when it is not there yet)."""
    if not path.is_file():
        return 0
    return sum(1 for line in path.read_text().splitlines()[1:] if line)


_PROGRESS = re.compile(r"\[\d+:\d\d")  # a progress bar's elapsed time, "[00:01<00:02, ..."


def error_lines(err: str) -> list[str]:
    """The lines of stderr that are neither progress bars nor warnings."""
    return [
        line
        for line in err.splitlines()
        if line.strip() and not _PROGRESS.search(line) and not line.startswith("cgalib: warning:")
    ]


def live_processes(marker: str) -> list[int]:
    """The processes alive (not zombies) whose command line contains ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmdline and state not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def stop(proc: subprocess.Popen) -> None:
    """End a run a test left going (and its group, when it leads one)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
