import pytest
import torch

from cgalib.engine.schedule import paper_lr_factor, paper_lr_scheduler


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
