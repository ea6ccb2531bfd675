import math

import pytest
import torch

from cgalib.engine.schedule import budget_lr_factor, paper_lr_factor, paper_lr_scheduler

from helpers import FakeClock


def test_drops_at_70_and_85_of_95_epochs_scaled_to_the_run():
    total = 190  # twice the paper's 95 "steps": drops at 140 and 170
    assert paper_lr_factor(139, total) == 1.0
    assert paper_lr_factor(140, total) == pytest.approx(0.1)
    assert paper_lr_factor(169, total) == pytest.approx(0.1)
    assert paper_lr_factor(170, total) == pytest.approx(0.01)


def test_linear_warmup_then_flat():
    factors = [paper_lr_factor(s, 1000, warmup_steps=10) for s in range(12)]
    assert factors[:10] == pytest.approx([(s + 1) / 10 for s in range(10)])
    assert factors[10:] == [1.0, 1.0]


def test_scheduler_drives_an_optimizer():
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=1e-2)
    sched = paper_lr_scheduler(opt, total_steps=20, warmup_steps=2)
    lrs = []
    for _ in range(20):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(5e-3)
    assert lrs[5] == pytest.approx(1e-2)
    assert lrs[15] == pytest.approx(1e-3)  # round(0.737 * 20) = 15
    assert lrs[18] == pytest.approx(1e-4)  # round(0.895 * 20) = 18


def test_budget_lr_factor_drops_at_the_papers_fractions_of_the_time():
    from cgalib.engine import budget_lr_factor

    assert [budget_lr_factor(10**6, f) for f in (0.0, 0.7368, 0.7369)] == [1.0, 1.0, 0.1]
    assert math.isclose(budget_lr_factor(10**6, 0.8947), 0.1)
    assert math.isclose(budget_lr_factor(10**6, 0.8948), 0.01)
    assert math.isclose(budget_lr_factor(0, 0.9, warmup_steps=10), 0.001)  # both apply


def test_time_budget_counts_the_resumed_time_and_refuses_bad_values():
    from cgalib.engine import TimeBudget

    budget = TimeBudget(100.0, clock=FakeClock(1.0))
    budget.resume(40.0)
    budget.start()  # the clock reads 1
    assert budget.spent() == 41.0 and budget.fraction() == 0.42  # it reads 2, then 3
    assert budget.exhausted(90.0, 6.0, 4.0) and not budget.exhausted(89.0, 6.0, 4.0)
    for bad in (0, -1.0, float("nan"), float("inf"), True):
        with pytest.raises(ValueError, match="time_budget must be a positive number of seconds"):
            TimeBudget(bad)


def test_cosine_decay_by_hand_and_in_a_run():
    from cgalib.engine import TrainSettings, cosine_lr_factor

    assert cosine_lr_factor(100, 0.0) == 1.0 and cosine_lr_factor(100, 1.0) == 0.0
    assert math.isclose(cosine_lr_factor(100, 1 / 3), 0.75)  # (1 + cos(pi / 3)) / 2
    assert math.isclose(cosine_lr_factor(0, 0.5, warmup_steps=2), 0.25)  # warm-up x decay
    settings = TrainSettings(epochs=2, batch_size=1, lr=1.0, warmup_steps=0, lr_decay="cosine")
    rates = _rates(settings, 3, [None] * 5)  # at steps 0 to 5
    expected = [(1 + math.cos(math.pi * s / 6)) / 2 for s in range(6)]
    assert rates == pytest.approx(expected)
    with pytest.raises(ValueError, match="lr_decay must be one of"):
        TrainSettings(epochs=1, batch_size=1, lr_decay="linear")


def test_the_stepped_decay_drops_at_the_given_milestones_in_steps_and_in_time():
    from cgalib.engine import TrainSettings

    settings = TrainSettings(epochs=4, batch_size=1, lr=1.0, warmup_steps=0,
                             lr_milestones=[0.5, 0.75])  # fmt: skip
    assert settings.lr_milestones == (0.5, 0.75)
    rates = _rates(settings, 5, [None] * 19)  # at steps 0 to 19
    # drops at steps round(0.5 * 20) = 10 and round(0.75 * 20) = 15
    assert rates == pytest.approx([1.0] * 10 + [0.1] * 5 + [0.01] * 5)
    # in time: the same fractions of the budget used
    assert [budget_lr_factor(100, f, milestones=(0.5, 0.75)) for f in (0.49, 0.5, 0.8)] == (
        pytest.approx([1.0, 0.1, 0.01])
    )
    timed = TrainSettings(epochs=None, batch_size=1, lr=1.0, warmup_steps=0, time_budget=100.0,
                          lr_milestones=(0.5, 0.75))  # fmt: skip
    rates = _rates(timed, 5, [10.0, 49.0, 50.0, 74.0, 80.0])[1:]  # after each step
    assert rates == pytest.approx([1.0, 1.0, 0.1, 0.1, 0.01])  # the paper's would drop at 73.7
    no_drop = TrainSettings(epochs=1, batch_size=1, lr_milestones=())  # a constant rate
    assert no_drop.lr_milestones == ()


def _rates(settings, steps_per_epoch, spent):
    """The learning rate of a fresh run's state before its first step and after each step,
    one step per entry of ``spent`` (the time-budget seconds used after it, or None)."""
    import tempfile

    from cgalib.engine import TrainState

    with tempfile.TemporaryDirectory() as d:
        state = TrainState(torch.nn.Linear(1, 1), settings, d, steps_per_epoch=steps_per_epoch)
        rates = [state.optimizer.param_groups[0]["lr"]]
        for seconds in spent:
            state.advance(seconds)
            rates.append(state.optimizer.param_groups[0]["lr"])
    return rates
