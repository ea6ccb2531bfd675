"""Training: the paper's schedule, the loop with atomic checkpoints and exact resume, loss
guards, a resumable data order, the metrics log, torchrun."""

from cgalib.engine.distributed import DistributedContext, cleanup_distributed, init_distributed
from cgalib.engine.guards import (
    DIVERGENCE_GUARD,
    DivergenceError,
    DivergenceGuard,
    DivergenceMonitor,
    NonFiniteLossError,
)
from cgalib.engine.metrics_log import MetricsLog
from cgalib.engine.sampler import ResumableSampler, SeededDataset, sample_seeds
from cgalib.engine.schedule import (
    PAPER_MILESTONES,
    TimeBudget,
    budget_lr_factor,
    paper_lr_factor,
    paper_lr_scheduler,
)
from cgalib.engine.trainer import train, train_model

__all__ = [
    "DIVERGENCE_GUARD",
    "PAPER_MILESTONES",
    "DistributedContext",
    "DivergenceError",
    "DivergenceGuard",
    "DivergenceMonitor",
    "MetricsLog",
    "NonFiniteLossError",
    "ResumableSampler",
    "SeededDataset",
    "TimeBudget",
    "budget_lr_factor",
    "cleanup_distributed",
    "init_distributed",
    "paper_lr_factor",
    "paper_lr_scheduler",
    "sample_seeds",
    "train",
    "train_model",
]

from cgalib.utils.deprecation import moved_names

__getattr__ = moved_names(
    "cgalib.engine", {"ProgressBar": "cgalib.utils.progress", "progress": "cgalib.utils.progress"}
)
