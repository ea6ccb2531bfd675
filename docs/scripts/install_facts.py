"""Write what docs/install.md says about versions and extras from pyproject.toml and the
Makefile, so the page cannot drift from what pip and ``make`` install.

Run:  python docs/scripts/install_facts.py [--check]

The ``install-requirements`` block of ``docs/install.md`` gets the Python and PyTorch
ranges (``requires-python``, the ``torch`` requirement), the torch build ``make`` installs
first (the Makefile's ``torch==`` pin), the runtime dependencies and one table row per
extra. With ``--check`` nothing is written; the exit status is 1 when the block is out of
date (``tests/test_docs_site.py`` runs the check).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from cgalib.utils import write_block
from cgalib.utils.doc_blocks import block_content

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "install.md"
BLOCK = "install-requirements"
NAME = re.compile(r"^[A-Za-z0-9_.-]+")
EXTRA_OF_OURS = re.compile(r"^cgalib\[([^\]]+)\]$")


def _range(spec: str) -> str:
    """``">=2.11,<2.15"`` -> ``"≥ 2.11, < 2.15"``."""
    return ", ".join(
        part.replace(">=", "≥ ").replace("<=", "≤ ").replace("<", "< ").replace(">", "> ")
        for part in spec.split(",")
    )


def _names(requirements: list[str]) -> list[str]:
    return [NAME.match(r).group(0) for r in requirements]


def block_text(pyproject: Path = REPO / "pyproject.toml", makefile: Path = REPO / "Makefile") -> str:
    """The block's markdown, read from ``pyproject`` and ``makefile``."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    deps = project["dependencies"]
    torch_spec = next(d for d in deps if NAME.match(d).group(0) == "torch")[len("torch"):]
    pin = re.search(r"torch==([0-9][0-9.]*)", makefile.read_text(encoding="utf-8")).group(1)
    rows = []
    for extra, requirements in project["optional-dependencies"].items():
        ours = [m.group(1) for r in requirements if (m := EXTRA_OF_OURS.match(r))]
        names = _names([r for r in requirements if not EXTRA_OF_OURS.match(r)])
        extras = [x for e in ours for x in e.split(",")]
        also = [f"the {', '.join(extras[:-1])} and {extras[-1]} extras"] if len(extras) > 1 else (
            [f"the {extras[0]} extra"] if extras else []
        )
        rows.append(f"| `{extra}` | {', '.join(names + also)} |")
    return "\n".join([
        f"cgalib needs Python {_range(project['requires-python'])} and PyTorch "
        f"{_range(torch_spec)}.",
        "",
        "```bash",
        f"pip install torch=={pin}   # first: the build for your machine (CPU or CUDA)",
        'pip install -e ".[dev]"     # or: pip install cgalib',
        "```",
        "",
        f"`make test` and `make demo` install torch {pin}, the version the tests run on. "
        f"Runtime dependencies are few: {', '.join(_names(deps))}. Extras:",
        "",
        "| extra | adds |",
        "|---|---|",
        *rows,
    ])


def is_stale(page: Path = PAGE) -> bool:
    """Whether the page's block differs from :func:`block_text`."""
    return block_content(page.read_text(encoding="utf-8"), BLOCK, str(page)) != block_text()


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check``, compare) the block."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report a stale block")
    args = parser.parse_args(argv)
    if args.check:
        if is_stale():
            print(f"{PAGE}: block {BLOCK} is out of date; run {Path(__file__).name}")
            return 1
        return 0
    if write_block(PAGE, BLOCK, block_text()):
        print(f"wrote the {BLOCK} block of {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
