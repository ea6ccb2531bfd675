"""Reference models composed from the blocks (the single-model CGANet, the top-down
TopDownPose), the model contract every caller reads ([`PoseModel`][PoseModel],
[`InputRule`][InputRule]), their registered builders, variants, checkpoints that know their
architecture and the checkpoints shipped with cgalib
([`list_pretrained()`][list_pretrained]). Importing this package registers every builder
(backbones included)."""

import cgalib.backbones  # noqa: F401  (registers the backbone builders)
from cgalib.models.cganet import (
    LOSS_WEIGHTS,
    CGANet,
    cganet_tnet_d1w16,
    cganet_tnet_d1w16_seg,
    cganet_tnet_d1w64,
    cganet_tnet_d1w64_cascade,
    cganet_tnet_d1w64_roipointer,
    cganet_tnet_d1w64_seg,
    cganet_tnet_d3w96,
)
from cgalib.models.checkpoint import (
    CheckpointError,
    atomic_save,
    load_checkpoint,
    load_model,
    load_state,
    load_weights,
    save_model,
    trained_on,
)
from cgalib.models.contract import (
    PREDICTIONS,
    InputRule,
    PoseModel,
    check_outputs,
    check_pose_model,
)
from cgalib.models.pretrained import PRETRAINED, list_pretrained, pretrained_info
from cgalib.models.top_down import (
    TopDownPose,
    topdown_tnet_d1w16,
    topdown_tnet_d3w64,
    topdown_tnet_d3w96,
)
from cgalib.models.variants import create_variant

__all__ = [
    "LOSS_WEIGHTS",
    "PREDICTIONS",
    "PRETRAINED",
    "CGANet",
    "CheckpointError",
    "InputRule",
    "PoseModel",
    "TopDownPose",
    "atomic_save",
    "cganet_tnet_d1w16",
    "cganet_tnet_d1w16_seg",
    "cganet_tnet_d1w64",
    "cganet_tnet_d1w64_cascade",
    "cganet_tnet_d1w64_roipointer",
    "cganet_tnet_d1w64_seg",
    "cganet_tnet_d3w96",
    "check_outputs",
    "check_pose_model",
    "create_variant",
    "list_pretrained",
    "load_checkpoint",
    "load_model",
    "load_state",
    "load_weights",
    "pretrained_info",
    "save_model",
    "trained_on",
    "topdown_tnet_d1w16",
    "topdown_tnet_d3w64",
    "topdown_tnet_d3w96",
]
