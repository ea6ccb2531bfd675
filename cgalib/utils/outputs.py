"""The output contract: where results go is checked before the work, claimed by one run at
a time, and never read back as an input.

- [`check_writable()`][check_writable]: an output folder (or the folder of an output file) is
  created if missing and must accept a file, checked by writing one, before any work
  starts; a read-only or full place is one line naming it, not an error after an hour
  of training or a whole split predicted.
- [`RunLock`][RunLock]: one process at a time writes a run folder; a second one is refused
  with the first one's process id, instead of interleaving ``metrics.csv`` rows and
  saving over its checkpoints. The lock is the kernel's (``flock``), so a killed run
  leaves no stale claim.
- [`is_inside()`][is_inside]: whether a path lies in an output folder, so that a folder of
  inputs does not list what an earlier run wrote into it.
- [`check_not_an_input()`][check_not_an_input]: an output file is never one of the
  command's inputs (``cgalib eval --out model.pt`` would replace the weights it scores).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

__all__ = [
    "LOCK_NAME",
    "OutputError",
    "RunLock",
    "check_not_an_input",
    "check_writable",
    "describe_os_error",
    "is_inside",
]

LOCK_NAME = ".cgalib.lock"
"""The file in a run folder that [`RunLock`][RunLock] holds."""


class OutputError(OSError):
    """An output place that cannot be written, or that another run holds (one line)."""


def describe_os_error(err: OSError) -> str:
    """A short reason for an ``OSError`` of writing: ``no space left on the device``,
    ``permission denied``, ``read-only file system``, ... (else its own text).

    Examples:
        >>> describe_os_error(OSError(errno.ENOSPC, "No space left on device"))
        'no space left on the device'
    """
    reasons = {
        errno.ENOSPC: "no space left on the device",
        errno.EDQUOT: "the disk quota is exceeded",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EROFS: "read-only file system",
    }
    return reasons.get(err.errno, err.strerror or str(err))


def check_writable(folder: str | os.PathLike, what: str = "output folder") -> Path:
    """Create ``folder`` if missing and check that a file can be written in it.

    Args:
        folder: the folder that will receive outputs.
        what: how the message names it (e.g. ``"--out"``).

    Returns:
        The folder as a ``Path``.

    Raises:
        OutputError: (an ``OSError``) one line naming the folder and the reason: it is a
            file, it cannot be created, or a file cannot be written in it.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     check_writable(Path(d) / "new" / "run").is_dir()
        True
    """
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{what} {path} is a file; give a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".cgalib-write-check-{os.getpid()}"
        with open(probe, "wb") as f:
            f.write(b"\0")
        probe.unlink()
    except OSError as err:
        raise OutputError(
            f"cannot write to {what} {path}: {describe_os_error(err)}; choose another folder "
            "(nothing was computed yet)"
        ) from None
    return path


def is_inside(path: str | os.PathLike, folder: str | os.PathLike) -> bool:
    """Whether ``path`` is ``folder`` or lies below it (both resolved).

    Examples:
        >>> is_inside("out/a/b.png", "out"), is_inside("photos/x.jpg", "out")
        (True, False)
    """
    path, folder = Path(path).resolve(), Path(folder).resolve()
    return path == folder or folder in path.parents


def check_not_an_input(
    out: str | os.PathLike,
    inputs: Mapping[str, str | os.PathLike | None],
    what: str = "--out",
) -> None:
    """Refuse an output file that is one of the work's input files.

    The same file is recognised through another spelling, a symbolic or a hard link.

    Args:
        out: the file the work will write.
        inputs: how the message names each input (e.g. ``"--checkpoint"``) and its path;
            ``None`` entries and paths that are not existing files are ignored.
        what: how the message names ``out``.

    Raises:
        OutputError: one line naming both and saying that nothing was written.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     model = Path(d) / "model.pt"
        ...     _ = model.write_bytes(b"weights")
        ...     check_not_an_input(Path(d) / "results.json", {"--checkpoint": model})
        ...     try:
        ...         check_not_an_input(Path(d) / "." / "model.pt", {"--checkpoint": model})
        ...     except OutputError as err:
        ...         print(str(err).split(";")[0].replace(d, "D"))
        --out D/model.pt is the --checkpoint file
    """
    target = Path(out)
    if not target.is_file():
        return
    for name, path in inputs.items():
        if path is None or not Path(path).is_file():
            continue
        if os.path.samefile(target, path):
            raise OutputError(
                f"{what} {os.path.normpath(target)} is the {name} file; writing there would "
                "replace it: choose another path (nothing was written)"
            )


class RunLock(contextlib.AbstractContextManager):
    """Hold a run folder for this process: ``with RunLock(folder): ...``.

    A second process (or a second lock in this one) asking for the same folder while it is
    held is refused at once. The claim is an ``flock`` on ``folder/.cgalib.lock``, which
    keeps the holder's process id for the message and is removed when the lock is
    released. The kernel drops the claim when the process ends, however it ends, so the
    file a killed run leaves (or one copied with a run folder from another machine) never
    blocks a later run. Where ``flock`` is unavailable (not POSIX) the lock holds nothing;
    where the file system refuses locks (some network mounts) a warning says that nothing
    stops a second run.

    Args:
        folder: the run folder (created if missing).
        what: how the message names the work (e.g. ``"a training run"``).

    Raises:
        OutputError: when another process holds the folder, naming its process id, or
            when the lock file cannot be written.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     with RunLock(d, "a training run"):
        ...         held = sorted(p.name for p in Path(d).iterdir())
        ...     held, sorted(p.name for p in Path(d).iterdir())
        (['.cgalib.lock'], [])
    """

    def __init__(self, folder: str | os.PathLike, what: str = "a cgalib run") -> None:
        self.folder = Path(folder)
        self.what = what
        self._file = None

    @property
    def path(self) -> Path:
        """The lock file, ``folder/.cgalib.lock``."""
        return self.folder / LOCK_NAME

    def __enter__(self) -> RunLock:
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock
            return self
        for _ in range(100):  # a holder that releases removes the file: lock the new one
            f = self._open()
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as err:
                f.seek(0)
                holder = f.read().strip() or "another process"
                f.close()
                if err.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                    warnings.warn(
                        f"cannot lock {self.folder} ({describe_os_error(err)}: the file system "
                        "does not support locks); nothing stops a second run from writing "
                        "into it",
                        stacklevel=2,
                    )
                    return self
                raise OutputError(
                    f"{self.folder} is being written by {self.what} (process {holder}); wait "
                    "for it to end or write into another folder"
                ) from None
            if self._same_file(f):
                break
            f.close()
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        self._file = f
        return self

    def _open(self) -> io.TextIOWrapper:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            return open(self.path, "a+")  # noqa: SIM115 (held until __exit__)
        except OSError as err:
            raise OutputError(
                f"cannot write to {self.folder}: {describe_os_error(err)}; choose another folder"
            ) from None

    def _same_file(self, f: io.TextIOWrapper) -> bool:
        """Whether the locked file is still the one at ``path`` (not removed meanwhile)."""
        try:
            return os.stat(self.path).st_ino == os.fstat(f.fileno()).st_ino
        except FileNotFoundError:
            return False

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()  # still held: no other process has this file locked
            self._file.close()  # closing the file releases the flock
            self._file = None
