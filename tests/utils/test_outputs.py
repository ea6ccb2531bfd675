"""The output contract: writability checked before work, one run per folder, outputs told
apart from inputs."""

from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest

from cgalib.utils.outputs import (
    LOCK_NAME,
    OutputError,
    RunLock,
    check_not_an_input,
    check_writable,
    describe_os_error,
    is_inside,
)


def test_check_writable_creates_and_probes(tmp_path):
    folder = check_writable(tmp_path / "a" / "b")
    assert folder.is_dir() and list(folder.iterdir()) == []  # the probe is gone


def test_a_file_where_a_folder_belongs(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match=r"output folder .*f is a file; give a folder"):
        check_writable(tmp_path / "f")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_refused_before_the_work(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="permission denied; choose another folder"):
            check_writable(folder, "--out")
    finally:
        folder.chmod(0o700)


def test_describe_os_error():
    assert describe_os_error(OSError(errno.EROFS, "x")) == "read-only file system"
    assert describe_os_error(OSError(errno.ENOENT, "No such file")) == "No such file"


def test_is_inside(tmp_path):
    assert is_inside(tmp_path / "out" / "x.png", tmp_path / "out")
    assert is_inside(tmp_path / "out", tmp_path / "out")
    assert not is_inside(tmp_path / "outer.png", tmp_path / "out")


def test_one_run_per_folder_and_the_lock_is_released(tmp_path):
    with RunLock(tmp_path / "run", "a training run"):
        assert (tmp_path / "run" / LOCK_NAME).read_text() == str(os.getpid())
        with pytest.raises(OutputError, match=rf"being written by a training run \(process "
                                              rf"{os.getpid()}\)"):  # fmt: skip
            RunLock(tmp_path / "run", "a training run").__enter__()
    with RunLock(tmp_path / "run"):  # free again
        pass


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    """The kernel drops the flock of a process that dies, however it dies."""
    code = (
        "import os, sys; from cgalib.utils.outputs import RunLock; "
        f"RunLock({str(tmp_path)!r}).__enter__(); os._exit(9)"
    )
    subprocess.run([sys.executable, "-c", code], check=False)
    with RunLock(tmp_path):
        pass


def test_the_lock_file_goes_with_the_lock(tmp_path):
    with RunLock(tmp_path):
        assert (tmp_path / LOCK_NAME).is_file()
    assert list(tmp_path.iterdir()) == []


def test_a_lock_file_left_by_a_killed_run_or_copied_in_blocks_nothing(tmp_path):
    (tmp_path / LOCK_NAME).write_text("4194000")  # a process id from another machine
    with RunLock(tmp_path):
        assert (tmp_path / LOCK_NAME).read_text() == str(os.getpid())


def test_a_file_system_without_locks_is_a_warning_not_a_refusal(tmp_path, monkeypatch):
    import fcntl

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with pytest.warns(UserWarning, match=r"cannot lock .*nothing stops a second run"):
        with RunLock(tmp_path):
            pass


def test_a_lock_released_while_waiting_is_taken_on_the_new_file(tmp_path, monkeypatch):
    """The holder removes the lock file as it releases it: a process that opened the old file
    and locks it afterwards must lock the file that is there now."""
    import fcntl

    real = fcntl.flock
    calls = []

    def flock(fd, operation):
        calls.append(fd)
        if len(calls) == 1:  # the holder ends between our open and our flock
            (tmp_path / LOCK_NAME).unlink()
        return real(fd, operation)

    (tmp_path / LOCK_NAME).write_text("1")
    monkeypatch.setattr(fcntl, "flock", flock)
    with RunLock(tmp_path) as lock:
        assert len(calls) == 2 and (tmp_path / LOCK_NAME).read_text() == str(os.getpid())
        assert os.fstat(lock._file.fileno()).st_ino == os.stat(tmp_path / LOCK_NAME).st_ino


def test_check_writable_names_a_full_disk(tmp_path, monkeypatch):
    import builtins

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(builtins, "open", full)
    with pytest.raises(OutputError, match=r"cannot write to --out folder .*: no space left on the "
                                          r"device; choose another folder"):  # fmt: skip
        check_writable(tmp_path, "--out folder")


def test_an_output_is_never_an_input(tmp_path):
    model = tmp_path / "model.pt"
    model.write_bytes(b"weights")
    (tmp_path / "hard.pt").hardlink_to(model)
    (tmp_path / "soft.pt").symlink_to(model)
    for spelling in (model, tmp_path / "sub" / ".." / "model.pt", tmp_path / "hard.pt",
                     tmp_path / "soft.pt"):  # fmt: skip
        (tmp_path / "sub").mkdir(exist_ok=True)
        with pytest.raises(OutputError, match=r"^--out .* is the --checkpoint file; writing"):
            check_not_an_input(spelling, {"--checkpoint": model, "--boxes": None})
    other = tmp_path / "other.pt"
    other.write_bytes(b"weights")  # the same bytes, another file
    check_not_an_input(other, {"--checkpoint": model})
    check_not_an_input(tmp_path / "new.json", {"--checkpoint": model})  # not there yet
    check_not_an_input(model, {"--boxes": "gt", "--ann": tmp_path / "missing.json"})
