"""Helpers for ``torchrun``: process-group set-up from the environment, rank checks, and the
collective calls that keep every process's decisions alike."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

__all__ = [
    "DistributedContext",
    "agree",
    "cleanup_distributed",
    "gather",
    "init_distributed",
    "rank0_value",
]


@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands in a (possibly single-process) run.

    Attributes:
        rank: global rank.
        world_size: number of processes.
        local_rank: rank on this node (selects the CUDA device).
        device: the device this process trains on.
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_distributed(self) -> bool:
        """True when more than one process takes part."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """True on rank 0, which logs and writes checkpoints."""
        return self.rank == 0


def init_distributed(device: str | None = None) -> DistributedContext:
    """Join the process group that ``torchrun`` describes in the environment, if any.

    ``torchrun`` sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``; without them this is a
    single-process run. The backend is NCCL on CUDA and gloo on the CPU.

    Args:
        device: ``"cuda"``, ``"cpu"`` or ``None`` (CUDA when available).

    Returns:
        The context of this process.
    """
    want = device or ("cuda" if torch.cuda.is_available() else "cpu")
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if want.startswith("cuda"):
        if not torch.cuda.is_available():
            raise RuntimeError("device 'cuda' was asked for but no CUDA GPU is available")
        dev = torch.device("cuda", local_rank if world_size > 1 else torch.device(want).index or 0)
        torch.cuda.set_device(dev)
    else:
        dev = torch.device(want)
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    return DistributedContext(rank, world_size, local_rank, dev)


def cleanup_distributed() -> None:
    """Leave the process group if one was joined."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def gather(ctx: DistributedContext, obj: Any) -> list[Any]:
    """``obj`` of every rank, in rank order (a collective call under ``torchrun``).

    Args:
        ctx: this process's place in the run.
        obj: any picklable value of this rank.

    Returns:
        One value per rank; ``[obj]`` in a single-process run.

    Example:
        >>> gather(DistributedContext(), {"step": 3})
        [{'step': 3}]
    """
    if not ctx.is_distributed:
        return [obj]
    objs: list[Any] = [None] * ctx.world_size
    dist.all_gather_object(objs, obj)
    return objs


def rank0_value(ctx: DistributedContext, value: float) -> float:
    """Rank 0's ``value`` (e.g. its clock), broadcast so that every rank uses the same number.

    A collective call under ``torchrun``: every rank makes it at the same point.

    Args:
        ctx: this process's place in the run.
        value: this rank's number.

    Returns:
        Rank 0's number; ``value`` itself in a single-process run.

    Example:
        >>> rank0_value(DistributedContext(), 2.5)
        2.5
    """
    if not ctx.is_distributed:
        return value
    return _from_rank0(ctx, [value])[0]


def agree(ctx: DistributedContext, flags: list[bool]) -> list[bool]:
    """Rank 0's decisions (its clock, its loss guard), broadcast so that every rank acts alike.

    A collective call under ``torchrun``: every rank makes it at the same point, with as
    many flags.

    Args:
        ctx: this process's place in the run.
        flags: this rank's decisions.

    Returns:
        Rank 0's decisions; ``flags`` itself in a single-process run.

    Example:
        >>> agree(DistributedContext(), [True, False])
        [True, False]
    """
    if not ctx.is_distributed:
        return flags
    return [bool(v) for v in _from_rank0(ctx, [float(f) for f in flags])]


def _from_rank0(ctx: DistributedContext, values: list[float]) -> list[float]:
    """Rank 0's ``values``, broadcast to every rank (a collective call)."""
    t = torch.tensor(values, dtype=torch.float64, device=ctx.device)
    dist.broadcast(t, src=0)
    return t.tolist()
