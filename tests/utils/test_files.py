import errno
import os
import shutil
import subprocess
import sys

import pytest

from cgalib.utils import atomic_open, files
from cgalib.utils.files import TEMP_MARK, temp_name
from cgalib.utils.outputs import OutputError


def test_atomic_open_replaces_only_on_success(tmp_path):
    path = tmp_path / "sub" / "out.json"
    with atomic_open(path) as f:
        f.write("old")
    with pytest.raises(RuntimeError), atomic_open(path) as f:
        f.write("half of the new")
        raise RuntimeError("interrupted")
    assert path.read_text() == "old"
    assert [p.name for p in path.parent.iterdir()] == ["out.json"]  # no temporary left
    with atomic_open(path, "wb") as f:
        f.write(b"new")
    assert path.read_bytes() == b"new"
    with pytest.raises(ValueError, match="mode 'w' or 'wb'"), atomic_open(path, "a"):
        pass


def test_the_temporary_file_names_the_file_its_process_and_host():
    name = temp_name("last.pt")
    assert name.startswith(f".last.pt.{TEMP_MARK}.{os.getpid()}.") and name.endswith(".tmp")
    assert files._TEMP.search(name)[2] == files._host()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_temporary_files_of_gone_writers_are_removed(tmp_path):
    host = files._host()
    gone = tmp_path / f".model.pt.{TEMP_MARK}.{_dead_pid()}.0123abcd.{host}.tmp"
    running = tmp_path / f".model.pt.{TEMP_MARK}.{os.getppid()}.0123abcd.{host}.tmp"
    elsewhere = tmp_path / f".model.pt.{TEMP_MARK}.{_dead_pid()}.0123abcd.other-host.tmp"
    mine = tmp_path / "notes.1.0123abcd.tmp"  # not ours: never touched
    for p in (gone, running, elsewhere, mine):
        p.touch()
    with atomic_open(tmp_path / "metrics.csv") as f:  # any file of the folder sweeps it
        f.write("step\n")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([running.name, elsewhere.name, mine.name, "metrics.csv"])


def test_a_folder_is_not_a_file(tmp_path):
    with pytest.raises(OutputError, match=f"^{tmp_path} is a folder; give the file to write$"):
        with atomic_open(tmp_path):
            pass
    (tmp_path / "runs").write_text("")
    with pytest.raises(OutputError, match=r"runs/x/a.json: .*runs is a file, not a folder; "
                       "nothing was written"):  # fmt: skip
        with atomic_open(tmp_path / "runs" / "x" / "a.json"):
            pass


def test_a_file_that_cannot_be_created_is_one_line(tmp_path, monkeypatch):
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(args[0]))

    monkeypatch.setattr(files, "open", read_only, raising=False)
    with pytest.raises(OutputError) as err:
        with atomic_open(tmp_path / "out.json"):
            pass
    assert str(err.value) == (
        f"cannot write {tmp_path / 'out.json'}: read-only file system; no partial file is left"
    )


def test_other_errors_of_the_block_pass_through(tmp_path):
    missing = tmp_path / "input.json"
    with pytest.raises(FileNotFoundError), atomic_open(tmp_path / "out.json") as f:
        f.write(missing.read_text())  # an input's error, not the output's
    with pytest.raises(KeyboardInterrupt), atomic_open(tmp_path / "out.json"):
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError:
            raise KeyboardInterrupt from None
    assert list(tmp_path.iterdir()) == []


def test_a_really_full_disk(tmp_path):
    """On a 64 KiB tmpfs (needs root and mount; skipped elsewhere)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)],
                             capture_output=True)  # fmt: skip
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.decode().strip()}")
    try:
        with atomic_open(disk / "data.bin", "wb") as f:
            f.write(b"1" * 1000)
        with pytest.raises(OutputError) as err, atomic_open(disk / "data.bin", "wb") as f:
            f.write(b"2" * 200_000)
        assert str(err.value) == (
            f"cannot write {disk / 'data.bin'}: no space left on the device; the previous file "
            "is intact (nothing lost); free some space and try again"
        )
        assert (disk / "data.bin").read_bytes() == b"1" * 1000
        assert [p.name for p in disk.iterdir()] == ["data.bin"]
    finally:
        subprocess.run(["umount", str(disk)], check=False)
