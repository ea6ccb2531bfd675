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
    assert seen["time_budget"] == pytest.approx(6.0) and seen["epochs"] is None
