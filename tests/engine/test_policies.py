"""The loop's policies decide alone: when to checkpoint, when to stop, what to log."""

from __future__ import annotations

import sys

import pytest

from cgalib.engine import CheckpointPolicy, LogPolicy, MetricsLog, StopPolicy, TimeBudget

from helpers import FakeClock


def _due(policy, step, end_of_epoch=False, time_due=False, suspicious=False, forced=False):
    return policy.due(
        step, end_of_epoch=end_of_epoch, time_due=time_due, suspicious=suspicious, forced=forced
    )


def test_checkpoints_at_epoch_ends_every_n_steps_and_by_time():
    policy = CheckpointPolicy(every_steps=3, every_seconds=None)
    assert [_due(policy, s) for s in range(1, 7)] == [False, False, True, False, False, True]
    assert _due(policy, 4, end_of_epoch=True) and _due(policy, 5, time_due=True)
    assert not _due(CheckpointPolicy(every_steps=None), 3)


def test_periodic_checkpoints_wait_while_the_loss_is_suspicious_forced_ones_do_not():
    policy = CheckpointPolicy(every_steps=1)
    for periodic in ({"end_of_epoch": True}, {"time_due": True}, {}):
        assert not _due(policy, 2, suspicious=True, **periodic)
    assert _due(policy, 2, suspicious=True, forced=True)
    assert _due(CheckpointPolicy(every_steps=None), 7, forced=True)


def test_model_pt_goes_with_epoch_ends_and_forced_checkpoints():
    policy = CheckpointPolicy()
    assert policy.writes_model(end_of_epoch=True, forced=False)
    assert policy.writes_model(end_of_epoch=False, forced=True)
    assert not policy.writes_model(end_of_epoch=False, forced=False)


def test_time_due_counts_from_the_last_checkpoint():
    policy = CheckpointPolicy(every_seconds=10.0, clock=FakeClock(1.0))
    policy.start(100.0)
    assert not policy.time_due(110.0) and policy.time_due(110.5)
    assert not CheckpointPolicy(every_seconds=None).time_due(1e9)


def test_save_writes_through_the_state_and_times_it():
    class _State:
        def __init__(self):
            self.calls = []

        def save(self, write_model):
            self.calls.append(write_model)

    state, clock = _State(), FakeClock(2.0)
    policy = CheckpointPolicy(every_seconds=5.0, clock=clock)  # reads the clock once: 2.0
    policy.save(state, write_model=True)
    assert state.calls == [True]
    assert (policy.last_save, policy.save_seconds) == (6.0, 2.0)
    assert not policy.time_due(11.0) and policy.time_due(11.5)


def test_stop_after_the_last_step_of_the_last_epoch():
    stop = StopPolicy(epochs=3, steps_per_epoch=4)
    assert stop.total_steps == 12 and stop.last_epoch == 3
    assert [s for s in range(20) if stop.finished(s)] == [12]
    assert stop.complete(12) and not stop.complete(11)
    endless = StopPolicy(epochs=None, steps_per_epoch=4, budget=TimeBudget(5.0))
    assert endless.last_epoch == sys.maxsize and not endless.finished(10**9)


def test_time_limit_stops_after_the_step_that_passes_it():
    stop = StopPolicy(epochs=100, steps_per_epoch=4, time_limit=30.0)
    stop.start(10.0)
    assert not stop.out_of_time(40.0) and stop.out_of_time(40.01)
    assert stop.reason() == "time limit of 30s reached"
    assert StopPolicy(1, 4, time_limit=0.0).out_of_time(1e-6)
    assert not StopPolicy(1, 4).out_of_time(1e9)


def test_step_duration_is_a_running_average_timed_from_each_epoch_start():
    stop = StopPolicy(epochs=2, steps_per_epoch=4)
    stop.begin_epoch(0.0)
    stop.step_done(2.0)  # the first step sets the average
    assert stop.step_seconds == 2.0
    stop.step_done(3.0)  # 0.8 x 2 + 0.2 x 1
    assert stop.step_seconds == pytest.approx(1.8)
    stop.begin_epoch(10.0)  # the time between epochs (a checkpoint) is not a step
    stop.step_done(11.0)
    assert stop.step_seconds == pytest.approx(0.8 * 1.8 + 0.2 * 1.0)


def test_time_budget_stops_when_the_next_step_and_checkpoint_would_not_fit():
    budget = TimeBudget(10.0, clock=FakeClock(1.0))
    stop = StopPolicy(epochs=None, steps_per_epoch=4, budget=budget)
    stop.begin_epoch(0.0)
    stop.step_done(1.5)
    assert not stop.out_of_time(1.5, spent=8.0, save_seconds=0.4)  # 8 + 1.5 + 0.4 < 10
    assert stop.out_of_time(1.5, spent=8.0, save_seconds=0.5)  # reaches 10
    assert stop.reason() == "time budget of 10s spent"


def test_a_spent_budget_is_complete_before_the_first_step():
    budget = TimeBudget(10.0, clock=FakeClock(1.0))
    budget.resume(10.0)
    assert StopPolicy(epochs=None, steps_per_epoch=4, budget=budget).complete(40)
    budget.resume(9.0)
    assert not StopPolicy(epochs=None, steps_per_epoch=4, budget=budget).complete(40)


def test_rows_every_n_steps_at_epoch_ends_and_at_an_early_stop(tmp_path, capsys):
    log = LogPolicy(MetricsLog(tmp_path / "metrics.csv"), every=3, epochs=2)
    log.begin_epoch(1, steps=4, now=0.0)
    for step in (5, 6, 7, 8):
        log.after_step(step, 0.01, {"a": 1.0, "b": 0.5}, 8, now=step - 4.0, end_of_epoch=step == 8)
    log.end_epoch()
    log.begin_epoch(2, steps=4, now=100.0)
    log.after_step(9, 0.001, {"a": 2.0, "b": 0.5}, 8, now=102.0, stopping=True)
    log.end_epoch()
    rows = log.metrics.rows()
    assert list(rows[0]) == ["epoch", "step", "lr", "loss", "a", "b", "images_per_s"]
    assert [(r["epoch"], r["step"]) for r in rows] == [("2", "6"), ("2", "8"), ("3", "9")]
    assert float(rows[0]["loss"]) == 1.5 and float(rows[0]["images_per_s"]) == 8.0
    assert float(rows[2]["images_per_s"]) == 4.0  # 8 images in the 2 s since the epoch began
    assert "epoch 2/2" in capsys.readouterr().err


def test_other_ranks_count_but_neither_show_nor_log(tmp_path):
    log = LogPolicy(MetricsLog(tmp_path / "metrics.csv"), every=1, enabled=False)
    log.begin_epoch(0, steps=2, now=0.0)
    log.after_step(1, 0.1, {"a": 1.0}, 4, now=1.0, end_of_epoch=True)
    log.end_epoch()
    assert log.seen == 4 and not (tmp_path / "metrics.csv").exists()
