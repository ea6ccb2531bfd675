"""The run folder: a resume needs its last.pt, the folder must be writable, one run holds it,
and a folder holding a run is continued or left alone."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap

import pytest

from cgalib.engine.run_folder import claim_run_folder, prepare_run_folder
from cgalib.utils.outputs import LOCK_NAME, OutputError


def test_a_run_folder_is_continued_or_left_alone(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match=r"no checkpoint .*last.pt .*without resume"):
        prepare_run_folder(tmp_path, resume=True)
    (tmp_path / "metrics.csv").write_text("step\n1\n")
    (tmp_path / "metrics.1.csv").write_text("kept")
    prepare_run_folder(tmp_path, resume=False)
    assert (tmp_path / "metrics.2.csv").read_text() == "step\n1\n"
    assert "was renamed metrics.2.csv" in capsys.readouterr().out
    (tmp_path / "model.pt").write_bytes(b"")
    with pytest.raises(FileExistsError, match=r"already holds a training run \(model.pt\)"):
        prepare_run_folder(tmp_path, resume=False)
    (tmp_path / "last.pt").write_bytes(b"")
    prepare_run_folder(tmp_path, resume=True)


def test_a_resume_without_last_pt_creates_nothing(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"cannot resume: no checkpoint"):
        with claim_run_folder(tmp_path / "run", resume=True):
            pass
    assert not (tmp_path / "run").exists()


def test_the_folder_is_held_for_the_block_and_released(tmp_path):
    run = tmp_path / "run"
    with claim_run_folder(run, resume=False) as out:
        assert out == run and (run / LOCK_NAME).read_text() == str(os.getpid())
        with claim_run_folder(run, resume=False):  # train() then train_model(): held once
            pass
        assert (run / LOCK_NAME).exists()
    assert not run.exists()  # the lock file goes with the lock, the empty folder with the claim


def test_another_process_holding_the_folder_is_named(tmp_path):
    run = tmp_path / "run"
    code = textwrap.dedent(f"""
        import sys, time
        from cgalib.utils.outputs import RunLock
        with RunLock({str(run)!r}, "a training run"):
            print("held", flush=True)
            sys.stdin.read()
    """)
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(OutputError, match=rf"being written by a training run \(process "
                                              rf"{holder.pid}\); wait for it"):  # fmt: skip
            with claim_run_folder(run, resume=False):
                pass
    finally:
        holder.communicate("")
    with claim_run_folder(run, resume=False):  # released by its end
        pass


def test_an_unwritable_folder_is_refused_before_the_lock(tmp_path, monkeypatch):
    import cgalib.utils.outputs as outputs

    def probe(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(outputs, "open", probe, raising=False)
    with pytest.raises(OutputError, match=r"cannot write to run folder .*: read-only file system"):
        with claim_run_folder(tmp_path / "run", resume=False):
            pass


def test_a_run_refused_before_its_first_file_leaves_no_folder(tmp_path):
    with pytest.raises(ValueError, match="bad data"):
        with claim_run_folder(tmp_path / "run", resume=False):
            raise ValueError("bad data")
    assert not (tmp_path / "run").exists()
    (tmp_path / "kept").mkdir()
    with claim_run_folder(tmp_path / "kept", resume=False):
        pass
    assert (tmp_path / "kept").is_dir()  # a folder that was there stays
