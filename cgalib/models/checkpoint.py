"""Checkpoint files: weights with the builder that rebuilds them, written atomically, with a
content hash that detects damage, read with one-line messages for anything else.

Two kinds of file share the machinery: a *model checkpoint* (``model.pt``,
`FORMAT`, written by [`save_model()`][save_model]) and the *training state* of a run
(``last.pt``, `TRAIN_STATE_FORMAT`, written by [`cgalib.engine.train_model()`][cgalib.engine.train_model] for
``--resume``). Both are plain dicts of tensors and Python values, so they load with
``torch.load(weights_only=True)``: no pickled code runs when a file is read.

**The checkpoint contract.** Every file records the cgalib version that wrote it
(``cgalib_version``; files written before it was recorded load as before). Reading checks,
each failure one [`CheckpointError`][CheckpointError] line naming the file: what the file is
when it is not the checkpoint asked for (empty, text, truncated, pickled code, a plain state
dict, the other kind), its content hash, and the files of a newer cgalib: a newer
``format`` tag, a builder option the builder here does not take, or options or weights that
do not fit, all say *written by a newer cgalib (...); upgrade cgalib*. Writing is atomic
([`atomic_open()`][cgalib.utils.atomic_open]): a full disk or any other failed write is one
line saying that the previous file is intact.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import string
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cgalib.models.contract import check_pose_model
from cgalib.models.pretrained import PRETRAINED, pretrained_path
from cgalib.registry import (
    BuilderArgumentError,
    build_config,
    build_name,
    create_model,
    list_models,
)
from cgalib.utils.files import atomic_open

__all__ = [
    "FORMAT",
    "TRAIN_STATE_FORMAT",
    "CheckpointError",
    "atomic_save",
    "cgalib_version",
    "load_checkpoint",
    "load_model",
    "load_state",
    "load_weights",
    "save_checkpoint",
    "save_model",
    "state_digest",
    "trained_on",
]

FORMAT = "cgalib-model-v1"
"""The ``format`` tag of a model checkpoint (``model.pt``)."""
TRAIN_STATE_FORMAT = "cgalib-train-state-v1"
"""The ``format`` tag of a run's training state (``last.pt``)."""

_EXPECTED = {
    FORMAT: "a cgalib model checkpoint (a model.pt written by cgalib.save_model or cgalib train)",
    TRAIN_STATE_FORMAT: "a cgalib training state (the last.pt that cgalib train writes)",
}
_IS = {
    FORMAT: "is a model checkpoint (a model.pt), not a training state",
    TRAIN_STATE_FORMAT: "is the training state of a run (a last.pt, for cgalib train --resume), "
    "not a model checkpoint; pass the model.pt next to it",
}
_DIGEST = "digest"
_VERSION = "cgalib_version"
_TAG = re.compile(r"cgalib-(?P<kind>[a-z][a-z-]*)-v(?P<number>\d+)")
_UPGRADE = "upgrade cgalib"


class CheckpointError(ValueError):
    """A file is not the checkpoint that was asked for, or its content is damaged.

    The message is one line: the file, what it is, what was expected and what to do.
    """


def cgalib_version() -> str:
    """The version of the running cgalib (what [`save_checkpoint()`][save_checkpoint] records).

    Examples:
        >>> cgalib_version()[0].isdigit()
        True
    """
    version = getattr(sys.modules.get("cgalib"), "__version__", None)  # the package's own
    if isinstance(version, str):
        return version
    try:
        return importlib.metadata.version("cgalib")
    except importlib.metadata.PackageNotFoundError:
        return "0"


def _release(version: Any) -> tuple[int, ...] | None:
    """``"0.2.1"`` as ``(0, 2, 1)``; ``None`` for anything that does not start with a number."""
    found = re.match(r"\d+(\.\d+)*", version) if isinstance(version, str) else None
    return tuple(int(n) for n in found.group().split(".")) if found else None


def _compare(ckpt: dict) -> int:
    """1 if ``ckpt`` records a newer cgalib than the running one, -1 an older, else 0 (the
    same version, or none recorded)."""
    theirs, ours = _release(ckpt.get(_VERSION)), _release(cgalib_version())
    if theirs is None or ours is None or theirs == ours:
        return 0
    return 1 if theirs > ours else -1


def _newer(ckpt: dict) -> str | None:
    """The version recorded in ``ckpt`` when it is newer than the running cgalib."""
    return str(ckpt[_VERSION]) if _compare(ckpt) > 0 else None


def _written_by_newer(ckpt: dict, what: str) -> str:
    """``written by a newer cgalib (cgalib X, <what>; this is cgalib Y); upgrade cgalib``."""
    newer = _newer(ckpt)
    recorded = f"cgalib {newer}, " if newer else ""
    return (
        f"was written by a newer cgalib ({recorded}{what}; this is cgalib {cgalib_version()}); "
        f"{_UPGRADE}"
    )


def atomic_save(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save`` to a temporary file in the same folder, then rename over ``path``.

    An interrupted save never leaves a truncated checkpoint behind, and the file gets the
    usual permissions of the umask (not the ``-rw-------`` of ``tempfile.mkstemp``).

    Args:
        obj: anything ``torch.save`` accepts.
        path: destination file; its folder is created if missing.

    Raises:
        OutputError: (an ``OSError``) one line when the file cannot be written: no space
            left on the device (torch's own ``[enforce fail at inline_container.cc:672]
            . unexpected pos`` is not shown), a read-only file system, ``path`` a folder;
            the previous file is intact.

    Examples:
        >>> import tempfile, pathlib
        >>> with tempfile.TemporaryDirectory() as d:
        ...     atomic_save({"w": torch.ones(2)}, pathlib.Path(d) / "x.pt")
        ...     sorted(p.name for p in pathlib.Path(d).iterdir())
        ['x.pt']
    """
    with atomic_open(path, "wb") as f:
        torch.save(obj, f)


def _feed(h: Any, obj: Any) -> None:
    if torch.is_tensor(obj):
        t = obj.detach().cpu().contiguous().reshape(-1)
        h.update(f"T{t.dtype}{tuple(obj.shape)}".encode())
        if t.numel():
            h.update(t.view(torch.uint8).numpy().data)
    elif isinstance(obj, dict):
        h.update(f"D{len(obj)}".encode())
        for key in sorted(obj, key=lambda k: (str(k), type(k).__name__)):
            h.update(f"K{type(key).__name__}:{key!s}".encode())
            _feed(h, obj[key])
    elif isinstance(obj, (list, tuple)):
        h.update(f"{'L' if isinstance(obj, list) else 'U'}{len(obj)}".encode())
        for item in obj:
            _feed(h, item)
    else:
        h.update(f"V{type(obj).__name__}:{obj!r}".encode())


def state_digest(obj: Any) -> str:
    """The SHA-256 of a nested state: every tensor's dtype, shape and bytes, every value.

    Dicts are hashed in sorted key order, so the digest of a state dict is the same before
    saving and after loading, on any device. It takes about 0.1 s for the 20M-parameter
    ``cganet_tnet_d1w64`` (82 MB) on one CPU core.

    Args:
        obj: tensors, dicts, lists, tuples and plain Python values, nested.

    Returns:
        ``"sha256:"`` followed by 64 hex digits.

    Examples:
        >>> state_digest({"w": torch.zeros(2)}) == state_digest({"w": torch.zeros(2)})
        True
        >>> state_digest({"w": torch.zeros(2)}) == state_digest({"w": torch.ones(2)})
        False
    """
    h = hashlib.sha256()
    _feed(h, obj)
    return f"sha256:{h.hexdigest()}"


def save_checkpoint(content: dict[str, Any], path: str | os.PathLike, format: str) -> None:
    """Write ``content`` with its ``format`` tag, the cgalib version and `state_digest()`,
    atomically.

    Args:
        content: a dict of tensors and plain Python values (what ``torch.load`` reads back
            with ``weights_only=True``).
        path: the file to write.
        format: `FORMAT` or `TRAIN_STATE_FORMAT`.

    Raises:
        OutputError: (an ``OSError``) one line when the file cannot be written, e.g. no
            space left on the device; the previous file is intact (see
            [`atomic_save()`][atomic_save]).
    """
    body = {"format": format, **content, _VERSION: cgalib_version()}
    atomic_save({**body, _DIGEST: state_digest(body)}, path)


_TEXT = set(string.printable.encode())


def _what_it_is(path: Path, err: BaseException) -> str:
    """Describe a file ``torch.load`` could not read: empty, text, damaged, pickled code."""
    with path.open("rb") as f:
        head = f.read(256)
    if not head:
        return "is empty (0 bytes)"
    found = re.search(r"GLOBAL ([\w.]+)", str(err))
    if found and "Weights only" in str(err):
        return (
            f"holds pickled Python objects ({found.group(1)}), e.g. a whole model saved with "
            "torch.save(model), which cgalib does not unpickle because that could run code"
        )
    if head.startswith(b"PK\x03\x04"):
        first = str(err).strip().split(". ")[0].splitlines()[0] or type(err).__name__
        return f"is a damaged or truncated PyTorch file ({first})"
    if all(b in _TEXT for b in head):
        snippet = head[:40].decode(errors="replace").splitlines()[0]
        return f"is a text file (it starts with {snippet!r}), not a PyTorch file"
    if head[:1] == b"\x80":
        return "is a pickle that is not a PyTorch checkpoint"
    return f"is not a PyTorch file (it starts with the bytes {head[:8].hex(' ')})"


def _what_it_holds(ckpt: Any, expected: str) -> tuple[str, str]:
    """Describe a loaded object that is not the checkpoint of format ``expected``, and what
    to do."""
    if isinstance(ckpt, dict):
        if ckpt.get("format") in _IS:
            return _IS[ckpt["format"]], ""
        tag = _TAG.fullmatch(str(ckpt.get("format")))
        if tag is not None:
            kinds = {_TAG.fullmatch(f)["kind"]: f for f in _IS}
            ours = kinds.get(tag["kind"])
            if ours is not None and ours != expected:  # a newer version of the other kind
                return f"{_IS[ours]} (format {tag.group()})", ""
            if ours is not None and int(tag["number"]) < int(_TAG.fullmatch(ours)["number"]):
                return f"has the format tag {tag.group()}, which no cgalib reads any more", ""
            return _written_by_newer(ckpt, f"format {tag.group()}"), ""
        if ckpt and all(torch.is_tensor(v) for v in ckpt.values()):
            return (
                f"is a plain state dict ({len(ckpt)} tensors, e.g. {next(iter(ckpt))!r}) "
                "without the builder that rebuilds its model",
                "build the model and call cgalib.models.load_state(model, state, str(path))",
            )
        if {"model", "optimizer"} <= set(ckpt):
            return "is the training state of an older cgalib version (no format tag)", ""
        keys = ", ".join(repr(k) for k in list(ckpt)[:5])
        return f"holds a dict with the keys {keys}", ""
    return f"holds a {type(ckpt).__name__}", ""


def load_checkpoint(
    path: str | os.PathLike,
    format: str = FORMAT,
    map_location: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Read a cgalib checkpoint of the given ``format`` and verify its content hash.

    Whatever else the file is (empty, text, truncated, a pickled module, a plain state
    dict, the other kind of cgalib checkpoint, one of a newer cgalib with a format tag
    unknown here), the error is one line that says what the file is and what was expected
    (for a newer format: to upgrade cgalib). Files saved before the hash was introduced
    load without the check.

    Args:
        path: the file.
        format: `FORMAT` (``model.pt``) or `TRAIN_STATE_FORMAT` (``last.pt``).
        map_location: passed to ``torch.load``.

    Returns:
        The checkpoint dict (``format``, the content, and ``digest`` when it has one).

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        CheckpointError: if the file is not a checkpoint of ``format`` or is damaged.
    """
    path = Path(path)
    expected = _EXPECTED[format]
    if not path.exists():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    if not path.is_file():
        raise CheckpointError(f"{path} is a folder, not a file; expected {expected}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ckpt = torch.load(path, map_location=map_location, weights_only=True)
        except Exception as err:  # noqa: BLE001  (every reader error becomes one line)
            what = _what_it_is(path, err)
            raise CheckpointError(f"{path} {what}; expected {expected}") from None
    for w in caught:  # the warnings of a file that did load are the caller's to see
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if not isinstance(ckpt, dict) or ckpt.get("format") != format:
        what, todo = _what_it_holds(ckpt, format)
        if what.endswith(_UPGRADE):  # a newer cgalib's file: what was expected is no news
            raise CheckpointError(f"{path} {what}")
        raise CheckpointError(f"{path} {what}; expected {expected}" + (f"; {todo}" if todo else ""))
    stored = ckpt.get(_DIGEST)
    if stored is not None:
        body = {k: v for k, v in ckpt.items() if k != _DIGEST}
        if state_digest(body) != stored:
            raise CheckpointError(
                f"{path} is damaged: its content does not match the hash stored when it was "
                "saved; copy it again or use another checkpoint"
            )
    return ckpt


def save_model(
    model: nn.Module,
    path: str | os.PathLike,
    weights: Mapping[str, torch.Tensor] | None = None,
    **extra: Any,
) -> None:
    """Save weights with the builder name and kwargs recorded by [`create_model()`][create_model].

    The file also stores a SHA-256 of its content (`state_digest()`), checked by
    [`load_model()`][load_model] and [`load_weights()`][load_weights].

    Args:
        model: a model; if it was built by ``create_model`` its ``build_config`` is stored
            so that [`load_model()`][load_model] can rebuild it.
        path: the file to write (atomically).
        weights: the state dict to store instead of the model's own (a moving average of
            its weights, for instance); the model's keys.
        **extra: more JSON-serialisable metadata to store (e.g. ``epoch``).

    Raises:
        TypeError: if the recorded builder kwargs are not JSON-serialisable.
    """
    config = build_config(model)
    if config is not None:
        try:
            json.dumps(config)
        except TypeError as err:
            raise TypeError(
                f"cannot save builder kwargs {config['kwargs']!r}: they must be JSON values "
                "(numbers, strings, lists, dicts) so the checkpoint can rebuild the model"
            ) from err
    save_checkpoint(
        {
            "build_config": config,
            "state_dict": dict(weights) if weights is not None else model.state_dict(),
            "extra": extra,
        },
        path,
        FORMAT,
    )


def trained_on(source: nn.Module | str | os.PathLike) -> str | None:
    """What a model or a model checkpoint was trained on, as recorded: the training annotation
    file's ``info.description`` that ``cgalib train`` keeps in ``model.pt`` (``"cgalib
    synthetic crowd set"`` for the synthetic set), or a shipped checkpoint's ``trained_on``.

    Args:
        source: a model returned by [`load_model()`][load_model] (which records it), a
            ``model.pt``, or the name of a shipped checkpoint.

    Returns:
        The description, or ``None`` when none is recorded (a model built by
        ``create_model``, older files, data without ``info.description``).

    Examples:
        >>> trained_on("cganet_tnet_d1w16.synthetic")
        'cgalib synthetic crowd set'
        >>> trained_on(load_model("cganet_tnet_d1w16.synthetic"))
        'cgalib synthetic crowd set'
    """
    if isinstance(source, nn.Module):
        return vars(source).get("trained_on")
    if not Path(source).is_file() and str(source) in PRETRAINED:
        return _shipped_training_data(str(source))
    return _training_data(load_checkpoint(source), source)


def load_weights(
    model: nn.Module, path: str | os.PathLike, map_location: str | torch.device = "cpu"
) -> nn.Module:
    """Load a checkpoint's weights into an existing model, failing clearly on any mismatch.

    Args:
        model: the model to fill.
        path: a file written by [`save_model()`][save_model].
        map_location: passed to ``torch.load``.

    Returns:
        ``model``.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        CheckpointError: if the file is not a model checkpoint or is damaged (see
            [`load_checkpoint()`][load_checkpoint]).
        ValueError: listing missing keys, unexpected keys and shape mismatches, and the
            architecture the checkpoint was saved from.
    """
    return _apply(model, load_checkpoint(path, FORMAT, map_location), path)


def load_state(
    model: nn.Module, state: dict[str, torch.Tensor], source: str, saved_from: str | None = None
) -> nn.Module:
    """Load a state dict, failing with one clear line on any mismatch.

    Args:
        model: the model to fill.
        state: the weights.
        source: what the weights come from, for the message (a file, a model).
        saved_from: the architecture they were saved from, for the message.

    Returns:
        ``model``.

    Raises:
        ValueError: counting missing keys, unexpected keys and shape mismatches, with the
            first five of each.
    """
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = sorted(
        f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in set(own) & set(state)
        if state[k].shape != own[k].shape
    )
    if missing or unexpected or shapes:
        built = build_name(model)

        def head(items: list[str]) -> str:
            more = f" ... and {len(items) - 5} more" if len(items) > 5 else ""
            return ", ".join(items[:5]) + more

        parts = []
        if missing:
            parts.append(f"{len(missing)} missing keys ({head(missing)})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys ({head(unexpected)})")
        if shapes:
            parts.append(f"{len(shapes)} shape mismatches ({head(shapes)})")
        raise ValueError(
            f"{source} (saved from {saved_from or 'an unnamed model'}) does not fit {built}: "
            + "; ".join(parts)
        )
    model.load_state_dict(state)
    return model


def _apply(model: nn.Module, ckpt: dict, path) -> nn.Module:
    saved = (ckpt.get("build_config") or {}).get("name")
    try:
        return load_state(model, ckpt["state_dict"], f"checkpoint {path}", saved)
    except ValueError as err:
        newer = _newer(ckpt)
        if newer is None:
            raise
        raise ValueError(
            f"{err}; the file was written by a newer cgalib (cgalib {newer}; this is cgalib "
            f"{cgalib_version()}): {_UPGRADE}"
        ) from None


def load_model(
    path: str | os.PathLike,
    map_location: str | torch.device = "cpu",
    *,
    pose_model: bool = False,
    **overrides: Any,
) -> nn.Module:
    """Rebuild a model from a checkpoint written by [`save_model()`][save_model] and load its weights.

    Args:
        path: the checkpoint file, or the name of a checkpoint shipped with cgalib
            (`list_pretrained()`, e.g.
            ``"cganet_tnet_d1w16.synthetic"``) when no file of that name exists.
        map_location: passed to ``torch.load`` (``"cpu"``, ``"cuda"``...).
        pose_model: the caller needs a whole pose model (one that carries the
            [model contract][cgalib.models.PoseModel], as evaluation, prediction and export
            do); a checkpoint of anything else (a backbone alone) fails with one line
            naming what it holds.
        **overrides: builder arguments that replace the recorded ones, for a variant
            with the same weights (e.g. ``flip_test=True`` or ``box_extension="fixed"``);
            an override that changes the weights' shapes fails like any mismatch.

    Returns:
        The model, in eval mode.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        CheckpointError: if the file is not a model checkpoint, is damaged, records no
            builder name, holds something else than a pose model when ``pose_model`` is
            set, or its builder does not take an override; and, saying to upgrade
            cgalib, if it was written by a newer cgalib (a newer format tag, a builder
            option unknown here, or recorded options that do not build here).
        ValueError: if the weights do not fit the rebuilt architecture (saying to upgrade
            cgalib when the file records a newer version).

    Examples:
        >>> import tempfile, pathlib
        >>> from cgalib.registry import create_model
        >>> with tempfile.TemporaryDirectory() as d:
        ...     save_model(create_model("tnet_d1w64", num_blocks=0), pathlib.Path(d) / "b.pt")
        ...     load_model(pathlib.Path(d) / "b.pt").strides
        (4, 8, 16, 32)
        >>> load_model("cganet_tnet_d1w16.synthetic").input_rule.side  # shipped with cgalib
        192
    """
    if isinstance(path, str) and path in PRETRAINED and not Path(path).exists():
        path = pretrained_path(path)
    ckpt = load_checkpoint(path, FORMAT, map_location)
    config = ckpt.get("build_config")
    if not config:
        raise CheckpointError(
            f"{path} records no builder name (the model was not built with create_model); "
            "build the architecture yourself and call load_weights(model, path)"
        )
    name = config["name"]
    if name not in list_models():
        raise CheckpointError(
            f"{path} was saved from the model {name!r}, which is not registered here; import "
            "the module that registers it first"
        )
    try:
        model = create_model(name, **{**config["kwargs"], **overrides})
    except BuilderArgumentError as err:
        unknown = re.search(r"takes no argument '(\w+)'", str(err))
        option = unknown.group(1) if unknown else None
        if overrides and (option is None or option in overrides):
            raise CheckpointError(
                f"{path} holds a {name}, whose builder does not take {', '.join(overrides)} ({err})"
            ) from None
        if _compare(ckpt) < 0:  # an option that this (newer) cgalib dropped
            raise CheckpointError(
                f"{path} was written by cgalib {ckpt[_VERSION]}, older than this cgalib "
                f"{cgalib_version()}, whose {name} no longer takes the option {option!r}; load "
                f"it with cgalib {ckpt[_VERSION]}"
            ) from None
        raise CheckpointError(
            f"{path} {_written_by_newer(ckpt, f'builder option {option!r} of {name}')}"
        ) from None
    except (TypeError, ValueError, KeyError) as err:
        if _newer(ckpt) is None:
            raise
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(
            f"{path} {_written_by_newer(ckpt, f'its {name} options do not build here: {first}')}"
        ) from None
    if pose_model:
        try:
            check_pose_model(model, "this command")
        except TypeError:
            raise CheckpointError(
                f"{path} holds a {name} ({type(model).__name__}), not a pose model; pass the "
                "checkpoint of a whole pose model (e.g. the model.pt of cgalib train)"
            ) from None
    described = _training_data(ckpt, path)
    if described is not None:  # recorded like build_config: read by trained_on(model)
        vars(model)["trained_on"] = described
    return _apply(model, ckpt, path).eval()


def _training_data(ckpt: dict[str, Any], path: str | os.PathLike) -> str | None:
    """The training data a loaded checkpoint records, a shipped one's from its JSON."""
    value = (ckpt.get("extra") or {}).get("trained_on")
    if value is None:
        for name in PRETRAINED:
            if Path(path).resolve() == pretrained_path(name, must_exist=False).resolve():
                return _shipped_training_data(name)
    return value if isinstance(value, str) else None


def _shipped_training_data(name: str) -> str | None:
    """The training data a shipped checkpoint's JSON records."""
    from cgalib.models.pretrained import pretrained_info

    value = pretrained_info(name).get("trained_on")
    return value if isinstance(value, str) else None
