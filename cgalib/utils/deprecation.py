"""Names that moved: a module ``__getattr__`` that forwards them with a clear warning."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["moved_names"]


def moved_names(old_module: str, new_homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` serving names that now live in other modules.

    Accessing ``old_module.name`` imports ``new_homes[name]``, warns once per access with
    a ``DeprecationWarning`` that names the new import, and returns the object; any other
    name raises the usual ``AttributeError``.

    Args:
        old_module: the dotted name of the module that used to define the names.
        new_homes: ``{name: new_module}`` for each moved name.

    Examples:
        >>> __getattr__ = moved_names("pkg.old", {"sqrt": "math"})
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     __getattr__("sqrt")(4.0), str(caught[0].message)
        (2.0, 'pkg.old.sqrt moved: import it from math')
    """

    def __getattr__(name: str) -> Any:
        if name not in new_homes:
            raise AttributeError(f"module {old_module!r} has no attribute {name!r}")
        home = new_homes[name]
        warnings.warn(
            f"{old_module}.{name} moved: import it from {home}", DeprecationWarning, stacklevel=2
        )
        return getattr(importlib.import_module(home), name)

    return __getattr__
