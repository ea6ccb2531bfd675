"""Output folders: checked before the work, held by one run at a time, and a full disk during
the work said in one line.

We run as root, which writes into read-only folders, so a read-only or full place is
simulated: every ``open`` for writing inside it raises the ``OSError`` the kernel would
(``EROFS``, ``ENOSPC``). Two runs into one folder are real processes.
"""

from __future__ import annotations

import builtins
import errno
import io
import os
import signal
import sys

import pytest
import torch

from cgalib import create_model, save_model
from cgalib.cli import main
from cgalib.data import make_synthetic_coco
from cgalib.engine import state as state_module
from cgalib.models import load_checkpoint
from cgalib.models.checkpoint import TRAIN_STATE_FORMAT
from cgalib.utils.outputs import is_inside
from robustness.cli_helpers import (
    MODEL_KWARGS,
    error_lines,
    finish,
    logged_steps,
    start,
    stop,
    train_args,
    wait_until,
)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """8 training and 3 validation images of 64 px."""
    root = tmp_path_factory.mktemp("outputs") / "data"
    make_synthetic_coco(root, 8, 3, size=64, min_height=24)
    return root


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("outputs_ckpt") / "model.pt"
    torch.manual_seed(0)
    save_model(create_model("cganet_tnet_d1w16", **MODEL_KWARGS), path)
    return path


@pytest.fixture
def unwritable(monkeypatch):
    """``unwritable(folder, errno.EROFS)``: from now on no file can be written inside
    ``folder`` (``open`` for writing raises ``OSError(code)``), as on a read-only or full
    file system."""

    def make(folder, code, only=None):
        real_open = builtins.open

        def fake_open(file, mode="r", *args, **kwargs):
            writing = any(c in mode for c in "wax+")
            if writing and isinstance(file, (str, os.PathLike)) and is_inside(file, folder):
                if only is None or only in os.fspath(file):
                    raise OSError(code, os.strerror(code), os.fspath(file))
            return real_open(file, mode, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", fake_open)
        monkeypatch.setattr(io, "open", fake_open)

    return make


def _run(capsys, argv) -> tuple[int, str, list[str]]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, error_lines(captured.err)


def _files(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# ------------------------------------------------------------------------ one run per folder
def _paused_run(data, run, *extra):
    """A training run into ``run``, paused (SIGSTOP) once it has logged a step and written
    its first checkpoint, if it writes one every step."""
    proc = start(*train_args(data, run, *extra, epochs=3))
    wait_until(lambda: logged_steps(run / "metrics.csv") >= 1, proc, "a logged step")
    if "--checkpoint-every" in extra:
        wait_until((run / "last.pt").exists, proc, "a checkpoint")
    proc.send_signal(signal.SIGSTOP)
    return proc


@pytest.mark.skipif(sys.platform != "linux", reason="POSIX signals pause the first run")
def test_two_trainings_into_one_folder(data, tmp_path):
    """`cgalib train --out run` started a second time while the first run still writes `run` (two terminals, a job submitted twice): both used to run, with interleaved `metrics.csv` rows and `model.pt` from whichever saved last.

    The second run is refused at once with one line naming the folder and the process that writes it (exit status 1); nothing of the first run's files is touched, and the first run ends normally with each step logged once."""
    run = tmp_path / "run"
    first = _paused_run(data, run)
    try:
        before = _files(run)
        code, _, err = finish(start(*train_args(data, run)), 60)
        assert code == 1
        assert error_lines(err) == [
            f"cgalib: error: {run} is being written by a training run (process {first.pid}); "
            "wait for it to end or write into another folder"
        ]
        assert _files(run) == before
        first.send_signal(signal.SIGCONT)
        code, _, err = finish(first, 120)
    finally:
        first.send_signal(signal.SIGCONT)
        stop(first)
    assert code == 0, err
    rows = (run / "metrics.csv").read_text().splitlines()[1:]
    assert [row.split(",")[1] for row in rows] == [str(s) for s in range(1, 13)]


@pytest.mark.skipif(sys.platform != "linux", reason="POSIX signals pause the first run")
def test_resume_while_the_run_still_goes(data, tmp_path):
    """`cgalib train --resume` of a run that is still going (a job requeued while its first instance is still ending).

    The resume is refused at once with the same line naming the process that writes the folder; the running run's `last.pt`, `metrics.csv` and `model.pt` are untouched."""
    run = tmp_path / "run"
    first = _paused_run(data, run, "--checkpoint-every", "1")
    try:
        before = _files(run)
        code, _, err = finish(start(*train_args(data, run, "--resume")), 60)
    finally:
        stop(first)
    assert code == 1
    (line,) = error_lines(err)
    assert line.startswith(f"cgalib: error: {run} is being written by a training run (process ")
    assert _files(run) == before


def test_a_copied_run_folder_with_its_lock_file_resumes(data, tmp_path, capsys):
    """A run folder copied (`rsync`, `cp -r`) from a machine where its run was still going, so it carries that run's lock file and a process id that means nothing here.

    The lock is the kernel's, not the file's: nothing holds it here, so `--resume` continues the run."""
    run = tmp_path / "run"
    args = train_args(data, run, "--checkpoint-every", "2", epochs=1)
    assert _run(capsys, args)[0] == 0
    (run / ".cgalib.lock").write_text("4194000")
    code, _, err = _run(capsys, [*train_args(data, run, "--resume", epochs=2)])
    assert code == 0, err
    assert load_checkpoint(run / "last.pt", TRAIN_STATE_FORMAT)["step"] == 8


# ------------------------------------------------------------------ checked before the work
def test_train_into_a_read_only_folder(data, tmp_path, capsys, unwritable):
    """`cgalib train --out` a folder on a read-only file system (a mounted data volume, a snapshot); the run used to train up to its first log row and fail there.

    Training refuses before the data is read or a model built, with one line naming the folder and the reason, `read-only file system`."""
    run = tmp_path / "run"
    run.mkdir()
    unwritable(run, errno.EROFS)
    code, out, err = _run(capsys, train_args(data, run, epochs=1))
    assert code == 1
    assert err == [
        f"cgalib: error: cannot write to run folder {run}: read-only file system; choose "
        "another folder (nothing was computed yet)"
    ]
    assert "people" not in out  # the annotation file was not even read
    assert list(run.iterdir()) == []


def test_train_onto_a_full_disk(data, tmp_path, capsys, unwritable):
    """`cgalib train --out` a folder on a disk that is already full.

    Training refuses before the work with one line naming the folder: `no space left on the device`."""
    run = tmp_path / "run"
    unwritable(tmp_path, errno.ENOSPC)
    code, _, err = _run(capsys, train_args(data, run, epochs=1))
    assert code == 1
    assert err == [
        f"cgalib: error: cannot write to run folder {run}: no space left on the device; "
        "choose another folder (nothing was computed yet)"
    ]


def test_train_out_is_a_file(data, tmp_path, capsys):
    """`cgalib train --out run.pt`: an existing file given where the run folder belongs (it used to read the data set, then fail with `[Errno 17] File exists`).

    Training refuses before reading anything with one line: the run folder is a file; give a folder."""
    out = tmp_path / "run.pt"
    out.write_bytes(b"weights")
    code, _, err = _run(capsys, train_args(data, out, epochs=1))
    assert code == 1
    assert err == [f"cgalib: error: run folder {out} is a file; give a folder"]
    assert out.read_bytes() == b"weights"


def test_eval_into_a_read_only_folder(data, checkpoint, tmp_path, capsys, unwritable):
    """`cgalib eval --out` a results file in a read-only folder; evaluation used to predict the whole split and then fail without printing AP.

    Evaluation refuses before loading the model, with one line naming the `--out` folder and the reason."""
    folder = tmp_path / "ro"
    folder.mkdir()
    unwritable(folder, errno.EROFS)
    argv = ["eval", "--checkpoint", checkpoint, "--data", data, "--out", folder / "r.json",
            "--device", "cpu"]  # fmt: skip
    code, out, err = _run(capsys, argv)
    assert code == 1 and out == ""
    assert err == [
        f"cgalib: error: cannot write to --out folder {folder}: read-only file system; choose "
        "another folder (nothing was computed yet)"
    ]


def test_eval_next_to_a_read_only_checkpoint(data, checkpoint, tmp_path, capsys, unwritable):
    """`cgalib eval` without `--out` of a checkpoint in a read-only place (a shared model store): the results file goes next to the checkpoint by default.

    Evaluation refuses before the work with one line naming that folder; `--out` elsewhere works."""
    unwritable(checkpoint.parent, errno.EROFS)
    argv = ["eval", "--checkpoint", checkpoint, "--data", data, "--device", "cpu"]
    code, _, err = _run(capsys, argv)
    assert code == 1
    assert err == [
        f"cgalib: error: cannot write to --out folder {checkpoint.parent}: read-only file "
        "system; choose another folder (nothing was computed yet)"
    ]
    code, out, _ = _run(capsys, [*argv, "--out", tmp_path / "r.json"])
    assert code == 0 and (tmp_path / "r.json").is_file()


def test_export_into_a_read_only_folder(checkpoint, tmp_path, capsys, unwritable):
    """`cgalib export --out` a file in a read-only folder.

    Export refuses before tracing the model, with one line naming the `--out` folder and the reason."""
    folder = tmp_path / "ro"
    folder.mkdir()
    unwritable(folder, errno.EROFS)
    code, out, err = _run(
        capsys, ["export", "--checkpoint", checkpoint, "--out", folder / "m.onnx"]
    )
    assert code == 1 and out == ""
    assert err == [
        f"cgalib: error: cannot write to --out folder {folder}: read-only file system; choose "
        "another folder (nothing was computed yet)"
    ]


def test_export_out_is_a_folder(checkpoint, tmp_path, capsys):
    """`cgalib export --out exports/`: an existing folder given where the `.onnx` file belongs (the error used to name an internal temporary file).

    Export refuses before the work with one line: `--out` is a folder; give the `.onnx` file to write."""
    code, _, err = _run(capsys, ["export", "--checkpoint", checkpoint, "--out", tmp_path])
    assert code == 1
    assert err == [f"cgalib: error: --out {tmp_path} is a folder; give the .onnx file to write"]
    assert list(tmp_path.iterdir()) == []


def test_eval_out_is_the_checkpoint(data, checkpoint, tmp_path, capsys):
    """`cgalib eval --checkpoint model.pt --out model.pt` (a slip of the shell's completion); the results JSON used to replace the weights it had just scored.

    Evaluation refuses before the work with one line saying `--out` is the `--checkpoint` file; the checkpoint keeps its bytes."""
    mine = tmp_path / "model.pt"
    mine.write_bytes(checkpoint.read_bytes())
    before = mine.read_bytes()
    argv = ["eval", "--checkpoint", mine, "--data", data, "--out", tmp_path / "." / "model.pt"]
    code, out, err = _run(capsys, argv)
    assert code == 1 and out == ""
    assert err == [
        f"cgalib: error: --out {mine} is the --checkpoint file; writing there would replace "
        "it: choose another path (nothing was written)"
    ]
    assert mine.read_bytes() == before


def test_eval_out_is_the_annotation_file(data, checkpoint, tmp_path, capsys):
    """`cgalib eval --out` naming the split's own annotation file (reached through a symbolic link), which the results used to replace, losing the ground truth.

    Evaluation refuses before the work with one line saying `--out` is the annotation file; the file keeps its bytes."""
    gt = data / "annotations" / "person_keypoints_val.json"
    before = gt.read_bytes()
    link = tmp_path / "gt.json"
    link.symlink_to(gt)
    code, out, err = _run(capsys, ["eval", "--checkpoint", checkpoint, "--data", data,
                                   "--out", link])  # fmt: skip
    assert code == 1 and out == ""
    assert err == [
        f"cgalib: error: --out {link} is the annotation file; writing there would replace "
        "it: choose another path (nothing was written)"
    ]
    assert gt.read_bytes() == before


def test_export_out_is_the_checkpoint(checkpoint, tmp_path, capsys):
    """`cgalib export --checkpoint model.pt --out model.pt`; the ONNX graph used to replace the checkpoint it was made from.

    Export refuses before tracing with one line saying `--out` is the `--checkpoint` file; the checkpoint keeps its bytes."""
    mine = tmp_path / "model.pt"
    mine.write_bytes(checkpoint.read_bytes())
    before = mine.read_bytes()
    code, _, err = _run(capsys, ["export", "--checkpoint", mine, "--out", mine])
    assert code == 1
    assert err == [
        f"cgalib: error: --out {mine} is the --checkpoint file; writing there would replace "
        "it: choose another path (nothing was written)"
    ]
    assert mine.read_bytes() == before


def test_synth_into_a_folder_holding_another_data_set(tmp_path, capsys):
    """`cgalib synth --out data/` where `data/` holds the user's own COCO set; the synthetic annotation files used to replace theirs.

    synth refuses with one line naming the file it did not write and writes nothing; a folder holding an earlier synthetic set is replaced as before."""
    own = tmp_path / "mine" / "annotations" / "person_keypoints_train.json"
    own.parent.mkdir(parents=True)
    own.write_text('{"images": [], "annotations": [], "categories": []}')
    code, _, err = _run(capsys, ["synth", "--out", tmp_path / "mine", "--train", "2", "--val",
                                 "1", "--size", "64"])  # fmt: skip
    assert code == 1
    assert err == [
        f"cgalib: error: {tmp_path / 'mine'} already holds {own}, which the synthetic set did "
        "not write; give an empty or new folder (nothing was written)"
    ]
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["annotations"]
    again = ["synth", "--out", tmp_path / "synth", "--train", "2", "--val", "1", "--size", "64"]
    assert _run(capsys, again)[0] == 0 and _run(capsys, again)[0] == 0


# ------------------------------------------------------------------ the disk fills meanwhile
def test_disk_full_while_saving_a_checkpoint(data, tmp_path, capsys, monkeypatch):
    """The disk fills up during training, so `last.pt` cannot be written at step 4 (it used to read `[enforce fail at inline_container.cc:672] . unexpected pos`).

    Training stops cleanly with one line: the step, the file that could not be written, the reason (`no space left on the device`), the checkpoint kept (step 2, intact) and to free space and resume."""
    run = tmp_path / "run"
    real = state_module.save_checkpoint

    def save(content, path, format):
        if content["step"] == 4:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(content, path, format)

    monkeypatch.setattr(state_module, "save_checkpoint", save)
    code, _, err = _run(capsys, train_args(data, run, "--checkpoint-every", "2", epochs=2))
    assert code == 1
    assert err == [
        f"cgalib: error: training stopped at step 4: cannot write {run / 'last.pt'}: no space "
        f"left on the device; the last checkpoint, {run / 'last.pt'} at step 2, is kept; free "
        "space and resume from it (--resume)"
    ]
    assert load_checkpoint(run / "last.pt", TRAIN_STATE_FORMAT)["step"] == 2


def test_disk_full_while_logging(data, tmp_path, capsys, unwritable):
    """The disk fills up during training and `metrics.csv` can no longer be appended (a row is written every `--log-every` steps, more often than a checkpoint).

    Training stops cleanly with one line naming the step, `metrics.csv` and the reason; no traceback."""
    run = tmp_path / "run"
    assert main([*train_args(data, run, epochs=1), "--log-every", "2"]) == 0
    unwritable(run, errno.ENOSPC, only="metrics")
    code, _, err = _run(capsys, [*train_args(data, run, "--resume", epochs=2)])
    assert code == 1
    (line,) = err
    assert line.startswith("cgalib: error: training stopped at step ")
    assert f"cannot write {run / 'metrics.csv'}: no space left on the device" in line
