"""The demo model's AP against its training steps: what a faster step would buy ``make demo``.

``make demo`` trains for a time budget, so a faster machine trains more steps and scores
higher; its AP therefore mixes the recipe with the host's speed (see ``demo_levers.py``).
This script takes the speed out: it trains ``cganet_tnet_d1w16`` with ``CPU_DEMO_RECIPE``
for a fixed number of epochs (250 steps each, the learning-rate drops at the same fractions
of the run as in the demo) on the demo's 2000 images, and scores it by pycocotools on the
same 400 held-out images as ``roi_width_accuracy.py``, whose ``default`` runs (1500 steps)
are the first points of the table. AP at equal steps does not depend on the load. The
table keeps each recipe variant apart (``--weight-decay`` and ``--lr-drops``, by default the
recipe's; the runs before its weight decay of 0.05 and its later drops had 1e-4 and the
paper's 70/95 and 85/95)::

    python benchmarks/demo_steps.py --epochs 12 --seed 1       (3000 steps)
    python benchmarks/demo_steps.py --epochs 12 --seed 1 --weight-decay 1e-4 --lr-drops 0.737 0.895
    python benchmarks/demo_steps.py --epochs 12 --seed 1 --record runs/steps/e12-seed1
    python benchmarks/demo_steps.py --write-docs docs/benchmarks.md   (table only)

The table sets each step count beside the steps that the 9-minute ``make demo`` runs in
``demo_levers.json`` trained on their machines, so it reads as "the demo needs this many
steps; this CPU gives that many".
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import roi_width_accuracy as widths
from _run_log import record_run, recorded_runs

from cgalib.engine.recipes import CPU_DEMO_RECIPE
from cgalib.utils import write_block

RESULTS = Path(__file__).resolve().parent / "results" / "demo_steps.json"
BLOCK = "demo-steps"
DEMO_RUNS = Path(__file__).resolve().parent / "results" / "demo_levers.json"
GOAL = 0.35
"""The AP that ``make demo`` is to reach in its 10 minutes."""


def _first_the_recipes(words: list[str]) -> list[str]:
    """The recipe variants in table order: ``CPU_DEMO_RECIPE``'s first, then the others."""
    own = widths.recipe_words(widths.varied(CPU_DEMO_RECIPE))
    return sorted(set(words), key=lambda w: (w != own, w))


def runs_by_steps() -> dict[str, dict[int, list[Mapping[str, Any]]]]:
    """This script's runs and ``roi_width_accuracy.py``'s ``default`` ones, by recipe variant
    (its ``VARIED`` values in words, ``CPU_DEMO_RECIPE``'s first) and step count."""
    runs = [r for r in recorded_runs(widths.RESULTS) if r["setting"] == "default"]
    runs += recorded_runs(RESULTS)
    grouped: dict[str, dict[int, list[Mapping[str, Any]]]] = {}
    for r in runs:
        grouped.setdefault(widths.recipe_words(r), {}).setdefault(r["steps"], []).append(r)
    return {w: dict(sorted(grouped[w].items())) for w in _first_the_recipes(list(grouped))}


def demo_steps() -> dict[str, list[int]]:
    """Steps trained by the recorded 9-minute demo runs of the recipe, by recipe variant (a
    recipe recorded without a ``VARIED`` value trained with ``train()``'s default)."""
    by_recipe: dict[str, list[int]] = {}
    for r in recorded_runs(DEMO_RUNS):
        if r["variant"] == "demo" and "steps" in r["summary"]:
            words = widths.recipe_words(widths.varied(r["summary"]["recipe"]))
            by_recipe.setdefault(words, []).append(r["summary"]["steps"])
    return {w: sorted(by_recipe[w]) for w in _first_the_recipes(list(by_recipe))}


def table(
    by_recipe: Mapping[str, Mapping[int, Sequence[Mapping[str, Any]]]],
    demo: Mapping[str, Sequence[int]],
) -> str:
    """Markdown: per recipe variant and step count, the seeds, AP per seed, mean AP and
    training time; then, per variant, the gain per 1000 steps and the goal's steps."""
    runs = [r for by_steps in by_recipe.values() for rs in by_steps.values() for r in rs]
    machines = sorted({r["machine"] for r in runs})
    dates = sorted({r["date"] for r in runs})
    lines = [
        f"`{widths.MODEL}` at {widths.SIZE} px, `CPU_DEMO_RECIPE` with the weight decay and "
        "learning-rate drops of its row, for a fixed number of "
        f"steps, scored on the {widths.SIZE}-px held-out split of `roi_width_accuracy.py`; "
        f"{', '.join(machines)}; "
        f"{dates[0] if len(dates) == 1 else f'{dates[0]} to {dates[-1]}'}. "
        + (
            "The 9-minute `make demo` runs of the recipe in `demo_levers.json` trained "
            + "; ".join(
                f"{', '.join(map(str, steps))} steps with {words}" for words, steps in demo.items()
            )
            + "."
            if demo
            else "No 9-minute demo run of the recipe is recorded."
        ),
        "",
        "| recipe | steps | seeds | AP per seed | mean AP | mean training min (quiet runs) |",
        "|---|---|---|---|---|---|",
    ]
    sentences = []
    for words, by_steps in by_recipe.items():
        means = {}
        for steps, rs in by_steps.items():
            rs = sorted(rs, key=lambda r: r["seed"])
            aps = [r["AP"] for r in rs]
            means[steps] = statistics.mean(aps)
            timed = widths.quiet_seconds(rs)
            minutes = f"{statistics.mean(timed) / 60:.1f}" if timed else "n/a"
            lines.append(
                f"| {words} | {steps} | {', '.join(str(r['seed']) for r in rs)} "
                f"| {', '.join(f'{a:.3f}' for a in aps)} | {means[steps]:.3f} | {minutes} |"
            )
        reach, first = steps_for(means, GOAL), next(iter(means))
        if reach == first:
            where = f"is reached at {first} steps already, the first row"
        elif reach:
            where = f"lies at about {round(reach, -2):.0f} steps"
        else:
            where = "lies beyond the last row"
        sentences.append(
            f"With {words}: "
            + (f"the mean AP gains {gains(means)}; " if len(means) > 1 else "")
            + f"along the straight lines between the rows the demo's goal of {GOAL} AP {where}."
        )
    return "\n".join([*lines, "", " ".join(sentences)])


def gains(means: Mapping[int, float]) -> str:
    """The mean AP gained between consecutive step counts, per 1000 steps, in words."""
    pairs = list(means.items())
    return ", ".join(
        f"{(b - a) / (m - n) * 1000:.3f} per 1000 steps from {n} to {m}"
        for (n, a), (m, b) in zip(pairs, pairs[1:], strict=False)
    )


def steps_for(means: Mapping[int, float], ap: float) -> float | None:
    """The step count where the piecewise-linear mean AP first reaches ``ap`` (None when it
    does not within the rows; the first row's count when that row already does)."""
    pairs = list(means.items())
    if pairs and pairs[0][1] >= ap:
        return float(pairs[0][0])
    for (n, a), (m, b) in zip(pairs, pairs[1:], strict=False):
        if a < ap <= b:
            return n + (ap - a) / (b - a) * (m - n)
    return None


def _folder_words(args: argparse.Namespace) -> str:
    """The run folder's recipe part, e.g. ``wd0.05-drops0.85-0.95``."""
    return f"wd{args.weight_decay:g}-drops{'-'.join(f'{m:g}' for m in args.lr_drops) or 'none'}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="epochs of 250 steps")
    widths.add_run_arguments(parser, "runs/demo_steps", widths.varied(CPU_DEMO_RECIPE), BLOCK)
    args = parser.parse_args(argv)
    if args.epochs is not None:
        result = widths.train_and_score(
            "default", args.epochs, args, f"e{args.epochs}-{_folder_words(args)}-seed{args.seed}"
        )
        record_run(RESULTS, result, args.note)
        print(f"{result['steps']} steps, seed {args.seed}: AP {result['AP']:.3f}")
    elif args.record:
        parser.error("--record needs the --epochs and --seed that run trained with")
    if args.write_docs:
        write_block(args.write_docs, BLOCK, table(runs_by_steps(), demo_steps()))
        print(f"wrote the steps table into {args.write_docs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
