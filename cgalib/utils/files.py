"""Write files so that an interruption never leaves a truncated one behind, and a failed
write is one line that says why and what was kept.

[`atomic_open()`][atomic_open] writes a temporary file beside the target and renames it over
the target on success. The temporary file is named after the target and the writing
process, ``.model.pt.cgalib-partial.<pid>.<random>.<host>.tmp``: a process killed while
writing (``kill -9``, the out-of-memory killer) leaves it behind, and the next
``atomic_open`` of that process's folder removes it once no process of that id runs on this
host. A write that fails (a full disk, a read-only file system, a quota) raises one
[`OutputError`][cgalib.utils.outputs.OutputError] line naming the file, the reason, and that the
previous file is intact.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from cgalib.utils.outputs import OutputError, describe_os_error

__all__ = ["TEMP_MARK", "atomic_open", "temp_name"]

TEMP_MARK = "cgalib-partial"
"""The mark in the name of [`atomic_open()`][atomic_open]'s temporary files."""

_TEMP = re.compile(rf"\.{TEMP_MARK}\.(\d+)\.[0-9a-f]{{8}}\.([A-Za-z0-9-]*)\.tmp$")
_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_SWEPT: set[str] = set()  # folders whose stale temporary files this process removed


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40]


def temp_name(name: str) -> str:
    """The name of a temporary file of [`atomic_open()`][atomic_open] for the file ``name``:
    hidden, with the writer's process id and host.

    Examples:
        >>> temp_name("model.pt").startswith(f".model.pt.cgalib-partial.{os.getpid()}.")
        True
    """
    return f".{name}.{TEMP_MARK}.{os.getpid()}.{secrets.token_hex(4)}.{_host()}.tmp"


def _running(pid: int) -> bool:
    """Whether a process ``pid`` runs on this host (POSIX; a zombie counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process
        return True
    return True


def _remove_stale_temps(folder: Path) -> None:
    """Remove the temporary files of writers that are gone, once per folder and process."""
    key = os.path.abspath(folder)
    if key in _SWEPT or os.name != "posix":  # os.kill(pid, 0) would signal on Windows
        return
    _SWEPT.add(key)
    host = _host()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if not (name.startswith(".") and name.endswith(".tmp")):
            continue
        found = _TEMP.search(name)
        if found is None:
            continue
        pid = int(found[1])
        if found[2] == host and pid != os.getpid() and not _running(pid):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def _write_error(exc: BaseException, tmp: Path) -> OSError | None:
    """The ``OSError`` of writing ``tmp`` behind ``exc`` (itself, or what it was raised
    from, e.g. torch's ``unexpected pos`` after a full disk), else ``None``."""
    if not isinstance(exc, Exception):  # Ctrl-C, SystemExit: never reworded
        return None
    seen: set[int] = set()
    err: BaseException | None = exc
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, OSError) and err.errno is not None:
            name = err.filename
            if name is None or (
                isinstance(name, (str, os.PathLike)) and os.fspath(name) == os.fspath(tmp)
            ):
                return err
        err = err.__cause__ or err.__context__
    return None


def _failure(path: Path, err: OSError, existed: bool) -> str:
    kept = "the previous file is intact (nothing lost)" if existed else "no partial file is left"
    todo = "; free some space and try again" if err.errno in _FULL else ""
    return f"cannot write {path}: {describe_os_error(err)}; {kept}{todo}"


def _folder_problem(path: Path, err: OSError) -> str:
    """Why the folder of ``path`` cannot be made: a file in its way, or the OS's reason."""
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                return f"{parent} is a file, not a folder"
            break
    return describe_os_error(err)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs: Any) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success it replaces ``path`` in one rename.

    If the block raises (or the process is interrupted), ``path`` keeps its old content
    (or stays absent) and the temporary file is removed; a process killed outright leaves
    its temporary file, which a later ``atomic_open`` in that folder removes (see the module
    notes). The file is created with ``open(..., "x")``, so its permissions follow the umask
    (``-rw-r--r--`` under the usual 022, not the ``-rw-------`` of ``tempfile.mkstemp``);
    after the rename the folder is synced too where the file system allows it, so the rename
    itself survives a crash.

    Args:
        path: the file to write; its folder is created if missing.
        mode: ``"w"`` (text) or ``"wb"`` (bytes).
        **kwargs: passed to ``open`` (e.g. ``encoding``).

    Yields:
        The open temporary file.

    Raises:
        ValueError: for a mode other than ``"w"`` or ``"wb"``.
        OutputError: (an ``OSError``) one line naming ``path``: it is a folder; its folder
            cannot be made; or writing failed (no space left on the device, a read-only
            file system, permission denied, ...: any ``OSError`` of the temporary file,
            also one behind another error, such as torch's ``unexpected pos`` after a full
            disk), saying that the previous file is intact.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     with atomic_open(f"{d}/out.json") as f:
        ...         _ = f.write("[]")
        ...     Path(f"{d}/out.json").read_text()
        '[]'
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes whole files: mode 'w' or 'wb', got {mode!r}")
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path} is a folder; give the file to write")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(
            f"cannot write {path}: {_folder_problem(path, err)}; nothing was written"
        ) from None
    _remove_stale_temps(path.parent)
    existed = path.exists()
    tmp = path.with_name(temp_name(path.name))
    try:
        f = open(tmp, mode.replace("w", "x"), **kwargs)  # noqa: SIM115 (closed below)
    except OSError as err:
        raise OutputError(_failure(path, err, existed)) from None
    try:
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        err = _write_error(exc, tmp)
        if err is None:
            raise
        raise OutputError(_failure(path, err, existed)) from exc
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """fsync a folder (makes a rename in it durable); not every file system allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
