"""TrainSettings: every bad value refused first, in one line; the record checkpoints keep."""

from __future__ import annotations

import pytest
import torch

from cgalib.engine import FIXED_SETTINGS, TimeBudget, TrainSettings


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "batch_size must be at least 1, got 0"),
        ({"epochs": 0},
         "epochs must be at least 1, got 0 (a run of no epochs trains nothing and writes no "
         "model.pt)"),
        ({"log_every": 0}, "log_every must be at least 1, got 0"),
        ({"optimizer": "lbfgs"}, "optimizer must be 'sgd' or 'adamw', got 'lbfgs'"),
        ({"warmup_steps": -1}, "warmup_steps must be 0 or more, got -1"),
        ({"time_limit": -1.0}, "time_limit must be None or 0 or more seconds, got -1.0"),
        ({"checkpoint_seconds": float("nan")},
         "checkpoint_seconds must be None or 0 or more seconds, got nan"),
        ({"epochs": None, "time_budget": True},
         "time_budget must be a positive number of seconds, got True"),
        ({"lr_milestones": (0.95, 0.85)},
         "lr_milestones must be increasing fractions of the run in (0, 1], e.g. (0.85, 0.95), "
         "got (0.95, 0.85)"),
        ({"lr_milestones": (0.0, 0.5)},
         "lr_milestones must be increasing fractions of the run in (0, 1], e.g. (0.85, 0.95), "
         "got (0.0, 0.5)"),
        ({"lr_milestones": "0.9"},
         "lr_milestones must be increasing fractions of the run in (0, 1], e.g. (0.85, 0.95), "
         "got 0.9"),
        ({"lr_decay": "cosine", "lr_milestones": (0.8,)},
         "lr_milestones apply to lr_decay='steps', not to 'cosine'; leave them at their default"),
    ],
)  # fmt: skip
def test_bad_values_are_one_line_each(kwargs, message):
    with pytest.raises(ValueError) as err:
        TrainSettings(**{"epochs": 1, "batch_size": 2, **kwargs})
    assert str(err.value) == message


def test_the_run_length_is_checked_before_the_other_values():
    with pytest.raises(ValueError, match=r"^give epochs"):
        TrainSettings(epochs=None, batch_size=0)
    with pytest.raises(ValueError, match=r"^give time_budget or time_limit, not both"):
        TrainSettings(epochs=1, batch_size=0, time_budget=5.0, time_limit=5.0)


def test_a_number_of_seconds_becomes_a_time_budget_a_budget_is_kept():
    settings = TrainSettings(epochs=None, batch_size=2, time_budget=30)
    assert isinstance(settings.budget, TimeBudget) and settings.budget.seconds == 30.0
    budget = TimeBudget(5.0)
    assert TrainSettings(epochs=None, batch_size=2, time_budget=budget).budget is budget
    assert TrainSettings(epochs=1, batch_size=2).budget is None


def test_the_record_lists_the_fixed_settings_first():
    settings = TrainSettings(epochs=2, batch_size=4, time_budget=60.0, channels_last=True)
    record = settings.record("m(x=1)", world_size=2, dataset_size=10)
    assert tuple(record)[: len(FIXED_SETTINGS)] == FIXED_SETTINGS
    assert record == {
        "model": "m(x=1)", "batch_size": 4, "world_size": 2, "dataset_size": 10,
        "optimizer": "sgd", "lr": 0.01, "momentum": 0.9, "weight_decay": 1e-4,
        "warmup_steps": 500, "lr_decay": "steps", "lr_milestones": [70 / 95, 85 / 95],
        "epochs": 2, "time_budget": 60.0,
        "clip_grad_norm": 10.0, "amp": None, "seed": 0, "channels_last": True, "ema_decay": None,
    }  # fmt: skip
    assert settings.memory_format == torch.channels_last
    assert settings.total_steps(5) == 10
    assert TrainSettings(epochs=None, batch_size=1, time_budget=1.0).total_steps(5) is None
