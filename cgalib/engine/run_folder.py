"""The run folder of a training: checked before the work, held by one run at a time, and
continued or left alone, never mixed into.

[`claim_run_folder()`][claim_run_folder] does it all before anything is built: a resume needs
its ``last.pt``; the folder must accept a file
([`check_writable()`][cgalib.utils.outputs.check_writable]); one process at a time holds it
([`RunLock`][cgalib.utils.outputs.RunLock], for the whole run); a folder that holds a run is
continued (resume) or refused, and a lone ``metrics.csv`` set aside
([`prepare_run_folder()`][prepare_run_folder]). Under ``torchrun`` rank 0 checks and holds the
folder and every rank learns its verdict, so that a refused run stops on every rank.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from cgalib.engine.distributed import DistributedContext, agree
from cgalib.engine.state import LAST, METRICS, MODEL
from cgalib.utils.outputs import OutputError, RunLock, check_writable

__all__ = ["claim_run_folder", "prepare_run_folder"]

_claimed: dict[Path, int] = {}
"""The run folders this process holds, and the thread that claimed each."""


def _check_resumable(out: Path) -> None:
    if not (out / LAST).is_file():
        raise FileNotFoundError(
            f"cannot resume: no checkpoint {out / LAST} (the run wrote none yet); train "
            "without resume to start it"
        )


def prepare_run_folder(folder: str | os.PathLike, resume: bool, is_main: bool = True) -> None:
    """Check a run folder before anything is built: a run is continued (resume) or left
    alone, never mixed into.

    A ``metrics.csv`` alone (a run stopped before its first checkpoint) cannot be resumed;
    without ``resume`` it is renamed ``metrics.<n>.csv`` (by rank 0) and a new log begins.

    Args:
        folder: the run folder.
        resume: whether the run continues from its ``last.pt``.
        is_main: whether this process is rank 0 (the one that renames).

    Raises:
        FileNotFoundError: with ``resume``, when the folder holds no ``last.pt``.
        FileExistsError: without ``resume``, when the folder holds a ``last.pt`` or
            ``model.pt``.
    """
    out = Path(folder)
    if resume:
        _check_resumable(out)
        return
    found = [name for name in (LAST, MODEL) if (out / name).exists()]
    if found:
        raise FileExistsError(
            f"{out} already holds a training run ({', '.join(found)}); pass resume=True "
            "(--resume) to continue it, or train into another folder (or delete those files "
            "to start over)"
        )
    log = out / METRICS
    if is_main and log.exists():
        n = 1
        while (kept := out / f"metrics.{n}.csv").exists():
            n += 1
        log.rename(kept)
        print(
            f"note: {log} of an earlier run that wrote no checkpoint was renamed {kept.name}; "
            "this run starts a new log"
        )


@contextlib.contextmanager
def claim_run_folder(
    folder: str | os.PathLike, resume: bool, context: DistributedContext | None = None
) -> Iterator[Path]:
    """Hold a run folder for the block: checked, claimed by this run, prepared.

    In order: with ``resume`` the folder must hold a ``last.pt`` (nothing is created
    otherwise); rank 0 checks that a file can be written in the folder (creating it) and
    takes its [`RunLock`][cgalib.utils.outputs.RunLock], held until the block ends; then
    [`prepare_run_folder()`][prepare_run_folder]. A claim inside a claim of the same folder by
    the same thread (``train()`` claims before reading the data, ``train_model()`` again)
    holds nothing more. A folder the claim created is removed at the end if it is still
    empty (a run refused before its first file leaves nothing behind).

    Args:
        folder: the run folder.
        resume: whether the run continues from its ``last.pt``.
        context: the distributed context (default: a single process).

    Yields:
        The folder as a ``Path``.

    Raises:
        FileNotFoundError: with ``resume``, when the folder holds no ``last.pt``.
        OutputError: (an ``OSError``) when the folder cannot be written (naming the
            reason) or another process writes it (naming its process id); on the other
            ranks, that rank 0 could not claim it.
        FileExistsError: without ``resume``, when the folder already holds a run.
    """
    ctx = context or DistributedContext()
    out = Path(folder)
    key = out.resolve()
    if _claimed.get(key) == threading.get_ident():
        yield out
        return
    if resume:
        _check_resumable(out)
    lock, refused, created = None, None, not out.exists()
    if ctx.is_main:
        try:
            check_writable(out, "run folder")
            lock = RunLock(out, "a training run").__enter__()
        except OutputError as err:
            refused = err
    if agree(ctx, [refused is not None])[0]:
        raise refused or OutputError(
            f"rank 0 could not claim the run folder {out}; see its message"
        )
    _claimed[key] = threading.get_ident()
    try:
        prepare_run_folder(out, resume, ctx.is_main)
        yield out
    finally:
        del _claimed[key]
        if lock is not None:
            lock.__exit__(None, None, None)
        if created and ctx.is_main:  # a run refused before it wrote anything leaves no folder
            with contextlib.suppress(OSError):
                out.rmdir()  # only if empty
