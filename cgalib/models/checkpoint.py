"""Checkpoints that know their architecture: builder name + kwargs stored with the weights."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cgalib.registry import create_model

__all__ = ["atomic_save", "load_model", "load_state", "load_weights", "save_model"]

FORMAT = "cgalib-model-v1"


def atomic_save(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save`` to a temporary file in the same folder, then rename over ``path``.

    An interrupted save never leaves a truncated checkpoint behind.

    Args:
        obj: anything ``torch.save`` accepts.
        path: destination file; its folder is created if missing.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_model(model: nn.Module, path: str | os.PathLike, **extra: Any) -> None:
    """Save weights with the builder name and kwargs recorded by :func:`create_model`.

    Args:
        model: a model; if it was built by ``create_model`` its ``build_config`` is stored
            so that :func:`load_model` can rebuild it.
        path: the file to write (atomically).
        **extra: more JSON-serialisable metadata to store (e.g. ``epoch``).

    Raises:
        TypeError: if the recorded builder kwargs are not JSON-serialisable.
    """
    config = getattr(model, "build_config", None)
    if config is not None:
        try:
            json.dumps(config)
        except TypeError as err:
            raise TypeError(
                f"cannot save builder kwargs {config['kwargs']!r}: they must be JSON values "
                "(numbers, strings, lists, dicts) so the checkpoint can rebuild the model"
            ) from err
    atomic_save(
        {
            "format": FORMAT,
            "build_config": config,
            "state_dict": model.state_dict(),
            "extra": extra,
        },
        path,
    )


def _read(path: str | os.PathLike, map_location) -> dict:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    ckpt = torch.load(path, map_location=map_location, weights_only=True)
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise ValueError(f"{path} is not a cgalib model checkpoint (format {FORMAT!r} expected)")
    return ckpt


def load_weights(
    model: nn.Module, path: str | os.PathLike, map_location: str | torch.device = "cpu"
) -> nn.Module:
    """Load a checkpoint's weights into an existing model, failing clearly on any mismatch.

    Args:
        model: the model to fill.
        path: a file written by :func:`save_model`.
        map_location: passed to ``torch.load``.

    Returns:
        ``model``.

    Raises:
        ValueError: listing missing keys, unexpected keys and shape mismatches, and the
            architecture the checkpoint was saved from.
    """
    return _apply(model, _read(path, map_location), path)


def load_state(
    model: nn.Module, state: dict[str, torch.Tensor], source: str, saved_from: str | None = None
) -> nn.Module:
    """Load a state dict, failing with one clear message on any mismatch.

    Checkpoints of an older layout are first renamed by the model's
    ``upgrade_state_dict`` (when it has one).

    Args:
        model: the model to fill.
        state: the weights.
        source: what the weights come from, for the message (a file, a model).
        saved_from: the architecture they were saved from, for the message.

    Returns:
        ``model``.

    Raises:
        ValueError: listing missing keys, unexpected keys and shape mismatches.
    """
    upgrade = getattr(model, "upgrade_state_dict", None)
    if upgrade is not None:
        state = upgrade(state)
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = sorted(
        f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in set(own) & set(state)
        if state[k].shape != own[k].shape
    )
    if missing or unexpected or shapes:
        built = (getattr(model, "build_config", None) or {}).get("name", type(model).__name__)

        def head(items: list[str]) -> str:
            more = f" ... and {len(items) - 5} more" if len(items) > 5 else ""
            return ", ".join(items[:5]) + more

        parts = [f"{source} (saved from {saved_from or 'an unnamed model'}) does not fit {built}:"]
        if missing:
            parts.append(f"{len(missing)} missing keys ({head(missing)})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys ({head(unexpected)})")
        if shapes:
            parts.append(f"{len(shapes)} shape mismatches ({head(shapes)})")
        raise ValueError("\n  ".join(parts))
    model.load_state_dict(state)
    return model


def _apply(model: nn.Module, ckpt: dict, path) -> nn.Module:
    saved = (ckpt.get("build_config") or {}).get("name")
    return load_state(model, ckpt["state_dict"], f"checkpoint {path}", saved)


def load_model(
    path: str | os.PathLike, map_location: str | torch.device = "cpu", **overrides: Any
) -> nn.Module:
    """Rebuild a model from a checkpoint written by :func:`save_model` and load its weights.

    Args:
        path: the checkpoint file.
        map_location: passed to ``torch.load`` (``"cpu"``, ``"cuda"``...).
        **overrides: builder arguments that replace the recorded ones, for a variant
            with the same weights (e.g. ``flip_test=True`` or ``box_extension="fixed"``);
            an override that changes the weights' shapes fails like any mismatch.

    Returns:
        The model, in eval mode.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if the file is not a cgalib checkpoint, carries no builder name, or its
            weights do not fit the rebuilt architecture.
    """
    ckpt = _read(path, map_location)
    config = ckpt.get("build_config")
    if not config:
        raise ValueError(
            f"{path} records no builder name (the model was not built with create_model); "
            "build the architecture yourself and call load_weights(model, path)"
        )
    model = create_model(config["name"], **{**config["kwargs"], **overrides})
    return _apply(model, ckpt, path).eval()
