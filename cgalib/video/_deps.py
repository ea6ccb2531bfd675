"""The optional dependencies of [`cgalib.video`][cgalib.video] (the ``video`` extra), imported on use."""

from __future__ import annotations

import importlib
from types import ModuleType

_EXTRA = "pip install cgalib[video]"


def require(module: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise one line that says what needs it and what to install.

    Args:
        module: the module to import (``"av"``, ``"scipy.optimize"``).
        purpose: what needs it, for the message (``"reading video"``).

    Raises:
        ImportError: naming the package and ``pip install cgalib[video]``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        package = {"av": "PyAV (av)"}.get(module, module.split(".")[0])
        raise ImportError(f"{purpose} needs {package}, which is not installed: {_EXTRA}") from err
