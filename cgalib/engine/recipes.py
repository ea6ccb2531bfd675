"""Training recipes on the synthetic set: keyword arguments of [`cgalib.engine.train()`][cgalib.engine.train],
defined once for the demo, the GPU config and the ablation benchmark.

Each recipe is a read-only mapping; use it as ``train(model, data, out, **recipe)`` and
override single values with ``train(..., **{**recipe, "lr": 1e-3})``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from cgalib.data.synthetic import SYNTHETIC_AUGMENT

__all__ = ["CPU_DEMO_RECIPE", "DEMO_AUGMENT", "SYNTHETIC_GPU_RECIPE"]

DEMO_AUGMENT: Mapping[str, Any] = MappingProxyType(
    {"scale": (0.8, 1.25), "rotation": 15.0, "translation": 16.0, **SYNTHETIC_AUGMENT}
)
"""Milder than the paper's recipe (scale 0.6-1.5, +-45 degrees, +-40 px): a few minutes of CPU
training learn far more from gently varied images than from the full augmentation. No flip
([`SYNTHETIC_AUGMENT`][cgalib.data.SYNTHETIC_AUGMENT]): with flips the demo model confused the ankles of
the colour-coded synthetic people (right-ankle error 0.15 of the person height, left 0.02)
and reached 0.19 AP in 14 epochs; without, 0.30.
"""

CPU_DEMO_RECIPE: Mapping[str, Any] = MappingProxyType(
    {
        "optimizer": "adamw",
        "lr": 3e-3,
        "batch_size": 16,
        "warmup_steps": 50,
        "channels_last": True,
        "num_workers": 1,
        "augment_kwargs": DEMO_AUGMENT,
    }
)
"""The CPU recipe of ``make demo`` (``cganet_tnet_d1w16`` at 192 px) and of the CPU ablation:
AdamW (the paper's SGD learns little in minutes), batch 16, channels-last convolutions
(about 20% faster on 2 cores), one loader worker, [`DEMO_AUGMENT`][DEMO_AUGMENT]."""

SYNTHETIC_GPU_RECIPE: Mapping[str, Any] = MappingProxyType(
    {
        "optimizer": "sgd",
        "lr": 2e-2,
        "batch_size": 32,
        "warmup_steps": 300,
        "amp": "bf16",
        "num_workers": 8,
        "augment_kwargs": SYNTHETIC_AUGMENT,
    }
)
"""The GPU recipe on the synthetic set (``configs/synthetic_gpu.py`` and the GPU ablation): the
paper's SGD schedule compressed to the run, bf16 autocast, the paper's augmentation without
flips. Not yet measured on a GPU."""
