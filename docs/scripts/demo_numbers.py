"""Write what ``make demo`` reached into README.md and docs/index.md, from its summary files.

Run:  python docs/scripts/demo_numbers.py demo [demo2 ...]

Each folder is the output of one ``cgalib demo`` run (``summary.json``, ``predictions.png``);
two or more runs on the same machine give the spread. The text goes between the
``demo-result`` markers of both pages, and the first run's ``predictions.png`` is copied to
``docs/images/demo_predictions.png``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
from pathlib import Path

from cgalib.utils import write_block

REPO = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="demo output folders")
    args = parser.parse_args()
    runs = [json.loads((Path(r) / "summary.json").read_text()) for r in args.runs]
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
    body = (
        f"Measured: {run_text} `make demo` on {first['machine']}, {first['date']}: "
        f"{min(minutes):.1f}–{max(minutes):.1f} minutes each after set-up; "
        f"`{first['model']}` trains for its {first['budget_minutes']:g}-minute budget at "
        f"{first['input_size']} px on {first['num_train']} synthetic images "
        f"({min(steps)}–{max(steps)} steps) and scores {ap_text} on "
        f"{first['num_val']} held-out images (pycocotools OKS AP, 0–1 scale). The budget is "
        "time, not steps: a slower machine trains fewer steps and may score lower."
    )
    for page in (REPO / "README.md", REPO / "docs" / "index.md"):
        write_block(page, "demo-result", body)
    shutil.copyfile(Path(args.runs[0]) / "predictions.png", REPO / "docs/images/demo_predictions.png")
    print(body)


if __name__ == "__main__":
    main()
