"""What each lever of the CPU demo's recipe brings at equal wall time (``make demo``'s job).

Run one variant at a time (each is a whole demo: train for the budget, evaluate, draw); the
results file keeps every run, so variants measured one after the other on a quiet machine
end in one table:

    python benchmarks/demo_levers.py --variant before --minutes 8
    python benchmarks/demo_levers.py --variant bf16 --minutes 8
    python benchmarks/demo_levers.py --variant before --record DEMO_DIR   (a finished run)
    python benchmarks/demo_levers.py --write-docs docs/benchmarks.md   (table only)

Every variant trains ``cganet_tnet_d1w16`` at 192 px on the same synthetic set (written
once to ``--data``, the demo's 2000 training and 100 held-out images) for the same time
budget, and is scored by pycocotools on the held-out images. ``before`` is the recipe the
demo had before these measurements (fp32, EMA off, one loader worker); each other variant
changes the named levers only. Runs on a busy machine train fewer steps: the table shows
each run's steps and the load average next to its AP.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from _run_log import record_run, recorded_runs

from cgalib.demo import run_demo
from cgalib.engine.recipes import CPU_DEMO_RECIPE, DEMO_AUGMENT, SCALES_AUGMENT, for_this_cpu
from cgalib.utils import page_with_block, write_block

RESULTS = Path(__file__).resolve().parent / "results" / "demo_levers.json"
BLOCK = "demo-levers"

BEFORE: Mapping[str, Any] = {
    "optimizer": "adamw",
    "lr": 3e-3,
    "batch_size": 16,
    "warmup_steps": 50,
    "channels_last": True,
    "num_workers": 1,
    "augment_kwargs": DEMO_AUGMENT,
}
"""The demo's recipe before the levers were measured."""

VARIANTS: Mapping[str, Mapping[str, Any]] = {
    "before": {},
    "bf16": {"amp": "bf16"},
    "ema": {"ema_decay": 0.998},
    "bf16+ema": {"amp": "bf16", "ema_decay": 0.998},
    "bf16+ema+no-worker": {"amp": "bf16", "ema_decay": 0.998, "num_workers": 0},
    "bf16+ema+batch8": {"amp": "bf16", "ema_decay": 0.998, "batch_size": 8},
    "bf16+ema+lr5e-3": {"amp": "bf16", "ema_decay": 0.998, "lr": 5e-3},
    "bf16+ema+cosine": {"amp": "bf16", "ema_decay": 0.998, "lr_decay": "cosine"},
    "bf16+ema+batch8+cosine": {
        "amp": "bf16",
        "ema_decay": 0.998,
        "batch_size": 8,
        "lr_decay": "cosine",
    },
    "bf16+ema+batch8+lr5e-3": {"amp": "bf16", "ema_decay": 0.998, "batch_size": 8, "lr": 5e-3},
    "bf16+ema+batch8+lr8e-3": {"amp": "bf16", "ema_decay": 0.998, "batch_size": 8, "lr": 8e-3},
    "bf16+ema+batch4+lr5e-3": {"amp": "bf16", "ema_decay": 0.998, "batch_size": 4, "lr": 5e-3},
    "demo": for_this_cpu(CPU_DEMO_RECIPE),  # what make demo uses now
    "demo+zoom0.6-1.6": {**for_this_cpu(CPU_DEMO_RECIPE), "augment_kwargs": SCALES_AUGMENT},
}
"""Each variant's changes to [`BEFORE`][BEFORE] (``demo``: the current recipe, whole)."""


def recipe(variant: str) -> dict[str, Any]:
    """The training keyword arguments of a variant."""
    return {**BEFORE, **VARIANTS[variant]}


def _levers(variant: str) -> str:
    """The variant's changes, in words, against ``BEFORE``."""
    changed = {k: v for k, v in recipe(variant).items() if BEFORE.get(k) != v}
    for key, value in changed.items():  # an augmentation: the values that differ
        if isinstance(value, Mapping) and isinstance(BEFORE.get(key), Mapping):
            changed[key] = {k: v for k, v in value.items() if BEFORE[key].get(k) != v}
    return ", ".join(f"{k}={v}" for k, v in changed.items()) or "(none)"


def _software(summary: Mapping[str, Any]) -> str:
    """The threads, torch and Python of a run's machine line, and its date."""
    return f"{', '.join(summary['machine'].split(', ')[1:])} ({summary['date']})"


def table(runs: Sequence[Mapping[str, Any]]) -> str:
    """The markdown of the recorded runs, in the order of [`VARIANTS`][VARIANTS] (runs of one
    variant in the order they ran)."""
    order = list(VARIANTS)
    runs = sorted(
        runs, key=lambda r: order.index(r["variant"]) if r["variant"] in order else len(order)
    )
    settings = sorted({_software(r["summary"]) for r in runs})
    lines = [
        f"Every run on {', '.join(settings)}; the CPU of each in its row.",
        "",
        "| variant | changes | budget (min) | steps | AP | AP50 | load avg | CPU | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        m = r["summary"]["metrics"]
        s = r["summary"]
        lines.append(
            f"| {r['variant']} | {r['changes']} | {s['budget_minutes']:g} | {s['steps']} | "
            f"{m['AP']:.3f} | {m['AP50']:.3f} | {s.get('load_average', 'n/a')} | "
            f"{s['machine'].split(', ')[0]} | {r.get('note', '')} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=list(VARIANTS), help="the variant to run")
    parser.add_argument("--minutes", type=float, default=8.0, help="the training budget")
    parser.add_argument("--data", default="runs/demo_levers/data", help="the synthetic set")
    parser.add_argument("--out", default="runs/demo_levers", help="one folder per run")
    parser.add_argument(
        "--record", default=None, help="record this finished demo folder as --variant's run"
    )
    parser.add_argument("--note", default=None, help="what the recorded run shared the CPU with")
    parser.add_argument(
        "--write-docs", type=page_with_block(BLOCK), help="write the table into this page"
    )
    args = parser.parse_args(argv)
    if args.record and not args.variant:
        parser.error("--record needs the --variant whose recipe that run trained with")
    if args.variant and args.record:
        out = Path(args.record)
    elif args.variant:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = Path(args.out) / f"{args.variant}-{stamp}"
        out.mkdir(parents=True)
        data = Path(args.data).resolve()
        if data.is_dir():  # the one set every variant trains on
            os.symlink(data, out / "data")
        run_demo(out, minutes=args.minutes, recipe=recipe(args.variant))
        if not data.is_dir():
            data.parent.mkdir(parents=True, exist_ok=True)
            (out / "data").rename(data)
            os.symlink(data, out / "data")
    if args.variant:
        summary = json.loads((out / "summary.json").read_text())
        run = {"variant": args.variant, "changes": _levers(args.variant), "summary": summary}
        record_run(RESULTS, run, args.note)
        print(f"{args.variant}: AP {summary['metrics']['AP']:.3f} in {summary['steps']} steps "
              f"({summary['machine']})")  # fmt: skip
    if args.write_docs:
        runs = recorded_runs(RESULTS)
        page = Path(args.write_docs)
        write_block(page, BLOCK, table(runs))
        print(f"wrote {len(runs)} runs into {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
