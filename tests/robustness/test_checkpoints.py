"""Files passed where a checkpoint is expected: the wrong kind, damaged, not PyTorch at all.

``load_model`` and ``load_weights`` are what ``cgalib eval``, ``predict`` and ``export``
call with ``--checkpoint``; every case is one ``CheckpointError`` line that names the file,
says what it is and what was expected.
"""

from __future__ import annotations

import os
import stat
import struct
import zipfile
from pathlib import Path

import pytest
import torch

from cgalib.models import CheckpointError, atomic_save, load_model, save_model
from cgalib.models.checkpoint import (
    TRAIN_STATE_FORMAT,
    load_checkpoint,
    load_weights,
    save_checkpoint,
)
from cgalib.registry import create_model

EXPECTED = "expected a cgalib model checkpoint"


def _backbone():
    return create_model("tnet_d1w64", num_blocks=0, stem_blocks=0)


def _one_line_error(path: Path, **kwargs) -> str:
    with pytest.raises(CheckpointError) as err:
        load_model(path, **kwargs)
    message = str(err.value)
    assert "\n" not in message and message.startswith(str(path))
    return message


def test_training_state_passed_as_checkpoint(tmp_path):
    """`--checkpoint runs/x/last.pt` (the training state for `--resume`) instead of `model.pt`.

    One line: the file is the training state of a run, not a model checkpoint; pass the `model.pt` next to it."""
    path = tmp_path / "last.pt"
    save_checkpoint({"model": _backbone().state_dict(), "step": 3}, path, TRAIN_STATE_FORMAT)
    message = _one_line_error(path)
    assert "is the training state of a run (a last.pt" in message
    assert "pass the model.pt next to it" in message


def test_pickled_module_passed_as_checkpoint(tmp_path):
    """`--checkpoint` a whole model saved with `torch.save(model)`.

    One line naming the pickled class; cgalib does not unpickle it (that could run code) and expects a `save_model` file."""
    path = tmp_path / "module.pt"
    torch.save(torch.nn.Linear(2, 2), path)
    message = _one_line_error(path)
    assert "holds pickled Python objects (torch.nn.modules.linear.Linear)" in message
    assert EXPECTED in message


def test_text_file_passed_as_checkpoint(tmp_path):
    """`--checkpoint` a text file (a config, a log, an HTML error page saved as `.pt`).

    One line: the file is a text file, with its first characters, not a PyTorch file."""
    path = tmp_path / "model.pt"
    path.write_text("<html>404 Not Found</html>\n")
    message = _one_line_error(path)
    assert (
        "is a text file (it starts with '<html>404 Not Found</html>'), not a PyTorch file"
        in message
    )


def test_empty_file_passed_as_checkpoint(tmp_path):
    """`--checkpoint` an empty file (a copy that failed, a placeholder).

    One line: the file is empty (0 bytes), a cgalib model checkpoint was expected."""
    path = tmp_path / "model.pt"
    path.touch()
    assert f"is empty (0 bytes); {EXPECTED}" in _one_line_error(path)


def test_binary_file_passed_as_checkpoint(tmp_path):
    """`--checkpoint` an image or another binary file.

    One line: the file is not a PyTorch file, with its first bytes in hex."""
    path = tmp_path / "photo.pt"
    path.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(60)))
    assert "is not a PyTorch file (it starts with the bytes ff d8 ff e0 00 01" in _one_line_error(
        path
    )


def test_truncated_checkpoint(tmp_path):
    """A `model.pt` cut short (an interrupted copy or download).

    One line: the file is a damaged or truncated PyTorch file, with the reader's one-sentence reason."""
    path = tmp_path / "model.pt"
    save_model(_backbone(), path)
    path.write_bytes(path.read_bytes()[:4096])
    assert "is a damaged or truncated PyTorch file (" in _one_line_error(path)


def test_flipped_bit_in_the_weights_is_detected(tmp_path):
    """A `model.pt` whose weight bytes were changed on disk (one flipped bit) while the file still reads.

    The SHA-256 content hash stored at save time no longer matches: one line says the file is damaged and to copy it again; no wrong weights are loaded."""
    path = tmp_path / "model.pt"
    save_model(_backbone(), path)
    with zipfile.ZipFile(path) as z:
        record = max(z.infolist(), key=lambda i: i.file_size)  # the largest tensor, stored
    data = bytearray(path.read_bytes())
    name_len, extra_len = struct.unpack(
        "<HH", data[record.header_offset + 26 : record.header_offset + 30]
    )
    data[record.header_offset + 30 + name_len + extra_len + record.file_size // 2] ^= 0x04
    path.write_bytes(bytes(data))
    torch.load(path, weights_only=True)  # PyTorch itself reads it without complaint
    message = _one_line_error(path)
    assert "is damaged: its content does not match the hash stored when it was saved" in message
    with pytest.raises(CheckpointError, match="is damaged"):
        load_weights(_backbone(), path)


def test_backbone_checkpoint_where_a_pose_model_is_needed(tmp_path):
    """A backbone-only checkpoint (`tnet_d1w64`) given to eval, predict or export, which need a whole pose model.

    With `pose_model=True` one line names what the file holds (`tnet_d1w64 (TNet)`) and asks for a whole pose model's checkpoint, instead of an attribute error later."""
    path = tmp_path / "backbone.pt"
    save_model(_backbone(), path)
    message = _one_line_error(path, pose_model=True)
    assert (
        "holds a tnet_d1w64 (TNet), not a pose model; pass the checkpoint of a whole pose model"
        in message
    )


def test_backbone_checkpoint_with_a_cganet_override(tmp_path):
    """`cgalib eval --flip` of a backbone-only checkpoint (the builder gets `flip_test=True`).

    One line: the file holds a `tnet_d1w64`, whose builder does not take `flip_test`."""
    path = tmp_path / "backbone.pt"
    save_model(_backbone(), path)
    assert "holds a tnet_d1w64, whose builder does not take flip_test" in _one_line_error(
        path, flip_test=True
    )


def test_plain_state_dict_passed_as_checkpoint(tmp_path):
    """`--checkpoint` a bare `model.state_dict()` saved with `torch.save`.

    One line: a plain state dict without the builder that rebuilds its model, and how to load it into a model built by hand (`load_state`)."""
    path = tmp_path / "weights.pt"
    torch.save(_backbone().state_dict(), path)
    message = _one_line_error(path)
    assert "is a plain state dict (" in message and "load_state(model, state" in message


def test_folder_passed_as_checkpoint(tmp_path):
    """`--checkpoint runs/x` (the run folder instead of a file in it).

    One line: the path is a folder, not a file."""
    assert f"is a folder, not a file; {EXPECTED}" in _one_line_error(tmp_path)


def test_unregistered_model_in_checkpoint(tmp_path):
    """A checkpoint of a model registered by user code that was not imported.

    One line naming the unregistered builder and saying to import the module that registers it."""
    model = _backbone()
    model.build_config = {"name": "my_pose_net", "kwargs": {}}
    path = tmp_path / "model.pt"
    save_model(model, path)
    assert "was saved from the model 'my_pose_net', which is not registered here" in (
        _one_line_error(path)
    )


def test_weights_of_another_architecture(tmp_path):
    """`load_weights` of a checkpoint into a model of another size.

    One line (not one line per tensor) counting the missing and unexpected keys and the shape mismatches, with the first five of each and the architecture saved."""
    path = tmp_path / "model.pt"
    save_model(_backbone(), path)
    wider = create_model("tnet_d3w96", num_blocks=0, stem_blocks=0)
    with pytest.raises(ValueError) as err:
        load_weights(wider, path)
    message = str(err.value)
    assert "\n" not in message and "(saved from tnet_d1w64) does not fit tnet_d3w96:" in message
    assert "missing keys" in message and "shape mismatches" in message and "... and" in message


def test_checkpoint_files_follow_the_umask(tmp_path):
    """Checkpoints written `-rw-------` (the temporary file of `tempfile.mkstemp`), unreadable to the group.

    Checkpoints, `model.pt` and `last.pt` alike, get the usual permissions of the umask: `-rw-r-----` under umask 027, `-rw-r--r--` under 022."""
    for umask, mode in ((0o027, 0o640), (0o022, 0o644)):
        old = os.umask(umask)
        try:
            save_model(_backbone(), tmp_path / f"model{umask}.pt")
        finally:
            os.umask(old)
        assert stat.S_IMODE((tmp_path / f"model{umask}.pt").stat().st_mode) == mode


def test_interrupted_save_keeps_the_previous_file(tmp_path):
    """A save interrupted half-way (an error or Ctrl-C while writing).

    The previous checkpoint stays intact and loadable, and no temporary file is left behind."""

    class _Boom:
        def __reduce__(self):
            raise KeyboardInterrupt

    path = tmp_path / "model.pt"
    save_model(_backbone(), path)
    before = path.read_bytes()
    with pytest.raises(KeyboardInterrupt):
        atomic_save({"w": torch.zeros(1000), "boom": _Boom()}, path)
    assert path.read_bytes() == before and load_checkpoint(path)["format"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]
