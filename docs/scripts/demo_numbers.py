"""Write what ``make demo`` reached into README.md and docs/index.md, from its results file.

Run:  python docs/scripts/demo_numbers.py demo [demo2 ...]   (record runs, then write)
      python docs/scripts/demo_numbers.py                     (write from the results file)
      python docs/scripts/demo_numbers.py --check             (exit 1 when a page differs)

Each folder is the output of one ``cgalib demo`` run (``summary.json``, ``predictions.png``);
two or more runs on the same machine give the spread. Their summaries are kept in
``docs/results/demo_runs.json`` (the results file the pages are written from), the text
goes between the ``demo-result`` markers of both pages, and the first run's
``predictions.png`` is copied to ``docs/images/demo_predictions.png``. ``--check`` (run by
``tests/test_docs_numbers.py``) renders the text from the results file again and compares,
so no page states a demo figure that the results file does not hold.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

from cgalib.utils import block_content, write_block

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "docs" / "results" / "demo_runs.json"
PAGES = (REPO / "README.md", REPO / "docs" / "index.md")
BLOCK = "demo-result"


def demo_text(runs: Sequence[dict]) -> str:
    """The pages' sentence for the demo runs' summaries (one machine, one or more runs)."""
    first = runs[0]
    aps = [r["metrics"]["AP"] for r in runs]
    minutes = [r["total_minutes"] for r in runs]
    steps = [r["steps"] for r in runs]
    if len(runs) > 1:
        ap_text = (
            f"**{statistics.mean(aps):.3f} keypoint AP** (runs: "
            f"{', '.join(f'{a:.3f}' for a in aps)}; spread {max(aps) - min(aps):.3f})"
        )
        run_text = f"{len(runs)} runs of"
    else:
        ap_text = f"**{aps[0]:.3f} keypoint AP** (AP50 {first['metrics']['AP50']:.3f})"
        run_text = "one run of"
    def span(values: Sequence[float], fmt: str) -> str:  # "8.3" or "8.1–8.4"
        low, high = format(min(values), fmt), format(max(values), fmt)
        return low if low == high else f"{low}–{high}"

    each = " each" if len(runs) > 1 else ""
    spans = (f"{span(minutes, '.1f')} minutes{each}", f"{span(steps, 'd')} steps")
    loads = [r["load_average"] for r in runs if "load_average" in r]
    load_text = f" (load average {max(loads):.1f}, its own threads included)" if loads else ""
    return (
        f"Measured: {run_text} `make demo` on {first['machine']}, {first['date']}{load_text}: "
        f"{spans[0]} after set-up; "
        f"`{first['model']}` trains for its {first['budget_minutes']:g}-minute budget at "
        f"{first['input_size']} px on {first['num_train']} synthetic images "
        f"({spans[1]}) and scores {ap_text} on "
        f"{first['num_val']} held-out images (pycocotools OKS AP, 0–1 scale). The budget is "
        "time, not steps: the figures depend on the CPU (a slower or busier machine trains "
        "fewer steps and may score lower)."
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", help="demo output folders to record")
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    if args.runs and args.check:
        parser.error("--check compares the pages with the results file; give no runs")
    if args.runs:
        runs = [json.loads((Path(r) / "summary.json").read_text()) for r in args.runs]
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps({"runs": runs}, indent=2) + "\n")
        shutil.copyfile(Path(args.runs[0]) / "predictions.png",
                        REPO / "docs/images/demo_predictions.png")  # fmt: skip
    runs = json.loads(RESULTS.read_text())["runs"]
    body = demo_text(runs)
    if args.check:
        stale = [p.name for p in PAGES if block_content(p.read_text(), BLOCK).strip() != body]
        if stale:
            print(f"{', '.join(stale)}: the {BLOCK} block differs from {RESULTS.name}; run "
                  "python docs/scripts/demo_numbers.py", file=sys.stderr)  # fmt: skip
            return 1
        return 0
    for page in PAGES:
        write_block(page, BLOCK, body)
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
