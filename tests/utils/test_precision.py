"""Precision names: their dtypes, autocast to them, and unknown names."""

from __future__ import annotations

import contextlib

import pytest
import torch

from cgalib.utils.precision import PRECISIONS, autocast, precision_dtype


def test_each_name_has_its_dtype_full_precision_first():
    assert PRECISIONS[0] == "fp32"
    assert [precision_dtype(p) for p in PRECISIONS] == [torch.float32, torch.bfloat16, torch.float16]


@pytest.mark.parametrize("bad", ["fp64", "FP32", "", None, 16])
def test_unknown_names_are_refused_listing_the_known_ones(bad):
    with pytest.raises(ValueError, match=r"precision must be one of \('fp32', 'bf16', 'fp16'\)"):
        precision_dtype(bad)
    with pytest.raises(ValueError, match="precision must be one of"):
        autocast("cpu", bad)


def test_fp32_is_no_autocast():
    ctx = autocast("cpu", "fp32")
    assert isinstance(ctx, contextlib.nullcontext)
    with ctx:
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32


def test_bf16_autocasts_matrix_products_on_the_device_type():
    with autocast(torch.device("cpu"), "bf16"):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16
    assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32  # only inside
    ctx = autocast("cpu", "bf16", cache_enabled=False)
    assert isinstance(ctx, torch.autocast) and ctx.fast_dtype == torch.bfloat16
    assert ctx.device == "cpu" and ctx._cache_enabled is False
