"""The moving average of the weights: the update formula by hand, batch-norm statistics,
model.pt holding the average, and an exact resume with it."""

import pytest
import torch
from torch import nn

from cgalib.engine import DistributedContext, TrainSettings, WeightAverage, train_model
from cgalib.models import load_weights

from helpers import RegressionPairs, collate_pairs


def test_update_follows_the_warmed_up_decay_by_hand():
    net = nn.Linear(1, 1, bias=False)
    net.weight.data.fill_(0.0)
    average = WeightAverage(net, decay=0.9)
    net.weight.data.fill_(1.0)
    average.update(net, step=1)  # d = min(0.9, 2 / 11) = 0.1818...: a = 0.8181...
    assert average.state_dict()["weight"].item() == pytest.approx(1 - 2 / 11)
    net.weight.data.fill_(3.0)
    average.update(net, step=100)  # d = min(0.9, 101 / 110) = 0.9
    assert average.state_dict()["weight"].item() == pytest.approx(0.9 * (1 - 2 / 11) + 0.1 * 3)
    assert [average.decay_at(s) for s in (0, 8, 10**6)] == pytest.approx([0.1, 0.5, 0.9])


def test_batch_norm_statistics_are_averaged_and_the_counter_copied():
    bn = nn.BatchNorm1d(2)
    average = WeightAverage(bn, decay=0.5)
    bn.running_mean.fill_(4.0)
    bn.num_batches_tracked.fill_(7)
    average.update(bn, step=1000)
    state = average.state_dict()
    assert state["running_mean"].tolist() == [2.0, 2.0]  # halfway from 0 to 4
    assert state["num_batches_tracked"].item() == 7


def test_the_average_is_a_copy_and_can_be_restored_and_reset():
    net = nn.Linear(2, 2)
    average = WeightAverage(net, decay=0.99)
    saved = {k: v.clone() for k, v in average.state_dict().items()}
    with torch.no_grad():
        net.weight.add_(1.0)
    assert torch.equal(average.state_dict()["weight"], saved["weight"])  # not the model's tensor
    average.reset(net)
    assert torch.equal(average.state_dict()["weight"], net.weight)
    average.load_state_dict(saved)
    assert torch.equal(average.state_dict()["weight"], saved["weight"])
    with pytest.raises(ValueError, match="another model"):
        average.load_state_dict({"weight": saved["weight"]})


@pytest.mark.parametrize("decay", [0.0, 1.0, -0.5, 1.5])
def test_a_decay_outside_zero_one_is_refused_naming_the_flag(decay):
    with pytest.raises(ValueError, match=r"ema_decay must be between 0 and 1.*--ema"):
        TrainSettings(epochs=1, batch_size=2, ema_decay=decay)
    with pytest.raises(ValueError, match="ema_decay must be between 0 and 1"):
        WeightAverage(nn.Linear(1, 1), decay)


class _Fit(nn.Module):
    def __init__(self, interrupt_at_call=None):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(192, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
        self.interrupt_at_call, self.calls = interrupt_at_call, 0

    def forward(self, images, targets):
        self.calls += 1
        if self.calls == self.interrupt_at_call:
            raise KeyboardInterrupt
        y = torch.cat([t["y"] for t in targets])
        return {"fit": (self.net(images)[:, 0] - y).square().mean()}


def _fit(out, resume=False, **kw):
    torch.manual_seed(0)
    model = _Fit(**kw)
    train_model(model, RegressionPairs(), collate_pairs, out, epochs=3, batch_size=4, lr=0.05,
                warmup_steps=2, num_workers=0, resume=resume, ema_decay=0.9, checkpoint_every=3,
                context=DistributedContext())  # fmt: skip
    return model


def test_model_pt_holds_the_average_that_replaying_the_steps_gives(tmp_path):
    model = _fit(tmp_path)
    saved = torch.load(tmp_path / "model.pt", weights_only=True)
    assert saved["extra"]["ema_decay"] == 0.9
    trained = torch.load(tmp_path / "last.pt", weights_only=True)
    assert torch.equal(trained["model"]["net.1.weight"], model.net[1].weight)
    averaged = load_weights(_Fit(), tmp_path / "model.pt").state_dict()
    assert not torch.equal(averaged["net.1.weight"], model.net[1].weight)  # not the last step
    assert torch.equal(averaged["net.1.weight"], trained["ema"]["net.1.weight"])


def test_resume_restores_the_average_exactly(tmp_path):
    _fit(tmp_path / "a")
    with pytest.raises(KeyboardInterrupt):  # during step 8, after the checkpoint at step 6
        _fit(tmp_path / "b", interrupt_at_call=8)
    _fit(tmp_path / "b", resume=True)
    a = torch.load(tmp_path / "a" / "model.pt", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "b" / "model.pt", weights_only=True)["state_dict"]
    for name in a:
        assert torch.equal(a[name], b[name]), name


def test_a_run_without_an_average_resumed_with_one_starts_it_there(tmp_path, capsys):
    torch.manual_seed(0)
    with pytest.raises(KeyboardInterrupt):  # a run that kept no average, stopped after step 6
        train_model(_Fit(interrupt_at_call=8), RegressionPairs(), collate_pairs, tmp_path,
                    epochs=3, batch_size=4, lr=0.05, warmup_steps=2, num_workers=0,
                    checkpoint_every=3, context=DistributedContext())  # fmt: skip
    assert torch.load(tmp_path / "last.pt", weights_only=True)["ema"] is None
    model = _fit(tmp_path, resume=True)  # ema_decay=0.9 from here on
    assert "ema_decay None -> 0.9" in capsys.readouterr().out
    saved = torch.load(tmp_path / "last.pt", weights_only=True)
    assert saved["ema"] is not None and saved["step"] == 12
    averaged = torch.load(tmp_path / "model.pt", weights_only=True)["state_dict"]
    assert not torch.equal(averaged["net.1.weight"], model.net[1].weight)
