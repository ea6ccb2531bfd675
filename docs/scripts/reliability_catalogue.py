"""Write the robustness catalogue of docs/reliability.md from the tests that check it.

Run:  python docs/scripts/reliability_catalogue.py [--check]

Every test in ``tests/robustness/test_*.py`` has a docstring of two paragraphs: the bad
input or fault as a user would describe it, then what cgalib does. This script turns them
into one table per file, written into the ``catalogue`` block of docs/reliability.md
(:func:`cgalib.utils.write_block`); ``--check`` exits non-zero when the page is out of date
(``tests/test_docs_reliability.py`` runs it).
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

from cgalib.utils import block_markers, replace_block

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests" / "robustness"
PAGE = ROOT / "docs" / "reliability.md"
BLOCK = "catalogue"
START, END = block_markers(BLOCK)

AREAS = {
    "test_annotations.py": "Annotation files and training data",
    "test_keypoint_sets.py": "Keypoint sets",
    "test_evaluation.py": "Evaluation",
    "test_training.py": "Training, resume and divergence",
    "test_checkpoints.py": "Checkpoints and saved files",
    "test_images.py": "Images entering the library",
    "test_prediction.py": "Prediction",
    "test_cli.py": "Command line",
    "test_outputs.py": "Output folders",
    "test_signals.py": "Signals and processes",
    "test_video.py": "Video",
    "test_detections.py": "Detections files",
    "test_top_down_inputs.py": "Top-down model",
    "test_benchmarks.py": "Benchmarks",
    "test_masks.py": "Segmentation masks",
}
"""Section titles, in page order; a new test file must be added here."""


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def cases(path: Path) -> list[tuple[str, str, str]]:
    """``(test name, case, behaviour)`` for every test function of a file, in file order."""
    out = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            doc = ast.get_docstring(node) or ""
            paragraphs = [p for p in doc.split("\n\n") if p.strip()]
            if len(paragraphs) != 2:
                raise ValueError(
                    f"{path.name}::{node.name}: the docstring needs two paragraphs (the case, "
                    f"then what cgalib does), got {len(paragraphs)}"
                )
            out.append((node.name, _cell(paragraphs[0]), _cell(paragraphs[1])))
    return out


def catalogue() -> str:
    """The markdown of the block (between blank lines after and before the markers)."""
    files = sorted(p.name for p in TESTS.glob("test_*.py"))
    missing = [f for f in files if f not in AREAS]
    if missing:
        raise ValueError(f"add a section title for {missing} to AREAS")
    lines = []
    total = 0
    for name, title in AREAS.items():
        rows = cases(TESTS / name)
        total += len(rows)
        lines += [f"### {title}", "", f"`tests/robustness/{name}`, {len(rows)} cases.", ""]
        lines += ["| case | behaviour |", "|---|---|"]
        lines += [f"| {case} | {behaviour} |" for _, case, behaviour in rows]
        lines.append("")
    head = f"{total} cases, each checked by the test of the same row."
    return "\n".join([head, "", *lines])


def render(page: str) -> str:
    """``page`` with its catalogue block written again."""
    return replace_block(page, BLOCK, catalogue(), str(PAGE), blank_lines=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the page is out of date")
    args = parser.parse_args(argv)
    page = PAGE.read_bytes().decode("utf-8")
    new = render(page)
    if args.check:
        if new != page:
            print(f"{PAGE} is out of date: run python {Path(__file__).relative_to(ROOT)}")
            return 1
        return 0
    PAGE.write_bytes(new.encode("utf-8"))
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
