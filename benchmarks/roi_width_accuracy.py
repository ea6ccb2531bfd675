"""ROIguider widths at equal training steps: the accuracy side of ``roi_widths.py``.

``roi_widths.py`` measures what narrower fine levels save in time; this script measures
what they cost in accuracy, at the demo model's scale (``cganet_tnet_d1w16``, whose widths
(32, 64, 128) are the paper-sized (128, 256, 512) divided by four). Each run trains one
width setting for the same number of steps with one seed on the demo's synthetic set
(``CPU_DEMO_RECIPE``, epochs instead of a time budget; the widths were compared with the
recipe's weight decay and learning-rate drops of the time, ``COMPARED_WITH``, which stay the
defaults of ``--weight-decay`` and ``--lr-drops`` so that new runs join the table's) and is
scored by pycocotools on a
held-out split; every run is kept in the results file, and the table gives each setting's
mean AP and its spread over seeds next to its parameters, head MACs and training time::

    python benchmarks/roi_width_accuracy.py --setting default --seed 1
    python benchmarks/roi_width_accuracy.py --setting narrow --seed 1
    python benchmarks/roi_width_accuracy.py --write-docs docs/benchmarks.md   (table only)

The data: the demo's 2000 training images (``--train``, written by ``make demo`` or
``benchmarks/demo_levers.py``) and ``--val-images`` held-out images of the same generator
(seed 0, 192 px, people at least 48 px tall; the first 100 are the demo's own split).
Training time depends on what else the CPU ran; AP at equal steps does not.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from _run_log import record_run, recorded_runs

from cgalib import create_model
from cgalib.engine.recipes import CPU_DEMO_RECIPE, for_this_cpu
from cgalib.engine.schedule import PAPER_MILESTONES
from cgalib.engine.settings import TrainSettings
from cgalib.utils import count_macs, page_with_block, write_block
from cgalib.utils.machine import machine_description

RESULTS = Path(__file__).resolve().parent / "results" / "roi_width_accuracy.json"
BLOCK = "roi-widths:accuracy"
MODEL = "cganet_tnet_d1w16"
SIZE = 192
COMPARED_WITH: Mapping[str, Any] = {"weight_decay": 1e-4, "lr_milestones": PAPER_MILESTONES}
"""The recipe values this script's width settings were compared with: the demo recipe's until
``demo_steps.py`` measured a weight decay of 0.05 and later learning-rate drops."""
VARIED = ("weight_decay", "lr_milestones")
"""The recipe values these step benchmarks vary (``--weight-decay``, ``--lr-drops``); each run
records its own, read from its ``last.pt``."""

SETTINGS: Mapping[str, Mapping[str, Any]] = {
    "default": {"head_kwargs": {}},
    "narrow": {
        "head_kwargs": {"channels": (16, 24, 128), "num_blocks": (1, 1, 2), "head_channels": 16}
    },
    "fine level narrow": {"head_kwargs": {"channels": (16, 64, 128)}},
    "cascade default": {"cascade": 2, "head_kwargs": {}},
    "cascade narrow": {
        "cascade": 2,
        "head_kwargs": {"channels": (16, 32, 128), "num_blocks": (1, 1, 2), "head_channels": 16},
    },
}
"""Builder arguments of each setting at the d1w16 scale: ``default`` is the registered model's
ROIguider (32, 64, 128); ``narrow`` is ``roi_widths.py``'s "(64, 96, 512), blocks (1, 1, 2)"
divided by four, with the heatmap head's hidden width divided alike; ``fine level narrow``
is its "(64, 256, 512)" divided by four (only the finest level narrowed); the cascade settings
are the two-stage ROIguider with the same default and the cascade's candidate
"(64, 128, 512), blocks (1, 1, 2)" divided by four."""

WORDS: Mapping[str, str] = {
    "default": "(32, 64, 128), blocks (1, 1, 1), head 32",
    "narrow": "(16, 24, 128), blocks (1, 1, 2), head 16",
    "fine level narrow": "(16, 64, 128), blocks (1, 1, 1), head 32",
    "cascade default": "two stages, (32, 64, 128), blocks (1, 1, 1), head 32",
    "cascade narrow": "two stages, (16, 32, 128), blocks (1, 1, 2), head 16",
}


def _builder_kwargs(setting: str) -> dict[str, Any]:
    kwargs = dict(SETTINGS[setting])
    kwargs["head_kwargs"] = dict(kwargs["head_kwargs"])
    return kwargs


def size_of(setting: str) -> dict[str, float]:
    """Parameters (M) and keypoint-head MMACs per box of a setting at 192 px."""
    model = create_model(MODEL, input_size=SIZE, **_builder_kwargs(setting))
    head = model.keypoint_head
    features = [
        torch.rand(1, c, SIZE // s, SIZE // s)
        for c, s in zip(head.in_channels, head.strides, strict=False)
    ]
    boxes = [torch.tensor([[20.0, 10.0, 110.0, 180.0]]).repeat(8, 1)]
    return {
        "params_m": sum(p.numel() for p in model.parameters()) / 1e6,
        "head_mmac_per_box": count_macs(head, features, boxes) / 8 / 1e6,
    }


def held_out(root: Path, count: int) -> Path:
    """The held-out split of ``count`` images (written once under ``root``)."""
    from cgalib.data import make_synthetic_coco

    if not (root / "annotations" / "person_keypoints_val.json").is_file():
        make_synthetic_coco(root, 0, count, seed=0, size=SIZE, min_height=48, progress=True)
    return root


def run(
    setting: str,
    seed: int,
    epochs: int,
    train_root: Path,
    out: Path,
    changes: Mapping[str, Any],
) -> float:
    """Train one setting with one seed for ``epochs`` with ``CPU_DEMO_RECIPE`` and the
    ``changes`` to it (values of ``VARIED``); the seconds it took."""
    from cgalib.engine import train

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    started = time.perf_counter()
    train(
        MODEL,
        train_root,
        out,
        model_kwargs=_builder_kwargs(setting),
        input_size=SIZE,
        device="cpu",
        epochs=epochs,
        seed=seed,
        **{**for_this_cpu(CPU_DEMO_RECIPE), **changes},
    )
    return time.perf_counter() - started


def score(setting: str, seed: int, out: Path, val_root: Path, seconds: float | None) -> dict:
    """The record of a finished run: its steps and ``VARIED`` values (from its ``last.pt``;
    a run from before the learning-rate drops were a setting had the paper's) and its AP on
    the held-out split."""
    from cgalib.eval import evaluate_coco
    from cgalib.models import load_model

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    state = torch.load(out / "last.pt", map_location="cpu", weights_only=False)
    metrics, _ = evaluate_coco(
        load_model(out / "model.pt"),
        val_root / "val",
        val_root / "annotations" / "person_keypoints_val.json",
        input_size=SIZE,
        device="cpu",
    )
    return {
        "setting": setting,
        "seed": seed,
        "steps": int(state["step"]),
        **varied(state["settings"]),
        "train_seconds": None if seconds is None else round(seconds, 1),
        "AP": metrics["AP"],
        "AP50": metrics["AP50"],
        "amp": for_this_cpu(CPU_DEMO_RECIPE).get("amp"),
        "adamw": "fused",  # cgalib's trainer steps AdamW with its fused kernel
        "load_average": round(os.getloadavg()[0], 2),
        "machine": machine_description(),
        "date": datetime.date.today().isoformat(),
    }


def table(runs: Sequence[Mapping[str, Any]]) -> str:
    """Markdown: per setting, its size, seeds, mean AP, spread and mean training time."""
    by_setting: dict[str, list[Mapping[str, Any]]] = {}
    for r in runs:
        by_setting.setdefault(r["setting"], []).append(r)
    machines = sorted({r["machine"] for r in runs})
    steps = sorted({r["steps"] for r in runs})
    recipes = sorted({recipe_words(r) for r in runs})
    dates = sorted({r["date"] for r in runs})
    shared = sum(1 for r in runs if r.get("note"))
    lines = [
        f"`{MODEL}` at {SIZE} px, {', '.join(map(str, steps))} steps per run, "
        f"`CPU_DEMO_RECIPE` with {'; '.join(recipes)}; "
        f"{', '.join(machines)}; "
        f"{dates[0] if len(dates) == 1 else f'{dates[0]} to {dates[-1]}'}. AP at equal steps "
        f"does not depend on the load; the training time is the mean of the runs that had the "
        f"CPU to themselves ({shared} of {len(runs)} runs shared it, as their notes in the "
        "results file say). The first runs stepped AdamW parameter by parameter, the later "
        "ones with its fused kernel (the same update, faster): the results file names each "
        "run's.",
        "",
        "| ROIguider widths (d1w16 scale) | params (M) | head MMAC / box | seeds | AP per seed "
        "| mean AP | spread (max - min) | mean training s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for setting in SETTINGS:
        rs = sorted(by_setting.get(setting, []), key=lambda r: r["seed"])
        if not rs:
            continue
        size = size_of(setting)
        aps = [r["AP"] for r in rs]
        lines.append(
            f"| {setting}: {WORDS[setting]} | {size['params_m']:.3f} "
            f"| {size['head_mmac_per_box']:.1f} | {', '.join(str(r['seed']) for r in rs)} "
            f"| {', '.join(f'{a:.3f}' for a in aps)} | {statistics.mean(aps):.3f} "
            f"| {max(aps) - min(aps):.3f} | {_mean_seconds(rs)} |"
        )
    return "\n".join(lines)


def quiet_seconds(runs: Sequence[Mapping[str, Any]]) -> list[float]:
    """The training times of the runs that had the CPU to themselves (a run with a ``note``
    shared it; a run scored afterwards was not timed)."""
    return [r["train_seconds"] for r in runs if r["train_seconds"] is not None and not r.get("note")]


def _mean_seconds(runs: Sequence[Mapping[str, Any]]) -> str:
    """The mean training time of the quiet runs, in words."""
    timed = quiet_seconds(runs)
    quiet = f"{len(timed)} quiet run{'s' if len(timed) > 1 else ''}"
    return f"{statistics.mean(timed):.0f} ({quiet})" if timed else "n/a"


def varied(recipe: Mapping[str, Any]) -> dict[str, Any]:
    """The ``VARIED`` values of a recipe, a run's recorded settings or a run record, with
    ``train()``'s defaults for those it lacks (a recipe without them, a checkpoint from
    before the learning-rate drops were a setting)."""
    defaults = {f.name: f.default for f in dataclasses.fields(TrainSettings)}
    return {k: recipe.get(k, defaults[k]) for k in VARIED}


def recipe_words(run: Mapping[str, Any]) -> str:
    """A run's ``VARIED`` values in words, e.g. ``weight decay 0.05, lr drops at 0.85, 0.95``."""
    drops = ", ".join(f"{m:.3g}" for m in run["lr_milestones"]) or "none"
    return f"weight decay {run['weight_decay']:g}, lr drops at {drops}"


def add_run_arguments(
    parser: argparse.ArgumentParser, out: str, defaults: Mapping[str, Any], block: str
) -> None:
    """The arguments of a one-run-at-a-time training benchmark on the demo's data (this
    script's and ``demo_steps.py``'s), runs written under ``out``, ``defaults`` the values of
    ``VARIED`` that ``--weight-decay`` and ``--lr-drops`` default to, the table written into
    the page's ``block``."""
    parser.add_argument("--seed", type=int, default=1, help="the training seed")
    parser.add_argument(
        "--weight-decay", type=float, default=defaults["weight_decay"], help="AdamW's decay"
    )
    parser.add_argument(
        "--lr-drops",
        type=float,
        nargs="*",
        default=list(defaults["lr_milestones"]),
        help="fractions of the run where the learning rate drops x0.1",
    )
    parser.add_argument("--train", default="runs/demo_levers/data", help="the demo's data set")
    parser.add_argument("--val", default="runs/roi_widths/val", help="the held-out split")
    parser.add_argument("--val-images", type=int, default=400)
    parser.add_argument("--out", default=out, help="one folder per run")
    parser.add_argument("--record", default=None, help="score this finished run folder instead")
    parser.add_argument("--note", default=None, help="what the run shared the CPU with")
    parser.add_argument(
        "--write-docs", type=page_with_block(block), help="write the table into this page"
    )


def train_and_score(setting: str, epochs: int, args: argparse.Namespace, name: str) -> dict:
    """Train ``setting`` (seed ``args.seed``) into ``args.out / name``, or take the finished
    run folder ``args.record``, and score it on the held-out split: the run's record."""
    val_root = held_out(Path(args.val), args.val_images)
    seconds = None
    if args.record:
        out = Path(args.record)
    else:
        out = Path(args.out) / name
        changes = {"weight_decay": args.weight_decay, "lr_milestones": tuple(args.lr_drops)}
        seconds = run(setting, args.seed, epochs, Path(args.train), out, changes)
    return score(setting, args.seed, out, val_root, seconds)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", choices=list(SETTINGS), help="the widths to train")
    parser.add_argument("--epochs", type=int, default=6, help="epochs of 250 steps")
    add_run_arguments(parser, "runs/roi_widths", COMPARED_WITH, BLOCK)
    args = parser.parse_args(argv)
    if args.record and not args.setting:
        parser.error("--record needs the --setting and --seed that run trained with")
    if args.setting:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        name = f"{args.setting.replace(' ', '-')}-seed{args.seed}-{stamp}"
        result = train_and_score(args.setting, args.epochs, args, name)
        record_run(RESULTS, result, args.note)
        print(f"{args.setting} seed {args.seed}: AP {result['AP']:.3f} in {result['steps']} steps")
    if args.write_docs:
        runs = recorded_runs(RESULTS)
        write_block(args.write_docs, BLOCK, table(runs))
        print(f"wrote {len(runs)} runs into {args.write_docs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
