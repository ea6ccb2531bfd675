"""A model's batched inference captured once in a CUDA graph (``Predictor(compile="cuda_graphs")``)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import torch
from torch import nn

__all__ = ["GraphedPredictBatch"]


class GraphedPredictBatch:
    """``model.predict_batch`` captured once in a CUDA graph for one static input shape.

    Calling it copies the batch into the static input, replays the graph and returns the
    static outputs, which the next call overwrites (copy them out before calling again).

    Args:
        model: the pose model (its eval ``predict_batch`` must not synchronise with the host).
        example: an input of the static shape, on the CUDA device.
        autocast: ``autocast(cache_enabled)`` returning the precision's context manager.
        warmup: eager runs on a side stream before the capture.
    """

    def __init__(
        self,
        model: nn.Module,
        example: torch.Tensor,
        autocast: Callable[[bool], AbstractContextManager],
        warmup: int = 3,
    ) -> None:
        self.shape = tuple(example.shape)
        self.input = example.clone()
        # warm up on a side stream (lazy initialisation, cuDNN algorithm choice), then
        # capture; autocast's weight cache must be off during capture
        stream = torch.cuda.Stream(example.device)
        stream.wait_stream(torch.cuda.current_stream(example.device))
        with torch.cuda.stream(stream), autocast(False):
            for _ in range(warmup):
                model.predict_batch(self.input)
        torch.cuda.current_stream(example.device).wait_stream(stream)
        self.graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(self.graph), autocast(False):
                self.output = model.predict_batch(self.input)
        except RuntimeError as err:
            raise RuntimeError(
                "compile='cuda_graphs' could not capture the model's predict_batch in a CUDA "
                "graph; it must not synchronise with the host (.item(), .tolist(), .cpu(), "
                "shapes that depend on values). Use compile=True or False instead."
            ) from err

    def __call__(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        if tuple(batch.shape) != self.shape:
            raise ValueError(
                f"the CUDA graph was captured for {self.shape}, got {tuple(batch.shape)}"
            )
        self.input.copy_(batch)
        self.graph.replay()
        return self.output
