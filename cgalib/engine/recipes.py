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
from cgalib.utils.machine import cpu_bf16

__all__ = ["CPU_DEMO_RECIPE", "DEMO_AUGMENT", "SCALES_AUGMENT", "SYNTHETIC_GPU_RECIPE", "for_this_cpu"]

DEMO_AUGMENT: Mapping[str, Any] = MappingProxyType(
    {"scale": (0.8, 1.25), "rotation": 15.0, "translation": 16.0, **SYNTHETIC_AUGMENT}
)
"""Milder than the paper's recipe (scale 0.6-1.5, +-45 degrees, +-40 px): a few minutes of CPU
training learn far more from gently varied images than from the full augmentation. No flip
([`SYNTHETIC_AUGMENT`][cgalib.data.SYNTHETIC_AUGMENT]): with flips the demo model confused the ankles of
the colour-coded synthetic people (right-ankle error 0.15 of the person height, left 0.02)
and reached 0.19 AP in 14 epochs; without, 0.30.
"""

SCALES_AUGMENT: Mapping[str, Any] = MappingProxyType({**DEMO_AUGMENT, "scale": (0.6, 1.6)})
"""[`DEMO_AUGMENT`][DEMO_AUGMENT] with a zoom of 0.6-1.6, for a model that must find people at
every scale it meets, not only those of its training pictures (the shipped checkpoint): on
training pictures of 192 px with people 24-182 px tall it shows people of about 15-290 px,
which covers 384-px pictures fed at their own size and 192-px ones at 192."""

CPU_DEMO_RECIPE: Mapping[str, Any] = MappingProxyType(
    {
        "optimizer": "adamw",
        "lr": 5e-3,
        "weight_decay": 0.05,
        "lr_milestones": (0.85, 0.95),
        "batch_size": 8,
        "warmup_steps": 50,
        "amp": "bf16",
        "ema_decay": 0.998,
        "channels_last": True,
        "num_workers": 1,
        "augment_kwargs": DEMO_AUGMENT,
    }
)
"""The CPU recipe of ``make demo`` (``cganet_tnet_d1w16`` at 192 px) and of the CPU ablation:
AdamW (the paper's SGD learns little in minutes) at 5e-3 with a weight decay of 0.05, the
rate dropping x0.1 at 85% and 95% of the run (the paper's drops come at 74% and 89%), batch 8,
bf16 autocast (on a CPU with native bf16; [`for_this_cpu()`][for_this_cpu] drops it
elsewhere), a moving average of the weights saved as the model, channels-last convolutions,
one loader worker, [`DEMO_AUGMENT`][DEMO_AUGMENT].

Each choice was measured at equal wall time by ``benchmarks/demo_levers.py`` (the table on
the benchmarks page): against the recipe before (fp32, batch 16, no average) bf16 trains
more steps in the same minutes, the average, the smaller batch and the higher rate score
higher; a cosine decay scored lower than the paper's steps. The weight decay and the later
drops were measured at equal steps by ``benchmarks/demo_steps.py`` (the steps table of the
benchmarks page), each on two seeds at 3000 steps: a weight decay of 0.05 scored above
[`train()`][cgalib.engine.train]'s default of 1e-4 on both (0.1 no higher than 0.05), and
the drops at 0.85 and 0.95 above the paper's on top of it, on both. Figures measured with
"the demo's recipe" before the levers (the ablation, decoding and top-down pages) used
``benchmarks/demo_levers.py``'s ``BEFORE``; those measured before the weight decay and the
drops (the shipped checkpoint, the segmentation table, the ROIguider widths, the demo runs
recorded before) used this recipe with a weight decay of 1e-4 and the paper's drops.
"""


def for_this_cpu(recipe: Mapping[str, Any]) -> dict[str, Any]:
    """A CPU recipe with bf16 autocast only where the CPU computes bf16 natively.

    On a CPU without AVX-512 bf16 or AMX ([`cpu_bf16()`][cgalib.utils.cpu_bf16]) bf16 is
    emulated and slower than fp32, so ``amp`` is dropped there.

    Args:
        recipe: ``train()`` keyword arguments.

    Returns:
        A copy, with ``amp=None`` on a CPU without native bf16.

    Example:
        >>> for_this_cpu({"amp": "bf16", "lr": 1.0})["lr"]
        1.0
    """
    own = dict(recipe)
    if own.get("amp") == "bf16" and cpu_bf16() is None:
        own["amp"] = None
    return own


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
