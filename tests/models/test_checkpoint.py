import pytest
import torch

from cgalib import create_model
from cgalib.models.checkpoint import CheckpointError, load_model, load_weights, save_model


def _small(**kw):
    return create_model("tnet_d1w64", num_blocks=0, stem_blocks=0, **kw)


def test_round_trip_reproduces_outputs_exactly(tmp_path):
    model = _small().eval()
    x = torch.rand(1, 3, 64, 64)
    save_model(model, tmp_path / "m.pt", epoch=3)
    loaded = load_model(tmp_path / "m.pt")
    assert loaded.build_config == {
        "name": "tnet_d1w64",
        "kwargs": {"num_blocks": 0, "stem_blocks": 0},
    }
    assert not loaded.training
    with torch.no_grad():
        for a, b in zip(model(x), loaded(x)):
            assert torch.equal(a, b)


def test_other_architecture_fails_listing_the_mismatch(tmp_path):
    save_model(_small(), tmp_path / "m.pt")
    other = create_model("tnet_d1w64", num_blocks=1, stem_blocks=0)
    with pytest.raises(ValueError, match=r"saved from tnet_d1w64.*unexpected|missing") as err:
        load_weights(other, tmp_path / "m.pt")
    assert "missing keys" in str(err.value)
    wider = create_model("tnet_d3w96", num_blocks=0, stem_blocks=0)
    with pytest.raises(ValueError, match="shape mismatches"):
        load_weights(wider, tmp_path / "m.pt")


def test_not_a_checkpoint_and_missing_file(tmp_path):
    torch.save({"weights": 1}, tmp_path / "x.pt")
    with pytest.raises(
        CheckpointError, match=r"x.pt holds a dict with the keys 'weights'; expected"
    ):
        load_model(tmp_path / "x.pt")
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "none.pt")


def test_unserialisable_kwargs_are_refused(tmp_path):
    model = _small(norm_layer=torch.nn.BatchNorm2d)
    with pytest.raises(TypeError, match="JSON"):
        save_model(model, tmp_path / "m.pt")
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_load_model_overrides(tmp_path):
    torch.manual_seed(0)
    model = create_model("cganet_tnet_d1w16", input_size=128)
    save_model(model, tmp_path / "m.pt")
    flipped = load_model(tmp_path / "m.pt", flip_test=True)
    assert flipped.flip_test and not model.flip_test
    for key, value in model.state_dict().items():
        assert torch.equal(flipped.state_dict()[key], value), key
