"""TrainState saves itself and loads itself back: every part, the run folder's rules, the
resume checks and notes."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from torch import nn

from cgalib.data import PoseAugmentation
from cgalib.engine import (
    DivergenceGuard,
    MetricsLog,
    TimeBudget,
    TrainSettings,
    TrainState,
    train_step,
)
from cgalib.models import load_checkpoint
from cgalib.models.checkpoint import TRAIN_STATE_FORMAT
from cgalib.registry import create_model

from helpers import FakeClock

CHECKPOINT_KEYS = [
    "format", "model", "optimizer", "scheduler", "scaler", "epoch", "step", "settings", "rng",
    "guard", "build_config", "spent", "data", "ema", "cgalib_version", "digest",
]  # fmt: skip
"""The keys of last.pt, in the order earlier runs wrote them (their resume depends on it);
``data`` (the data fingerprint) and ``ema`` (the weight average) are new, and a last.pt
without them still resumes; the version
that wrote the file comes last, before the hash."""


class _Fit(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(48, 4), nn.ReLU(), nn.Linear(4, 1))

    def forward(self, images, targets):
        y = torch.cat([t["y"] for t in targets])
        return {"fit": (self.net(images)[:, 0] - y).square().mean() + torch.rand(()) * 1e-3}


def _batch(seed):
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(2, 3, 4, 4, generator=g)
    return images, [{"y": images[i].mean().reshape(1)} for i in range(2)]


def _state(folder, seed=0, **settings):
    torch.manual_seed(seed)
    kwargs = {"epochs": 3, "batch_size": 2, "lr": 0.05, "warmup_steps": 2, **settings}
    return TrainState(_Fit(), TrainSettings(**kwargs), folder, steps_per_epoch=4,
                      dataset_size=8, divergence_guard=DivergenceGuard(patience=3))  # fmt: skip


def _train(state, steps):
    for _ in range(steps):
        images, targets = _batch(state.step)
        state.see_batch(images)
        row = train_step(state, images, targets)
        state.monitor.update(sum(row.values()))
        state.advance()


def test_a_fresh_state_is_at_step_0_with_the_settings_parts(tmp_path):
    state = _state(tmp_path, optimizer="adamw", amp="bf16")
    assert state.step == 0 and state.saved_step is None and state.epoch == 0
    assert isinstance(state.optimizer, torch.optim.AdamW) and not state.scaler.is_enabled()
    assert state.net is state.model and state.model.training
    assert state.record["model"] == "_Fit" and state.record["optimizer"] == "adamw"
    assert state.kept == "no checkpoint was written yet" and state.again == "start again"


def test_save_writes_the_training_state_in_its_format(tmp_path):
    state = _state(tmp_path)
    _train(state, 3)
    state.save(write_model=False)
    saved = load_checkpoint(tmp_path / "last.pt", TRAIN_STATE_FORMAT)
    assert list(saved) == CHECKPOINT_KEYS
    assert (saved["step"], saved["epoch"], saved["spent"]) == (3, 0, None)
    assert saved["settings"] == {**state.record, "input_size": [4, 4]}
    assert len(saved["rng"]) == 1 and saved["rng"][0]["augment"] is None
    assert saved["guard"] == state.monitor.state_dict()
    assert not (tmp_path / "model.pt").exists()
    assert state.saved_step == 3 and "last.pt at step 3, is kept" in state.kept
    assert state.again == "resume from it"


def test_resume_restores_every_part_and_continues_exactly(tmp_path):
    straight = _state(tmp_path / "a")
    _train(straight, 6)
    state = _state(tmp_path / "b")
    _train(state, 3)
    state.save(write_model=False)
    torch_next, numpy_next, python_next = torch.rand(3), np.random.rand(), random.random()
    resumed = _state(tmp_path / "b", seed=1)  # other initial weights, overwritten
    log = MetricsLog(tmp_path / "b" / "metrics.csv")
    for step in (3, 4):  # a killed run logged a step past its checkpoint
        log.append({"step": step, "loss": 1.0})
    resumed.resume(log)
    assert [row["step"] for row in log.rows()] == ["3"]
    assert (resumed.step, resumed.saved_step, resumed.input_size) == (3, 3, [4, 4])
    assert resumed.monitor.state_dict() == state.monitor.state_dict()
    assert resumed.scheduler.state_dict() == state.scheduler.state_dict()
    assert (
        resumed.optimizer.state_dict()["param_groups"]
        == state.optimizer.state_dict()["param_groups"]
    )
    assert torch.equal(torch.rand(3), torch_next)
    assert (np.random.rand(), random.random()) == (numpy_next, python_next)
    resumed.resume()  # the RNG states again, as saved
    _train(resumed, 3)
    for (name, a), b in zip(
        straight.model.state_dict().items(), resumed.model.state_dict().values()
    ):
        assert torch.equal(a, b), name


@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)` before")
def test_the_augmentation_generator_and_the_time_spent_are_restored(tmp_path):
    budget = TimeBudget(100.0, clock=FakeClock(1.0))
    settings = TrainSettings(epochs=None, batch_size=2, time_budget=budget)
    augment = PoseAugmentation(4, seed=3)
    torch.manual_seed(0)
    state = TrainState(_Fit(), settings, tmp_path, steps_per_epoch=4, augment=augment)
    budget.start()  # reads 1.0
    torch.rand(5, generator=augment.generator)
    state.advance(spent=budget.spent())  # reads 2.0: 1 s spent
    state.save(write_model=True)  # reads 3.0: 2 s spent
    expected = torch.rand(5, generator=augment.generator)
    again = PoseAugmentation(4, seed=3)
    budget2 = TimeBudget(100.0, clock=FakeClock(1.0))
    settings2 = TrainSettings(epochs=None, batch_size=2, time_budget=budget2)
    resumed = TrainState(_Fit(), settings2, tmp_path, steps_per_epoch=4, augment=again)
    resumed.resume()
    assert torch.equal(torch.rand(5, generator=again.generator), expected)
    assert budget2.spent() == 2.0 and resumed.budget_used == pytest.approx(0.02)
    assert load_checkpoint(tmp_path / "model.pt")["extra"] == {"epoch": 0, "step": 1}


def test_registered_models_record_their_builder(tmp_path):
    model = create_model("tnet_d1w64", num_blocks=0, stem_blocks=0)
    state = TrainState(model, TrainSettings(epochs=1, batch_size=2), tmp_path)
    assert state.record["model"] == "tnet_d1w64(num_blocks=0, stem_blocks=0)"


def test_resume_with_another_fixed_setting_is_refused_in_one_line(tmp_path):
    state = _state(tmp_path)
    state.save(write_model=False)
    other = _state(tmp_path, batch_size=4, optimizer="adamw")
    with pytest.raises(ValueError) as err:
        other.resume()
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"cannot resume {tmp_path / 'last.pt'}")
    assert "batch_size=4 (the run used 2), optimizer=adamw (the run used sgd)" in message


def test_resume_with_changed_rates_says_so_and_applies_them(tmp_path, capsys):
    state = _state(tmp_path)
    _train(state, 4)
    state.save(write_model=False)
    resumed = _state(tmp_path, lr=0.5, momentum=0.5, weight_decay=0.0)
    resumed.resume()
    note = capsys.readouterr().out
    assert "with changed settings: lr 0.05 -> 0.5, momentum 0.9 -> 0.5, weight_decay" in note
    group = resumed.optimizer.param_groups[0]
    factor = resumed.scheduler.lr_lambdas[0](resumed.scheduler.last_epoch)
    assert (group["initial_lr"], group["momentum"], group["weight_decay"]) == (0.5, 0.5, 0.0)
    assert group["lr"] == 0.5 * factor and resumed.scheduler.base_lrs == [0.5]


def test_resume_past_the_epochs_asked_for_is_refused(tmp_path):
    state = _state(tmp_path)
    _train(state, 5)
    state.save(write_model=False)
    short = _state(tmp_path, epochs=1)
    with pytest.raises(
        ValueError,
        match=r"at step 5, past the 1 epochs asked for \(4 steps\); resume with epochs=2",
    ):
        short.resume()


def test_a_resumed_run_checks_its_first_batch_size(tmp_path):
    state = _state(tmp_path)
    _train(state, 1)
    state.save(write_model=False)
    resumed = _state(tmp_path)
    resumed.resume()
    with pytest.raises(ValueError, match=r"trained on 4x4 images, these batches are 8x8"):
        resumed.see_batch(torch.zeros(2, 3, 8, 8))
    resumed.see_batch(torch.zeros(2, 3, 4, 4))
    resumed.see_batch(torch.zeros(2, 3, 8, 8))  # after the first batch: multi-scale
    assert resumed.input_size == "mixed"


def _fingerprint(keypoint_x=1):
    from cgalib.engine.fingerprint import DataFingerprint

    coco = {
        "images": [{"id": 3, "file_name": "c.jpg", "height": 4, "width": 4}],
        "annotations": [{"id": 1, "image_id": 3, "category_id": 1, "bbox": [0, 0, 2, 2],
                         "keypoints": [keypoint_x, 1, 2]}],
    }  # fmt: skip
    return DataFingerprint.of_coco(coco, [1])


def test_a_resume_on_other_data_is_refused_naming_the_change(tmp_path, capsys):
    state = TrainState(_Fit(), TrainSettings(epochs=1, batch_size=2), tmp_path,
                       data_fingerprint=_fingerprint())  # fmt: skip
    state.save(write_model=False)
    same = TrainState(_Fit(), TrainSettings(epochs=1, batch_size=2), tmp_path,
                      data_fingerprint=_fingerprint())  # fmt: skip
    same.resume()
    other = TrainState(_Fit(), TrainSettings(epochs=1, batch_size=2), tmp_path,
                       data_fingerprint=_fingerprint(keypoint_x=2))  # fmt: skip
    with pytest.raises(ValueError, match=r"training data changed since the run started: the "
                       r"people \(ids, boxes or keypoints\) of 1 image \(first: id 3, c.jpg\); "
                       r"resume with the run's data"):  # fmt: skip
        other.resume()
    unchecked = TrainState(_Fit(), TrainSettings(epochs=1, batch_size=2), tmp_path)
    unchecked.resume()  # no fingerprint now: nothing to compare, nothing said
    assert "note" not in capsys.readouterr().out


def test_a_run_begun_without_a_fingerprint_resumes_with_a_note(tmp_path, capsys):
    TrainState(_Fit(), TrainSettings(epochs=1, batch_size=2), tmp_path).save(write_model=False)
    state = TrainState(_Fit(), TrainSettings(epochs=1, batch_size=2), tmp_path,
                       data_fingerprint=_fingerprint())  # fmt: skip
    state.resume()
    assert "holds no fingerprint of its training data (the run began without one)" in (
        capsys.readouterr().out
    )


def test_a_save_that_cannot_write_is_one_line_naming_what_is_kept(tmp_path, monkeypatch):
    import errno

    from cgalib.engine import state as state_module
    from cgalib.utils.outputs import OutputError

    state = _state(tmp_path)
    _train(state, 2)
    state.save(write_model=False)
    _train(state, 1)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(state_module, "save_model", full)
    with pytest.raises(OutputError) as err:
        state.save(write_model=True)
    assert str(err.value) == (
        f"training stopped at step 3: cannot write {tmp_path / 'model.pt'}: no space left on "
        f"the device; the last checkpoint, {tmp_path / 'last.pt'} at step 3, is kept; free "
        "space and resume from it (--resume)"
    )
    monkeypatch.setattr(state_module, "save_checkpoint", full)
    fresh = _state(tmp_path / "fresh")
    with pytest.raises(OutputError, match=r"at step 0: cannot write .*last.pt: no space left on "
                       r"the device; no checkpoint was written yet; free space and start again$"):
        fresh.save(write_model=False)  # fmt: skip
