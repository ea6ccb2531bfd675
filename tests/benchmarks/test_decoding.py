"""benchmarks/decoding.py: the replayed model equals the model, and the block's arithmetic."""

from pathlib import Path

import pytest
import torch

from cgalib import create_model, save_model

from helpers import load_script

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def decoding(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    return load_script(BENCHMARKS / "decoding.py")


def test_a_replayed_model_predicts_what_the_model_built_with_the_decoder_predicts(
    decoding, tmp_path
):
    torch.manual_seed(0)
    net = create_model("topdown_tnet_d1w16", input_size=(64, 32), backbone_kwargs={"num_blocks": 1})
    save_model(net, tmp_path / "model.pt")
    replayed = decoding.Replayed(str(tmp_path / "model.pt")).eval()
    crops = [torch.rand(3, 3, 64, 32), torch.rand(2, 3, 64, 32)]
    with torch.no_grad():
        recorded = [replayed.predict_batch(x)["keypoints"] for x in crops]
        torch.testing.assert_close(recorded[1], net.eval()(crops[1]))  # decoded as BEFORE
        other = {"blur_kernel": 5, "stencil": 2, "border": "clamp", "max_shift": None}
        replayed.replay(other)
        again = [replayed.predict_batch(torch.zeros_like(x))["keypoints"] for x in crops]
        variant = create_model(
            "topdown_tnet_d1w16", input_size=(64, 32), backbone_kwargs={"num_blocks": 1},
            keypoint_decoder=other,
        )
        variant.load_state_dict(net.state_dict())
        for x, got in zip(crops, again):
            torch.testing.assert_close(got, variant.eval()(x))
        with pytest.raises(RuntimeError, match="other batches"):
            replayed.replay(other)
            replayed.predict_batch(torch.zeros(1, 3, 64, 32))


def test_gains_are_clear_only_with_one_sign_on_every_model_and_third(decoding):
    a = {"AP": {"m": 0.5, "n": 0.4}, "thirds": {"m": [0.5, 0.6, 0.4], "n": [0.4, 0.4, 0.4]}}
    b = {"AP": {"m": 0.45, "n": 0.38}, "thirds": {"m": [0.45, 0.5, 0.39], "n": [0.3, 0.39, 0.39]}}
    mean, lo, hi, clear = decoding._gains(a, b)
    assert (round(mean, 4), round(lo, 4), round(hi, 4), clear) == (0.035, 0.02, 0.05, True)
    b["thirds"]["n"][2] = 0.41  # one third the other way
    assert decoding._gains(a, b)[3] is False
    assert "within the spread" in decoding._compare("x", a, b)
