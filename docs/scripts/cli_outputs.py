"""Run the commands docs/cli.md shows and write what they print between its markers.

Run:  python docs/scripts/cli_outputs.py [--check]

Each entry of :data:`OUTPUTS` names a block of ``docs/cli.md`` and the ``cgalib`` command
whose output it holds (``cgalib models``: every registered architecture and the shipped
weights; ``cgalib summary tnet_d1w64``: its parameters, GFLOPs and pyramid). With
``--check`` nothing is written; the exit status is 1 when a block is out of date
(``tests/test_docs_site.py`` runs the check).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from pathlib import Path

from cgalib.cli import main as cgalib
from cgalib.utils import write_block
from cgalib.utils.doc_blocks import block_content

PAGE = Path(__file__).resolve().parents[2] / "docs" / "cli.md"

OUTPUTS = {
    "cli-models": ["models"],
    "cli-summary": ["summary", "tnet_d1w64", "--height", "512", "--width", "512"],
}
"""Block name -> the ``cgalib`` arguments whose output it shows."""


def command_output(args: list[str]) -> str:
    """What ``cgalib ARGS`` prints, as a ```` ```text ```` fence."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = cgalib(args)
    if status:
        raise SystemExit(f"cgalib {' '.join(args)} exited with {status}")
    return "```text\n" + out.getvalue().rstrip("\n") + "\n```"


def stale_blocks(page: Path = PAGE) -> list[str]:
    """The blocks of ``page`` whose text is not what their command prints now."""
    text = page.read_text(encoding="utf-8")
    return [
        name for name, args in OUTPUTS.items()
        if block_content(text, name, str(page)).strip() != command_output(args)
    ]


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check``, compare) every block of :data:`OUTPUTS`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale blocks")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_blocks()
        for name in stale:
            print(f"{PAGE}: block {name} is out of date; run {Path(__file__).name}")
        return 1 if stale else 0
    for name, command in OUTPUTS.items():
        if write_block(PAGE, name, command_output(command)):
            print(f"wrote the {name} block of {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
