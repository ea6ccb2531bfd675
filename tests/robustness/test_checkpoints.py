"""The checkpoint contract: files passed where a checkpoint is expected (the wrong kind,
damaged, not PyTorch at all, written by a newer cgalib), and checkpoints and exports written
(a full disk, a killed save, a folder given as the file).

``load_model`` and ``load_weights`` are what ``cgalib eval``, ``predict`` and ``export``
call with ``--checkpoint``; every case is one ``CheckpointError`` line that names the file,
says what it is and what was expected. Saving goes through ``atomic_open``: a failed write
is one line, and the previous file is intact.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import struct
import subprocess
import sys
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
    state_digest,
)
from cgalib.registry import create_model
from cgalib.utils import files

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


# ------------------------------------------------------------ files of a newer cgalib


def _as_if_newer(path: Path, **changes) -> Path:
    """Rewrite the checkpoint ``path`` with ``changes`` to its dict (a ``build_config`` key
    ``kwargs`` merged), its content hash recomputed, as a newer cgalib would have written it."""
    ckpt = load_checkpoint(path, torch.load(path, weights_only=True)["format"])
    ckpt.pop("digest", None)
    kwargs = changes.pop("kwargs", None)
    if kwargs:
        ckpt["build_config"] = {**ckpt["build_config"],
                                "kwargs": {**ckpt["build_config"]["kwargs"], **kwargs}}  # fmt: skip
    ckpt.update(changes)
    torch.save({**ckpt, "digest": state_digest(ckpt)}, path)
    return path


def test_checkpoint_with_a_builder_option_of_a_newer_cgalib(tmp_path):
    """A `model.pt` written by a newer cgalib whose builder took an option this one does not know (`attention_heads=4`).

    One line: the file was written by a newer cgalib, naming the builder option and the
    version that wrote it; upgrade cgalib. No TypeError traceback, no advice to read the
    builder's docstring."""
    path = tmp_path / "model.pt"
    save_model(_backbone(), path)
    _as_if_newer(path, kwargs={"attention_heads": 4}, cgalib_version="99.1.0")
    message = _one_line_error(path)
    assert "was written by a newer cgalib (cgalib 99.1.0" in message
    assert "builder option 'attention_heads' of tnet_d1w64" in message
    assert message.endswith("upgrade cgalib")


def test_checkpoint_with_a_newer_format_tag(tmp_path):
    """A `model.pt` whose format tag is `cgalib-model-v2`, from a newer cgalib that changed the file's layout.

    One line: the file was written by a newer cgalib (format cgalib-model-v2); upgrade
    cgalib. Not "holds a dict with the keys ..."."""
    path = tmp_path / "model.pt"
    save_model(_backbone(), path)
    _as_if_newer(path, format="cgalib-model-v2")
    message = _one_line_error(path)
    assert "was written by a newer cgalib (format cgalib-model-v2" in message
    assert "upgrade cgalib" in message and "holds a dict" not in message


def test_training_state_of_a_newer_cgalib(tmp_path):
    """`cgalib train --resume` of a `last.pt` written by a newer cgalib (format `cgalib-train-state-v2`).

    One line: the file was written by a newer cgalib, naming the format; upgrade cgalib."""
    path = tmp_path / "last.pt"
    save_checkpoint({"model": _backbone().state_dict(), "step": 3}, path, TRAIN_STATE_FORMAT)
    _as_if_newer(path, format="cgalib-train-state-v2", cgalib_version="99.0")
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path, TRAIN_STATE_FORMAT)
    message = str(err.value)
    assert "\n" not in message and message.startswith(str(path))
    assert "written by a newer cgalib (cgalib 99.0, format cgalib-train-state-v2" in message


def test_newer_checkpoint_with_weights_of_a_new_layer(tmp_path):
    """A `model.pt` of a newer cgalib whose model gained a layer: its weights have keys this cgalib's model lacks.

    The one line that counts the unexpected keys also says that the file was written by a
    newer cgalib, and to upgrade it."""
    path = tmp_path / "model.pt"
    model = _backbone()
    save_model(model, path)
    ckpt = load_checkpoint(path)
    state = {**ckpt["state_dict"], "refine.weight": torch.zeros(3)}
    _as_if_newer(path, state_dict=state, cgalib_version="99.0.0")
    with pytest.raises(ValueError) as err:
        load_model(path)
    message = str(err.value)
    assert "\n" not in message and "1 unexpected keys (refine.weight)" in message
    assert "written by a newer cgalib (cgalib 99.0.0" in message and "upgrade cgalib" in message


# ------------------------------------------------------------------- writing checkpoints


class _FullDisk(io.FileIO):
    """A file on a disk with ``room`` bytes left: writes past them fail with ENOSPC."""

    room = 2000

    def write(self, data):
        if self.tell() + len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(data)


def _full_disk_open(file, mode="r", buffering=-1, **kwargs):
    raw = _FullDisk(file, mode.replace("b", ""))
    return io.BufferedWriter(raw) if "b" in mode else io.TextIOWrapper(io.BufferedWriter(raw),
                                                                        **kwargs)  # fmt: skip


def test_disk_full_while_saving_a_checkpoint(tmp_path, monkeypatch):
    """The disk fills up while training saves its checkpoint (torch's own message: `[enforce fail at inline_container.cc:672] . unexpected pos`).

    One line: no space left on the device, the file, and that the previous checkpoint is
    intact (nothing lost); it still loads, and no temporary file is left."""
    path = tmp_path / "model.pt"
    save_model(_backbone(), path)
    before = path.read_bytes()
    monkeypatch.setattr(files, "open", _full_disk_open, raising=False)
    with pytest.raises(OSError) as err:
        save_model(_backbone(), path)
    message = str(err.value)
    assert "\n" not in message and "enforce fail" not in message
    assert message.startswith(f"cannot write {path}: no space left on the device")
    assert "intact" in message and "nothing lost" in message
    assert path.read_bytes() == before and load_checkpoint(path)["format"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]


_SLOW_WRITER = """
import sys, time
from cgalib.utils.files import atomic_open
with atomic_open(sys.argv[1], "wb") as f:
    f.write(b"PK")
    f.flush()
    print("writing", flush=True)
    time.sleep(120)
"""


def test_killed_save_leaves_no_temporary_file(tmp_path):
    """A save killed with `kill -9` (or by the out-of-memory killer) in the middle of writing.

    The previous file is intact; the temporary file the killed process left (named after the
    file, `.model.pt.cgalib-partial...tmp`, with its process id) is removed by the next save
    of that folder, as its process is gone: no 0-byte leftovers pile up."""
    path = tmp_path / "model.pt"
    env = {**os.environ, "PYTHONPATH": str(Path(files.__file__).parents[2])}
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(path)], env=env,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout.readline().strip() == "writing"
        (temp,) = [p.name for p in tmp_path.iterdir()]
        assert temp.startswith(".model.pt.") and str(proc.pid) in temp
    finally:
        proc.kill()
        proc.wait()
    assert not path.exists()
    save_model(_backbone(), path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]


def test_save_to_a_path_that_is_a_folder(tmp_path):
    """`save_model(model, "runs/exp1")` where `runs/exp1` is an existing folder (the file name left out).

    One line: the path is a folder; give the file to write. The message names the path
    given, never an internal temporary file, and nothing is written."""
    folder = tmp_path / "exp1"
    folder.mkdir()
    with pytest.raises(OSError) as err:
        save_model(_backbone(), folder)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{folder} is a folder; give the file")
    assert ".tmp" not in message and list(folder.iterdir()) == []


def test_export_to_a_folder(tmp_path):
    """`cgalib export --out exports/` (a folder) instead of the .onnx file to write.

    One line: the path is a folder; give the .onnx file to write (with an example name),
    before any tracing. The message never names an internal temporary file."""
    from cgalib.export import export_onnx

    model = create_model("cganet_tnet_d1w16", input_size=64)
    with pytest.raises(ValueError) as err:
        export_onnx(model, tmp_path)
    message = str(err.value)
    assert "\n" not in message and ".tmp" not in message
    assert message.startswith(f"{tmp_path} is a folder; give the .onnx file to write")
