"""Checkpoints shipped with cgalib, loadable by name: ``load_model("cganet_tnet_d1w16.synthetic")``.

Each is package data under ``cgalib/weights/`` with a JSON beside it (the metrics on a held-out
split, the command that trained it, the machine and date), written by
``docs/scripts/shipped_checkpoint.py``.

Example:
    >>> "cganet_tnet_d1w16.synthetic" in list_pretrained()
    True
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from types import MappingProxyType

__all__ = ["HELD_OUT", "PRETRAINED", "list_pretrained", "pretrained_info", "pretrained_path"]

PRETRAINED = MappingProxyType(
    {
        "cganet_tnet_d1w16.synthetic": (
            "The demo model (cganet_tnet_d1w16, 192 px) trained on the synthetic crowd set, "
            "people 24 px tall and up, with the demo's CPU recipe and a zoom of 0.6-1.6 (its "
            "JSON holds both); it knows synthetic people only."
        ),
    }
)
"""Shipped checkpoint names and what each is."""

HELD_OUT = MappingProxyType(
    {"num_train": 0, "num_val": 50, "seed": 7, "size": 192, "min_height": 48}
)
"""The held-out synthetic split the shipped checkpoints are measured on
([`cgalib.data.make_synthetic_coco()`][cgalib.data.make_synthetic_coco] arguments; seed 7, which training never used)."""


def list_pretrained() -> list[str]:
    """Names of the shipped checkpoints, sorted."""
    return sorted(PRETRAINED)


def pretrained_path(name: str, must_exist: bool = True) -> Path:
    """The file of the shipped checkpoint ``name``.

    Args:
        name: a name from [`list_pretrained()`][list_pretrained].
        must_exist: raise when the file is missing (an installation without package data).

    Returns:
        The path of its ``.pt`` file inside the installed package.

    Raises:
        KeyError: for an unknown name (the message lists the shipped ones).
        FileNotFoundError: with ``must_exist``, when the file is not installed.
    """
    if name not in PRETRAINED:
        raise KeyError(f"no shipped checkpoint {name!r}; shipped: {', '.join(list_pretrained())}")
    path = Path(str(resources.files("cgalib") / "weights" / f"{name}.pt"))
    if must_exist and not path.is_file():
        raise FileNotFoundError(
            f"the shipped checkpoint {name!r} is missing from this installation ({path}); "
            "reinstall cgalib, or train it: python docs/scripts/shipped_checkpoint.py"
        )
    return path


def pretrained_info(name: str) -> dict:
    """What the shipped checkpoint ``name`` scored and how it was made (its JSON).

    Args:
        name: a name from [`list_pretrained()`][list_pretrained].

    Returns:
        The parsed JSON: ``metrics`` (pycocotools keypoint AP on the held-out split,
            ``cgalib.models.pretrained.HELD_OUT``),
        ``command``, ``machine``, ``date``, ``training``.
    """
    return json.loads(pretrained_path(name).with_suffix(".json").read_text())
