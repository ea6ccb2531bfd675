"""Signals and processes: SIGTERM and SIGINT during training, evaluation and prediction, a
second signal, kill -9, and what a run leaves behind.

Each case runs the real ``cgalib`` command in a subprocess on a tiny synthetic set (64 px
images, a CGANet of a few thousand parameters): a step takes a fraction of a second, so a
test waits until the work has begun (a ``metrics.csv`` row, or an image opened) and then
signals it in the middle.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

import pytest
import torch

from cgalib import create_model, save_model
from cgalib.data import make_synthetic_coco
from cgalib.models import load_checkpoint
from cgalib.models.checkpoint import TRAIN_STATE_FORMAT
from robustness.cli_helpers import (
    MODEL_KWARGS,
    SLOW_IMAGES,
    error_lines,
    finish,
    live_processes,
    logged_steps,
    start,
    stop,
    train_args,
    wait_until,
)

pytestmark = [
    pytest.mark.skipif(sys.platform != "linux", reason="POSIX signals, /proc"),
    pytest.mark.usefixtures("default_stop_signals"),  # as a terminal starts them
]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """8 training and 6 validation images of 64 px."""
    root = tmp_path_factory.mktemp("signals") / "data"
    make_synthetic_coco(root, 8, 6, size=64, min_height=24)
    return root


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("signals_ckpt") / "model.pt"
    torch.manual_seed(0)
    save_model(create_model("cganet_tnet_d1w16", **MODEL_KWARGS), path)
    return path


def _signal_training(data, run, signum, *, after_rows=2, group=False, workers=0):
    """Start a long run, signal it once it has logged ``after_rows`` steps; its end."""
    proc = start(*train_args(data, run, workers=workers), start_new_session=group)
    try:
        wait_until(lambda: logged_steps(run / "metrics.csv") >= after_rows, proc, "logged steps")
        if group:
            os.killpg(proc.pid, signum)
        else:
            proc.send_signal(signum)
        return finish(proc, 60)
    finally:
        stop(proc)


def test_sighup_during_training(data, tmp_path):
    """The terminal or ssh session that started `cgalib train` closes, and the kernel sends SIGHUP, whose default action used to end the run with nothing saved since the last checkpoint.

    SIGHUP is a stop request like SIGTERM: the step finishes, `last.pt` and `model.pt` are saved, and the command ends with exit status 129 (128 + 1) and one line (`nohup` still ignores it)."""
    run = tmp_path / "run"
    code, _, err = _signal_training(data, run, signal.SIGHUP)
    assert code == 129, err
    (line,) = error_lines(err)
    assert line.startswith(f"cgalib: stopped by SIGHUP after step {_saved_step(run)}: ")
    assert (run / "model.pt").is_file()


def _saved_step(run) -> int:
    return int(load_checkpoint(run / "last.pt", TRAIN_STATE_FORMAT)["step"])


def test_sigterm_during_training(data, tmp_path):
    """`timeout`, `kill`, `docker stop` or Slurm send SIGTERM to `cgalib train` in the middle of an epoch (it used to die at once; up to `--checkpoint-minutes` of training lost).

    The step under way finishes, `last.pt` and `model.pt` are written at that step, and the command ends with exit status 143 and one line saying what was saved, at which step, and that `--resume` continues the run."""
    run = tmp_path / "run"
    code, _, err = _signal_training(data, run, signal.SIGTERM)
    assert code == 143, err
    step = _saved_step(run)
    lines = error_lines(err)
    assert lines == [
        f"cgalib: stopped by SIGTERM after step {step}: {run / 'last.pt'} and model.pt saved; "
        "resume=True (--resume) continues the run"
    ]
    assert load_checkpoint(run / "model.pt")["extra"]["step"] == step
    assert logged_steps(run / "metrics.csv") == step  # every step trained is logged, once


def test_sigint_during_training(data, tmp_path):
    """Ctrl-C (SIGINT) sent to `cgalib train` in the middle of an epoch.

    As for SIGTERM: the step finishes, `last.pt` and `model.pt` are saved, and the command ends with exit status 130 and one line saying so."""
    run = tmp_path / "run"
    code, _, err = _signal_training(data, run, signal.SIGINT)
    assert code == 130, err
    (line,) = error_lines(err)
    assert line.startswith(f"cgalib: stopped by SIGINT after step {_saved_step(run)}: ")


def test_ctrl_c_reaches_the_loader_workers_too(data, tmp_path):
    """Ctrl-C in a terminal (or Slurm's `scancel`, `kill -- -PGID`) signals the whole process group: `cgalib train --workers 2` and its two loader workers at once.

    The workers ignore the request and keep serving the main process, which finishes its step, saves `last.pt` and `model.pt`, and ends with exit status 130 and one line; no worker is left."""
    run = tmp_path / "run"
    code, _, err = _signal_training(data, run, signal.SIGINT, group=True, workers=2)
    assert code == 130, err
    (line,) = error_lines(err)
    assert line.startswith(f"cgalib: stopped by SIGINT after step {_saved_step(run)}: ")
    assert "Traceback" not in err and "DataLoader worker" not in err
    assert not live_processes(str(run))


def test_a_second_signal_stops_at_once(data, tmp_path):
    """SIGTERM sent twice to `cgalib train` while a step is slow (the user, or the scheduler, insists).

    The second signal ends the run at once, without finishing the step: exit status 143 and one line, `stopped at once by a second SIGTERM`, naming the checkpoint kept."""
    run = tmp_path / "run"
    marker, gate = tmp_path / "opened", tmp_path / "slow"
    env = {"CGALIB_TEST_MARKER": str(marker), "CGALIB_TEST_GATE": str(gate)}
    proc = start(*train_args(data, run), before=SLOW_IMAGES, env={**env, "CGALIB_TEST_DELAY": "20"})
    try:
        wait_until(lambda: logged_steps(run / "metrics.csv") >= 1, proc, "a logged step")
        gate.touch()  # from now on every image takes 20 s to open
        wait_until(marker.exists, proc, "a slow image read")
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        began = time.monotonic()
        code, _, err = finish(proc, 60)
    finally:
        stop(proc)
    assert code == 143, err
    assert time.monotonic() - began < 10  # not after the slow step (40 s)
    kept = (
        f"the last checkpoint, {run / 'last.pt'} at step {_saved_step(run)}, is kept"
        if (run / "last.pt").exists()  # the end of epoch 1 came before the gate
        else "no checkpoint was written yet"
    )
    assert error_lines(err) == [f"cgalib: stopped at once by a second SIGTERM; {kept}"]


def test_a_background_run_ignores_ctrl_c(data, tmp_path):
    """`cgalib train ... &` started from a shell script (or under `nohup`), where the shell set SIGINT to be ignored; Ctrl-C then reaches the script's whole process group.

    The ignored signal stays ignored: the run goes on to its end (exit status 0); SIGTERM still stops it as usual."""
    run = tmp_path / "run"
    proc = start(
        *train_args(data, run, epochs=3),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        wait_until(lambda: logged_steps(run / "metrics.csv") >= 1, proc, "a logged step")
        proc.send_signal(signal.SIGINT)
        code, out, err = finish(proc, 120)
    finally:
        stop(proc)
    assert code == 0, err
    assert logged_steps(run / "metrics.csv") == 12 and "model: " in out


def test_slurm_warning_signal_during_training(data, tmp_path):
    """A Slurm job with `--signal=USR1@120` (a warning before its time limit, so the job can save and requeue) sends SIGUSR1 to `cgalib train`, whose default action used to kill it with nothing saved.

    SIGUSR1 is a stop request like SIGTERM: the step finishes, `last.pt` and `model.pt` are saved, and the command ends with exit status 138 (128 + 10) and one line."""
    run = tmp_path / "run"
    code, _, err = _signal_training(data, run, signal.SIGUSR1)
    assert code == 138, err
    (line,) = error_lines(err)
    assert line.startswith(f"cgalib: stopped by SIGUSR1 after step {_saved_step(run)}: ")


SLOW_EXPORT = """
import os, time, torch.onnx
_export, _marker = torch.onnx.export, os.environ["CGALIB_TEST_MARKER"]
def _slow_export(*args, **kwargs):
    open(_marker, "w").close()
    time.sleep(5)
    return _export(*args, **kwargs)
torch.onnx.export = _slow_export
"""


def test_sigterm_during_export(checkpoint, tmp_path):
    """SIGTERM sent to `cgalib export` while the graph is being written; it used to leave a hidden temporary file (`.model.onnx.<pid>.<hex>.tmp`) beside the output.

    The command ends with exit status 143 and one line saying that nothing was written; no file, temporary or not, is left."""
    out = tmp_path / "out"
    marker = tmp_path / "exporting"
    proc = start(
        "export", "--checkpoint", str(checkpoint), "--out", str(out / "model.onnx"),
        before=SLOW_EXPORT, env={"CGALIB_TEST_MARKER": str(marker)},
    )  # fmt: skip
    try:
        wait_until(marker.exists, proc, "the export")
        proc.send_signal(signal.SIGTERM)
        code, _, err = finish(proc, 60)
    finally:
        stop(proc)
    assert code == 143, err
    assert error_lines(err) == ["cgalib: export stopped by SIGTERM; nothing was written"]
    assert list(out.iterdir()) == []


def test_sigterm_during_evaluation(data, checkpoint, tmp_path):
    """SIGTERM sent to `cgalib eval` in the middle of the split.

    The command ends with exit status 143 and one line saying that evaluation was stopped and nothing was written: no results file, not half of one."""
    out = tmp_path / "results.json"
    marker = tmp_path / "opened"
    proc = start(
        "eval", "--checkpoint", str(checkpoint), "--data", str(data), "--out", str(out),
        "--device", "cpu", "--batch", "1",
        before=SLOW_IMAGES, env={"CGALIB_TEST_MARKER": str(marker)},
    )  # fmt: skip
    try:
        wait_until(lambda: marker.exists() and len(marker.read_text()) >= 2, proc, "images read")
        proc.send_signal(signal.SIGTERM)
        code, _, err = finish(proc, 60)
    finally:
        stop(proc)
    assert code == 143, err
    assert error_lines(err) == ["cgalib: eval stopped by SIGTERM; nothing was written"]
    assert list(tmp_path.iterdir()) == [marker]


def test_sigterm_during_prediction(data, checkpoint, tmp_path):
    """SIGTERM sent to `cgalib predict` on a folder of pictures, after some are drawn (it used to leave drawings and no `results.json`).

    The command ends with exit status 143 and one line; `results.json` holds the pictures predicted before the signal, each of them with its drawing."""
    out = tmp_path / "out"
    marker = tmp_path / "opened"
    proc = start(
        "predict", str(data / "val"), "--checkpoint", str(checkpoint), "--out", str(out),
        "--device", "cpu",
        before=SLOW_IMAGES, env={"CGALIB_TEST_MARKER": str(marker)},
    )  # fmt: skip
    try:
        wait_until(lambda: marker.exists() and len(marker.read_text()) >= 3, proc, "images read")
        proc.send_signal(signal.SIGTERM)
        code, _, err = finish(proc, 60)
    finally:
        stop(proc)
    assert code == 143, err
    (line,) = error_lines(err)
    assert line.startswith("cgalib: ") and "SIGTERM" in line
    results = json.loads((out / "results.json").read_text())
    names = {r["file_name"] for r in results}
    drawings = {p.name for p in out.rglob("*") if p.suffix == ".png" or p.suffix == ".jpg"}
    assert 0 < len(drawings) < 6 and len(names) <= len(drawings)


def test_kill_9_leaves_no_loader_worker(data, tmp_path):
    """`kill -9` of `cgalib train --workers 2` (the out-of-memory killer, a scheduler's hard kill) while its loader workers are busy reading images; they (~270 MB each) used to live on, holding the caller's pipes, until they next asked for work.

    The workers die with their parent: within two seconds no process of the run is left."""
    run = tmp_path / "run"
    marker, gate = tmp_path / "opened", tmp_path / "slow"
    env = {"CGALIB_TEST_MARKER": str(marker), "CGALIB_TEST_GATE": str(gate)}
    env["CGALIB_TEST_DELAY"] = "3"
    proc = start(*train_args(data, run, workers=2), before=SLOW_IMAGES, env=env)
    try:
        wait_until(lambda: logged_steps(run / "metrics.csv") >= 1, proc, "a logged step")
        gate.touch()  # from now on every image takes 3 s to open: the workers are busy
        wait_until(marker.exists, proc, "a slow read")
        assert len(live_processes(str(run))) >= 3  # the main process and its two workers
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 2
        while live_processes(str(run)) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = live_processes(str(run))
    finally:
        stop(proc)
        for pid in live_processes(str(run)):
            os.kill(pid, signal.SIGKILL)
    assert not left
