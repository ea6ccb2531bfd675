"""Training: the paper's schedule, the loop with atomic checkpoints and exact resume, loss
guards, a resumable data order, the metrics log, torchrun.

The loop ([`train_model()`][train_model]) is short and asks its parts: the run folder
([`claim_run_folder()`][claim_run_folder]: writable, held by one run), the training state
([`TrainState`][TrainState], with its [`TrainSettings`][TrainSettings], the moving average of
its weights ([`WeightAverage`][WeightAverage]) and the
[`DataFingerprint`][DataFingerprint] of its data; saved and loaded by itself), the step
([`train_step()`][train_step]) and the policies ([`CheckpointPolicy`][CheckpointPolicy],
[`StopPolicy`][StopPolicy], [`LogPolicy`][LogPolicy], [`DivergenceGuard`][DivergenceGuard]).
"""

from cgalib.engine.distributed import DistributedContext, cleanup_distributed, init_distributed
from cgalib.engine.ema import WeightAverage
from cgalib.engine.fingerprint import DataFingerprint
from cgalib.engine.guards import (
    DIVERGENCE_GUARD,
    DivergenceError,
    DivergenceGuard,
    DivergenceMonitor,
    NonFiniteLossError,
)
from cgalib.engine.metrics_log import MetricsLog
from cgalib.engine.policies import CheckpointPolicy, LogPolicy, StopPolicy
from cgalib.engine.run_folder import claim_run_folder, prepare_run_folder
from cgalib.engine.sampler import ResumableSampler, SeededDataset, sample_seeds
from cgalib.engine.schedule import (
    LR_DECAYS,
    PAPER_MILESTONES,
    TimeBudget,
    budget_lr_factor,
    cosine_lr_factor,
    paper_lr_factor,
    paper_lr_scheduler,
)
from cgalib.engine.settings import FIXED_SETTINGS, TrainSettings
from cgalib.engine.state import TrainState
from cgalib.engine.step import train_step
from cgalib.engine.trainer import train, train_model

__all__ = [
    "DIVERGENCE_GUARD",
    "FIXED_SETTINGS",
    "LR_DECAYS",
    "PAPER_MILESTONES",
    "CheckpointPolicy",
    "DataFingerprint",
    "DistributedContext",
    "DivergenceError",
    "DivergenceGuard",
    "DivergenceMonitor",
    "LogPolicy",
    "MetricsLog",
    "NonFiniteLossError",
    "ResumableSampler",
    "SeededDataset",
    "StopPolicy",
    "TimeBudget",
    "TrainSettings",
    "TrainState",
    "WeightAverage",
    "budget_lr_factor",
    "claim_run_folder",
    "cleanup_distributed",
    "cosine_lr_factor",
    "init_distributed",
    "paper_lr_factor",
    "paper_lr_scheduler",
    "prepare_run_folder",
    "sample_seeds",
    "train",
    "train_model",
    "train_step",
]
