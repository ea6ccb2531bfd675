"""Reference models composed from the blocks, and checkpoints that know their architecture."""

from cgalib.models.cganet import (
    LOSS_WEIGHTS,
    CGANet,
    cganet_tnet_d1w16,
    cganet_tnet_d1w64,
    cganet_tnet_d1w64_cascade,
    cganet_tnet_d1w64_roipointer,
    cganet_tnet_d3w96,
)
from cgalib.models.checkpoint import atomic_save, load_model, load_weights, save_model

__all__ = [
    "LOSS_WEIGHTS",
    "CGANet",
    "atomic_save",
    "cganet_tnet_d1w16",
    "cganet_tnet_d1w64",
    "cganet_tnet_d1w64_cascade",
    "cganet_tnet_d1w64_roipointer",
    "cganet_tnet_d3w96",
    "load_model",
    "load_weights",
    "save_model",
]
