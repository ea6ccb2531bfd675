"""Write files so that an interruption never leaves a truncated one behind."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_open"]


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs: Any) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success it replaces ``path`` in one rename.

    If the block raises (or the process is interrupted), ``path`` keeps its old content
    (or stays absent) and the temporary file is removed. The file is created with
    ``open(..., "x")``, so its permissions follow the umask (``-rw-r--r--`` under the usual
    022, not the ``-rw-------`` of ``tempfile.mkstemp``); after the rename the folder is
    synced too where the file system allows it, so the rename itself survives a crash.

    Args:
        path: the file to write; its folder is created if missing.
        mode: ``"w"`` (text) or ``"wb"`` (bytes).
        **kwargs: passed to ``open`` (e.g. ``encoding``).

    Yields:
        The open temporary file.

    Raises:
        ValueError: for a mode other than ``"w"`` or ``"wb"``.

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
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, mode.replace("w", "x"), **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
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
