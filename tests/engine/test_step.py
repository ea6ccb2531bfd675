"""train_step: one optimizer step, compared with the same step written out by hand; the
non-finite guard, clipping, augmentation, memory format and worker targets."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from cgalib.engine import NonFiniteLossError, TrainSettings, TrainState, train_step


class _Fit(nn.Module):
    def __init__(self, nan=False):
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 3, padding=1)
        self.head = nn.Linear(2, 1)
        self.nan, self.seen = nan, []

    def forward(self, images, targets):
        self.seen.append(images)
        y = torch.cat([t["y"] for t in targets])
        err = (self.head(self.conv(images).mean((2, 3)))[:, 0] - y).square().mean()
        return {"fit": err, "half": err * (float("nan") if self.nan else 0.5)}


def _batch():
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (2, 3, 6, 6), dtype=torch.uint8, generator=g)
    return images, [{"y": torch.tensor([0.5])}, {"y": torch.tensor([-1.0])}]


def _state(tmp_path, model=None, **settings):
    kwargs = {"epochs": 1, "batch_size": 2, "lr": 0.1, "warmup_steps": 0, **settings}
    return TrainState(model or _Fit(), TrainSettings(**kwargs), tmp_path)


def test_a_step_is_the_textbook_sgd_step(tmp_path):
    state = _state(tmp_path, clip_grad_norm=None)
    reference = copy.deepcopy(state.model)
    images, targets = _batch()
    row = train_step(state, images, targets)
    losses = reference(images.float() / 255, targets)
    optimizer = torch.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    sum(losses.values()).backward()
    optimizer.step()
    assert list(row) == ["fit", "half"] and row == {k: v.item() for k, v in losses.items()}
    for (name, a), b in zip(state.model.state_dict().items(), reference.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-7, msg=name)
    assert state.step == 0  # the schedule and the step count are the loop's (advance)


def test_a_non_finite_term_stops_before_any_update(tmp_path):
    state = _state(tmp_path, model=_Fit(nan=True))
    before = copy.deepcopy(state.model.state_dict())
    with pytest.raises(NonFiniteLossError) as err:
        train_step(state, *_batch())
    assert str(err.value) == (
        "non-finite loss at step 1: half=nan; no checkpoint was written yet; lower the "
        "learning rate, enable gradient clipping or check the data of this batch, and start "
        "again"
    )
    assert all(torch.equal(before[k], v) for k, v in state.model.state_dict().items())
    assert not state.optimizer.state


def test_clipping_bounds_the_gradient_norm(tmp_path):
    state = _state(tmp_path, clip_grad_norm=1e-3, optimizer="sgd", momentum=0.0)
    state.optimizer.param_groups[0]["weight_decay"] = 0.0
    before = [p.detach().clone() for p in state.model.parameters()]
    train_step(state, *_batch())
    moved = torch.cat(
        [(p.detach() - b).flatten() for p, b in zip(state.model.parameters(), before)]
    )
    assert moved.norm().item() == pytest.approx(0.1 * 1e-3, rel=1e-4)  # lr x the clipped norm


def test_the_augmentation_prepares_the_batch_without_gradients(tmp_path):
    calls = []

    class _Augment(nn.Module):
        def forward(self, images, targets):
            calls.append((images.dtype, torch.is_grad_enabled(), targets[0]["y"].device))
            return images.float() / 255 * 0 + 0.25, targets

    state = TrainState(_Fit(), TrainSettings(epochs=1, batch_size=2), tmp_path, augment=_Augment())
    train_step(state, *_batch())
    assert calls == [(torch.uint8, False, torch.device("cpu"))]
    assert torch.all(state.model.seen[0] == 0.25)


def test_channels_last_images_and_float_conversion(tmp_path):
    state = _state(tmp_path, channels_last=True)
    images, targets = _batch()
    train_step(state, images, targets)
    seen = state.model.seen[0]
    assert seen.is_contiguous(memory_format=torch.channels_last) and seen.dtype == torch.float32
    torch.testing.assert_close(seen, images.float() / 255)


def test_worker_targets_as_arrays_come_back_as_tensors(tmp_path):
    state = _state(tmp_path)
    images, targets = _batch()
    as_arrays = [{"y": t["y"].numpy()} for t in targets]
    assert isinstance(as_arrays[0]["y"], np.ndarray)
    reference = _state(tmp_path / "b", model=copy.deepcopy(state.model))
    assert train_step(state, images, as_arrays) == train_step(reference, images, targets)
