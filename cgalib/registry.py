"""Model registry: named builders, ``create_model(name, **kwargs)`` and ``list_models()``.

Every builder (a backbone such as ``tnet_d1w64`` or a complete model) registers itself
with [`register_model()`][register_model] when its module is imported; ``create_model`` looks it up by
name and passes the keyword arguments through, so a builder's paper defaults can be
overridden one by one. The registry imports nothing of cgalib: importing
[`cgalib.models`][cgalib.models] (which ``import cgalib`` does, as does importing any ``cgalib.*``
module, since Python imports the package first) registers every builder.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from typing import Any, TypeVar

from torch import nn

__all__ = [
    "BuilderArgumentError",
    "build_config",
    "build_name",
    "create_model",
    "get_model_builder",
    "list_models",
    "register_model",
]

_BUILDERS: dict[str, Callable[..., nn.Module]] = {}


class BuilderArgumentError(ValueError):
    """A keyword argument that a model's builder does not take (the message names it)."""


B = TypeVar("B", bound=Callable[..., nn.Module])


def register_model(builder: B) -> B:
    """Register a model builder under its function name (decorator).

    Args:
        builder: a function returning an ``nn.Module``; its ``__name__`` becomes the model name.

    Returns:
        The builder, unchanged.

    Raises:
        ValueError: if a builder of that name is already registered.
    """
    name = builder.__name__
    if name in _BUILDERS and _BUILDERS[name] is not builder:
        raise ValueError(f"a model named {name!r} is already registered")
    _BUILDERS[name] = builder
    return builder


def list_models(pattern: str = "*") -> list[str]:
    """Names of the registered builders, sorted.

    Args:
        pattern: a shell-style wildcard such as ``"cganet_*"``.

    Returns:
        The sorted names matching ``pattern``.

    Examples:
        >>> "tnet_d1w64" in list_models("tnet_*")
        True
    """
    return sorted(n for n in _BUILDERS if fnmatch.fnmatch(n, pattern))


def get_model_builder(name: str) -> Callable[..., nn.Module]:
    """The builder registered as ``name``.

    Raises:
        KeyError: naming the unknown model and listing the known ones.
    """
    try:
        return _BUILDERS[name]
    except KeyError:
        raise KeyError(
            f"unknown model {name!r}; registered models: {', '.join(sorted(_BUILDERS))}"
        ) from None


def create_model(name: str, **kwargs: Any) -> nn.Module:
    """Build a registered model by name.

    Args:
        name: a name from [`list_models()`][list_models].
        **kwargs: passed to the builder, overriding its defaults.

    Raises:
        KeyError: for an unknown name.
        BuilderArgumentError: (a ``ValueError``) for a keyword argument the builder does
            not take, naming it.

    Returns:
        The model, in training mode, randomly initialised. Its ``build_config``
        attribute records ``{"name": name, "kwargs": kwargs}`` so that a checkpoint can
        rebuild it (see [`cgalib.save_model()`][cgalib.save_model]); a value with a ``to_dict()`` method
        (a [`KeypointSet`][cgalib.utils.keypoint_set.KeypointSet]) is recorded as that dict, so
        the record stays JSON.

    Examples:
        >>> create_model("tnet_d1w64").strides
        (4, 8, 16, 32)
    """
    try:
        model = get_model_builder(name)(**kwargs)
    except TypeError as err:  # a keyword the builder does not take: one line, not a trace
        unknown = re.search(r"unexpected keyword argument '(\w+)'", str(err))
        if unknown is None:
            raise
        raise BuilderArgumentError(
            f"{name} takes no argument {unknown.group(1)!r}; see its builder's docstring, "
            f"help(cgalib.registry.get_model_builder({name!r}))"
        ) from None
    recorded = {k: v.to_dict() if callable(getattr(v, "to_dict", None)) else v
                for k, v in kwargs.items()}  # fmt: skip
    model.build_config = {"name": name, "kwargs": recorded}
    return model


def build_config(model: nn.Module) -> dict[str, Any] | None:
    """What [`create_model()`][create_model] recorded on ``model``: ``{"name", "kwargs"}``, or
    ``None`` for a model composed by hand (it cannot be rebuilt by name).

    Examples:
        >>> build_config(create_model("tnet_d1w64", num_blocks=0))
        {'name': 'tnet_d1w64', 'kwargs': {'num_blocks': 0}}
        >>> build_config(nn.Linear(2, 2)) is None
        True
    """
    return vars(model).get("build_config")


def build_name(model: nn.Module) -> str:
    """The registered name ``model`` was built under, else its class name (for messages).

    Examples:
        >>> build_name(create_model("tnet_d1w64", num_blocks=0)), build_name(nn.Linear(2, 2))
        ('tnet_d1w64', 'Linear')
    """
    config = build_config(model)
    return config["name"] if config else type(model).__name__
