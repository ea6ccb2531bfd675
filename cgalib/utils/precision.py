"""Numeric precision names (``"fp32"``, ``"bf16"``, ``"fp16"``), their dtypes and autocast."""

from __future__ import annotations

import contextlib
from typing import Literal

import torch

__all__ = ["PRECISIONS", "Precision", "autocast", "precision_dtype"]

Precision = Literal["fp32", "bf16", "fp16"]
"""A precision name, as the ``--precision``/``--amp`` options and ``Predictor`` take it."""

PRECISIONS: tuple[str, ...] = ("fp32", "bf16", "fp16")
"""Every precision name, full precision first."""

_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def precision_dtype(precision: str) -> torch.dtype:
    """The dtype of a precision name.

    Args:
        precision: one of [`PRECISIONS`][PRECISIONS].

    Raises:
        ValueError: naming the unknown precision and the known ones.

    Examples:
        >>> precision_dtype("bf16")
        torch.bfloat16
    """
    try:
        return _DTYPES[precision]
    except (KeyError, TypeError):
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}") from None


def autocast(
    device: str | torch.device, precision: str, cache_enabled: bool = True
) -> contextlib.AbstractContextManager:
    """``torch.autocast`` to the precision's dtype, or a null context for ``"fp32"``.

    Args:
        device: the device the autocast region runs on (its type selects the backend).
        precision: one of [`PRECISIONS`][PRECISIONS].
        cache_enabled: autocast's weight-cast cache (off while capturing CUDA graphs).

    Examples:
        >>> with autocast("cpu", "bf16"):
        ...     (torch.ones(2, 2) @ torch.ones(2, 2)).dtype
        torch.bfloat16
    """
    dtype = precision_dtype(precision)
    if dtype == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=dtype, cache_enabled=cache_enabled)
