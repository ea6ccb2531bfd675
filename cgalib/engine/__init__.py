"""Training: the paper's schedule, the loop with atomic checkpoints and resume, torchrun."""

from cgalib.engine.distributed import DistributedContext, cleanup_distributed, init_distributed
from cgalib.engine.schedule import PAPER_MILESTONES, paper_lr_factor, paper_lr_scheduler
from cgalib.engine.trainer import NonFiniteLossError, train, train_model

__all__ = [
    "PAPER_MILESTONES",
    "DistributedContext",
    "NonFiniteLossError",
    "cleanup_distributed",
    "init_distributed",
    "paper_lr_factor",
    "paper_lr_scheduler",
    "train",
    "train_model",
]

from cgalib.utils.deprecation import moved_names

__getattr__ = moved_names(
    "cgalib.engine", {"ProgressBar": "cgalib.utils.progress", "progress": "cgalib.utils.progress"}
)
