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
