"""The demo wires its recipe into training (a regression once trained with SGD by mistake)."""

import pytest

import cgalib.demo
import cgalib.engine
from cgalib.demo import DEMO_AUGMENT, run_demo


class _Stop(Exception):
    pass


def test_demo_trains_with_its_recipe(tmp_path, monkeypatch):
    seen = {}

    def fake_train(model, data, out, **kwargs):
        seen.update(model=model, data=data, **kwargs)
        raise _Stop

    monkeypatch.setattr(cgalib.engine, "train", fake_train)
    with pytest.raises(_Stop):
        run_demo(tmp_path, minutes=0.1, num_train=16, num_val=2, size=128, min_height=32)
    assert (tmp_path / "data" / "annotations" / "person_keypoints_val.json").is_file()
    assert seen["model"] == "cganet_tnet_d1w16"
    assert seen["optimizer"] == "adamw" and seen["lr"] == pytest.approx(3e-3)
    assert seen["augment_kwargs"] == DEMO_AUGMENT and seen["channels_last"] is True
    assert seen["input_size"] == 128 and seen["device"] == "cpu"
    assert seen["time_limit"] == pytest.approx(6.0) and seen["epochs"] >= 1


def test_epochs_for_budget_from_the_median_step_time(tmp_path, monkeypatch):
    from cgalib.data import make_synthetic_coco
    from cgalib.demo import epochs_for_budget

    make_synthetic_coco(tmp_path, 16, 1, size=64, min_height=24)
    clock = iter(range(10_000))  # each perf_counter call advances 0.1 s: 0.1 s per step
    monkeypatch.setattr(cgalib.demo.time, "perf_counter", lambda: next(clock) * 0.1)
    # 16 images / batch 4 = 4 steps per epoch; 0.1 s x 1.4 (loader, optimizer) = 0.14 s a step
    epochs, step_s = epochs_for_budget("cganet_tnet_d1w16", tmp_path, 64, 4, minutes=1.0)
    assert step_s == pytest.approx(0.14)
    assert epochs == int(60 / (0.14 * 4))  # 107
    assert epochs_for_budget("cganet_tnet_d1w16", tmp_path, 64, 4, minutes=1e-3)[0] == 1
