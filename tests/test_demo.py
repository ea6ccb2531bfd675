"""The demo wires its recipe into training (a regression once trained with SGD by mistake)."""

import pytest

import cgalib.demo
import cgalib.engine
from cgalib.demo import DEMO_AUGMENT, run_demo
from cgalib.utils import cpu_bf16


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
    assert seen["optimizer"] == "adamw" and seen["lr"] == pytest.approx(5e-3)
    assert seen["batch_size"] == 8 and seen["ema_decay"] == pytest.approx(0.998)
    assert seen["amp"] == ("bf16" if cpu_bf16() else None)  # native bf16 only
    assert seen["augment_kwargs"] == DEMO_AUGMENT and seen["channels_last"] is True
    assert seen["input_size"] == 128 and seen["device"] == "cpu"
    assert seen["time_budget"] == pytest.approx(6.0) and seen["epochs"] is None


def test_bf16_autocast_only_where_the_cpu_computes_bf16(monkeypatch):
    import cgalib.engine.recipes as recipes

    monkeypatch.setattr(recipes, "cpu_bf16", lambda: None)  # emulated bf16 is slower
    assert recipes.for_this_cpu(recipes.CPU_DEMO_RECIPE)["amp"] is None
    monkeypatch.setattr(recipes, "cpu_bf16", lambda: "AVX-512 bf16")
    assert recipes.for_this_cpu(recipes.CPU_DEMO_RECIPE)["amp"] == "bf16"
    assert recipes.for_this_cpu({"amp": "fp16"})["amp"] == "fp16"  # only bf16 is dropped
