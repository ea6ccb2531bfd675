import errno
import os

import pytest
import torch

import cgalib
from cgalib import create_model
from cgalib.models.checkpoint import (
    CheckpointError,
    cgalib_version,
    load_checkpoint,
    load_model,
    load_weights,
    save_model,
    state_digest,
)
from cgalib.utils.outputs import OutputError


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


# ------------------------------------------------------- the cgalib version in checkpoints


def _rewrite(path, **changes):
    """Rewrite a checkpoint with ``changes`` (``None`` removes a key), its hash recomputed."""
    ckpt = {k: v for k, v in torch.load(path, weights_only=True).items() if k != "digest"}
    for key, value in changes.items():
        if value is None:
            ckpt.pop(key, None)
        else:
            ckpt[key] = value
    torch.save({**ckpt, "digest": state_digest(ckpt)}, path)


def test_checkpoints_record_the_cgalib_version(tmp_path):
    save_model(_small(), tmp_path / "m.pt")
    assert load_checkpoint(tmp_path / "m.pt")["cgalib_version"] == cgalib.__version__
    assert cgalib_version() == cgalib.__version__


def test_a_file_without_the_version_loads_as_before(tmp_path):
    save_model(_small(), tmp_path / "m.pt")
    _rewrite(tmp_path / "m.pt", cgalib_version=None)
    assert "cgalib_version" not in load_checkpoint(tmp_path / "m.pt")
    assert load_model(tmp_path / "m.pt").build_config["name"] == "tnet_d1w64"


def test_an_option_of_an_older_cgalib_names_that_version(tmp_path):
    save_model(_small(), tmp_path / "m.pt")
    config = {"name": "tnet_d1w64", "kwargs": {"num_blocks": 0, "legacy_norm": True}}
    _rewrite(tmp_path / "m.pt", build_config=config, cgalib_version="0.0.1")
    with pytest.raises(CheckpointError, match=r"written by cgalib 0\.0\.1, older than this cgalib "
                       r".*no longer takes the option 'legacy_norm'; load it with cgalib 0\.0\.1"):  # fmt: skip
        load_model(tmp_path / "m.pt")


def test_options_of_a_newer_cgalib_that_do_not_build_here(tmp_path):
    save_model(_small(), tmp_path / "m.pt")
    config = {"name": "tnet_d1w64", "kwargs": {"num_blocks": "adaptive", "stem_blocks": 0}}
    _rewrite(tmp_path / "m.pt", build_config=config, cgalib_version="99.0")
    with pytest.raises(CheckpointError, match=r"newer cgalib \(cgalib 99\.0, its tnet_d1w64 "
                       r"options do not build here: TrapezoidStage .*\); upgrade cgalib$"):  # fmt: skip
        load_model(tmp_path / "m.pt")
    _rewrite(tmp_path / "m.pt", cgalib_version=cgalib.__version__)  # not newer: the error itself
    with pytest.raises(ValueError, match="TrapezoidStage") as err:
        load_model(tmp_path / "m.pt")
    assert not isinstance(err.value, CheckpointError)


def test_a_newer_format_tag_is_named_by_load_weights_too(tmp_path):
    save_model(_small(), tmp_path / "m.pt")
    _rewrite(tmp_path / "m.pt", format="cgalib-model-v3", cgalib_version="1.0")
    with pytest.raises(CheckpointError, match=r"m\.pt was written by a newer cgalib \(cgalib 1\.0, "
                       r"format cgalib-model-v3; this is cgalib .*\); upgrade cgalib$"):  # fmt: skip
        load_weights(_small(), tmp_path / "m.pt")
    _rewrite(tmp_path / "m.pt", format="cgalib-train-state-v2")
    with pytest.raises(CheckpointError, match=r"is the training state of a run .*\(format "
                       r"cgalib-train-state-v2\)"):  # fmt: skip
        load_model(tmp_path / "m.pt")


def test_a_full_disk_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    save_model(_small(), tmp_path / "m.pt")
    before = (tmp_path / "m.pt").read_bytes()

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)  # the disk fills up when the data reaches it
    with pytest.raises(OutputError, match=r"m\.pt: no space left on the device; the previous "
                       r"file is intact \(nothing lost\); free some space"):  # fmt: skip
        save_model(_small(), tmp_path / "m.pt")
    assert (tmp_path / "m.pt").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]
