"""Write files so that an interruption never leaves a truncated one behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_open"]


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs: Any) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success it replaces ``path`` in one rename.

    If the block raises (or the process is interrupted), ``path`` keeps its old content
    (or stays absent) and the temporary file is removed.

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
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
