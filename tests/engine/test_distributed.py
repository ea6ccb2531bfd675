"""The torchrun helpers: the context of a single process, and the collectives across two
gloo processes (every rank gets every rank's object, and rank 0's numbers and decisions)."""

from __future__ import annotations

import json
import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from cgalib.engine.distributed import (
    DistributedContext,
    agree,
    cleanup_distributed,
    gather,
    init_distributed,
    rank0_value,
)


def test_the_default_context_is_one_process_on_the_cpu():
    ctx = DistributedContext()
    assert (ctx.rank, ctx.world_size, ctx.local_rank, ctx.device) == (0, 1, 0, torch.device("cpu"))
    assert ctx.is_main and not ctx.is_distributed
    other = DistributedContext(rank=2, world_size=4, local_rank=0)
    assert other.is_distributed and not other.is_main


def test_without_torchrun_variables_init_is_a_single_process(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    ctx = init_distributed("cpu")
    assert ctx == DistributedContext() and not dist.is_initialized()
    cleanup_distributed()  # nothing joined: nothing to leave


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message of a CPU machine")
def test_cuda_without_a_gpu_is_one_clear_error():
    with pytest.raises(RuntimeError, match="device 'cuda' was asked for but no CUDA GPU"):
        init_distributed("cuda")


def test_one_process_keeps_its_own_values():
    ctx = DistributedContext()
    assert gather(ctx, {"a": 1}) == [{"a": 1}]
    assert rank0_value(ctx, 1.25) == 1.25
    flags = [True, False]
    assert agree(ctx, flags) is flags


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank, world, port, out):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world), LOCAL_RANK=str(rank))  # fmt: skip
    ctx = init_distributed("cpu")
    result = {
        "context": [ctx.rank, ctx.world_size, ctx.local_rank, ctx.is_main],
        "gather": gather(ctx, {"rank": rank, "name": f"r{rank}"}),
        "value": rank0_value(ctx, 10.0 + rank),
        "flags": agree(ctx, [rank == 0, rank == 1, True]),
    }
    dist.barrier()
    cleanup_distributed()
    result["left"] = not dist.is_initialized()
    with open(os.path.join(out, f"rank{rank}.json"), "w") as f:
        json.dump(result, f)


def test_two_gloo_ranks_share_objects_and_follow_rank_0(tmp_path):
    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    results = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["context"] for r in results] == [[0, 2, 0, True], [1, 2, 1, False]]
    for r in results:
        assert r["gather"] == [{"rank": 0, "name": "r0"}, {"rank": 1, "name": "r1"}]
        assert r["value"] == 10.0  # rank 0's, on both
        assert r["flags"] == [True, False, True]  # rank 0's decisions, on both
        assert r["left"]
