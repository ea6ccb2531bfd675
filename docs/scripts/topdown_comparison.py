"""Top-down TNet against the single-model demo on the synthetic set, at equal training time.

Run:  python docs/scripts/topdown_comparison.py --demo DEMO_DIR --write-docs docs/top-down.md

``DEMO_DIR`` is the folder ``make demo`` / ``cgalib demo --out DEMO_DIR`` writes (the synthetic
set in ``data/`` and the trained ``cganet_tnet_d1w16`` in ``run/model.pt``); the demo is run
first when it is missing. For each top-down model (default ``topdown_tnet_d1w16`` at 128x96
and ``topdown_tnet_d3w64`` at 256x192):

1. **Equal training time.** The demo trained for its budget (9 minutes on 2 CPU cores) and
   recorded its step count in ``run/metrics.csv``. One demo step and one top-down step are
   timed alternately in this process (so both see the same machine load); equal time is
   ``demo steps x demo step time / top-down step time`` top-down steps. The run gets that
   many, capped at what fits in ``--minutes`` of wall-clock time at the measured step
   time: on a machine loaded by other jobs the cap bites, and the table's "of equal time"
   column says which share of the equal-time run was done. The steps are whole epochs over
   the training people or, below one epoch, one epoch over a random subset (so the
   learning-rate schedule always runs to its end). A step is timed as the loop runs it:
   :func:`cgalib.engine.train_step` on a :class:`cgalib.engine.TrainState` with the
   recipe's settings, on a batch of the model's own data pipeline, on a fresh copy of the
   model (rebuilt from :func:`cgalib.registry.build_config`).
2. **Training** with :func:`cgalib.engine.train_model` on the data pipeline the model asks
   for (:func:`cgalib.data.training_pipeline`: person crops of ``model.input_rule.size``
   and a :class:`cgalib.data.TopDownAugmentation` as mild as the demo's, no flips: the
   synthetic people are colour-coded left/right), the demo's optimiser (AdamW, lr 3e-3).
3. **Evaluation** on the held-out split with the one evaluation loop,
   :func:`cgalib.eval.evaluate_coco`: each top-down model on ground-truth boxes
   (``boxes="gt"``) and on the boxes of the demo CGANet (``boxes=`` the demo model, box
   score >= 0.05), and the demo model itself; pycocotools' OKS AP for all, and the wall
   time per image of each evaluation (image reading included).

The table is printed and, with ``--write-docs``, written into the page's
``topdown-comparison`` block (:func:`cgalib.utils.write_block`).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Subset

from cgalib.data import CocoKeypoints, find_split, training_pipeline
from cgalib.demo import run_demo
from cgalib.engine import TrainSettings, TrainState, train_model, train_step
from cgalib.engine.recipes import CPU_DEMO_RECIPE, for_this_cpu
from cgalib.eval import evaluate_coco
from cgalib.models import load_model
from cgalib.registry import build_config, build_name, create_model
from cgalib.utils import KeypointSet, count_parameters, page_with_block, write_block
from cgalib.utils.machine import cpu_name

BLOCK = "topdown-comparison"
"""``--write-docs`` replaces the page's block between ``<!-- topdown-comparison:start -->``
and ``<!-- topdown-comparison:end -->``."""

TOPDOWN_DEMO_AUGMENT = {"scale": 0.25, "rotation": 15.0, "rotation_prob": 1.0, "flip_prob": 0.0}
"""As mild as the demo's :data:`~cgalib.engine.recipes.DEMO_AUGMENT` (zoom 0.8-1.25, +-15
degrees, no flip), in :class:`~cgalib.data.TopDownAugmentation`'s terms."""

CONFIGS = {
    "topdown_tnet_d1w16": {"input_size": (128, 96), "batch": 32},
    "topdown_tnet_d3w64": {"input_size": (256, 192), "batch": 8},
}
"""Crop size and crops per step of each model (the demo: 16 images, about 46 people a step).
TNet-D1W16 is the demo's backbone; TNet-D3W64 the paper's top-down model, too slow for more
than a few dozen steps in the budget on two CPU cores."""

OVERHEAD = 1.3
"""Data loading, logging and checkpoints on top of a measured step (the demo uses 1.4)."""

DETECTOR_BOX_SCORE = 0.05
"""The demo CGANet's boxes scored at least this are cropped (4.3 per image on val, for 2.6
people)."""


def _train_recipe() -> dict:
    """The demo's CPU recipe as :func:`train_model` arguments (its augmentation aside)."""
    return {k: v for k, v in for_this_cpu(CPU_DEMO_RECIPE).items() if k not in ("augment_kwargs", "batch_size")}


def _step(
    model: nn.Module,
    people: CocoKeypoints,
    augment_kwargs: Mapping[str, Any],
    batch: int,
    folder: Path,
) -> Callable[[], None]:
    """One training step of a fresh copy of ``model``, as the loop runs it: its own data
    pipeline's first ``batch`` items, :func:`train_step` on a :class:`TrainState` with the
    recipe's settings. The state is never saved (nothing is written to ``folder``)."""
    config = build_config(model)
    probe = create_model(config["name"], **config["kwargs"])
    pipeline = training_pipeline(probe, people, augment_kwargs=augment_kwargs)
    images, targets = pipeline.collate_fn([pipeline.dataset[i] for i in range(batch)])
    settings = TrainSettings(epochs=1, batch_size=batch, **_train_recipe())
    state = TrainState(probe, settings, folder, augment=pipeline.augment)

    def step() -> None:
        train_step(state, images, targets)

    return step


def _interleaved_seconds(steps: dict[str, Callable[[], None]], rounds: int = 3) -> dict:
    """Median seconds per step of each function, timed alternately (after one warm-up)."""
    times: dict[str, list[float]] = {name: [] for name in steps}
    for r in range(rounds + 1):
        for name, step in steps.items():
            for _ in range(2):
                start = time.perf_counter()
                step()
                if r:  # round 0 warms up
                    times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def _timed(evaluate: Callable, images: int, *args, **kwargs) -> tuple[dict, float]:
    """``evaluate(*args, **kwargs)``'s metrics and its wall time per image."""
    start = time.perf_counter()
    metrics, _ = evaluate(*args, **kwargs)
    return metrics, (time.perf_counter() - start) / images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--demo", default="demo", help="the demo's folder (data/, run/)")
    parser.add_argument("--out", default="runs/topdown", help="run folders and results.json")
    parser.add_argument("--models", nargs="+", choices=list(CONFIGS), default=list(CONFIGS))
    parser.add_argument("--minutes", type=float, default=9.0, help="the demo's budget")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(  # a page without the block fails now, not after the training
        "--write-docs", type=page_with_block(BLOCK), help="page with the markers to fill"
    )
    args = parser.parse_args()

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    load_before = os.getloadavg()
    demo, out = Path(args.demo), Path(args.out)
    single_ckpt = demo / "run" / "model.pt"
    if not single_ckpt.is_file():
        run_demo(demo, minutes=args.minutes, seed=args.seed)
    data = demo / "data"
    single = load_model(single_ckpt)
    size = single.input_rule.side
    demo_steps = int(list(csv.DictReader((demo / "run" / "metrics.csv").open()))[-1]["step"])
    train_dir, train_ann = find_split(data, "train")
    val_dir, val_ann = find_split(data, "val")
    people = CocoKeypoints(train_dir, train_ann)
    # a keypoint set other than COCO's is given to the builders, as cgalib.engine.train does
    keypoints = people.keypoint_set
    own_set = {} if keypoints == KeypointSet.coco() else {"keypoint_set": keypoints}
    num_val = len(json.loads(Path(val_ann).read_text())["images"])

    rows = []
    reused = {}  # name -> date of a training run found in --out (only evaluated now)
    for name in args.models:
        run = out / name
        done = run / "done.json"
        if done.is_file():
            reused[name] = datetime.date.fromtimestamp(done.stat().st_mtime).isoformat()
        batch, crop = CONFIGS[name]["batch"], list(CONFIGS[name]["input_size"])
        torch.manual_seed(args.seed)  # the same seed, the same initial weights
        model = create_model(name, input_size=crop, **own_set)
        if not done.is_file():
            demo_augment, demo_batch = CPU_DEMO_RECIPE["augment_kwargs"], CPU_DEMO_RECIPE["batch_size"]
            seconds = _interleaved_seconds(
                {
                    "demo": _step(single, people, demo_augment, demo_batch, run / "timing"),
                    name: _step(model, people, TOPDOWN_DEMO_AUGMENT, batch, run / "timing"),
                }
            )
            pipeline = training_pipeline(model, people, augment_kwargs=TOPDOWN_DEMO_AUGMENT)
            crops = pipeline.dataset  # one item per person
            # equal time: the demo's steps in top-down steps, at the same machine load ...
            fair = max(1, int(demo_steps * seconds["demo"] / seconds[name]))
            # ... capped at what fits in the budget's wall-clock time now (a loaded
            # machine trains less; the table says how much of the fair run was done)
            steps = max(1, min(fair, int(args.minutes * 60 / (seconds[name] * OVERHEAD))))
            per_epoch = len(crops) // batch
            if steps >= per_epoch:
                dataset, epochs = crops, steps // per_epoch
            else:  # less than an epoch: one epoch over a random subset
                g = torch.Generator().manual_seed(args.seed)
                dataset = Subset(crops, torch.randperm(len(crops), generator=g)[: steps * batch])
                epochs = 1
            started = time.perf_counter()
            train_model(
                model,
                dataset,
                pipeline.collate_fn,
                run,
                epochs=epochs,
                batch_size=batch,
                augment=pipeline.augment,
                seed=args.seed,
                time_limit=args.minutes * 60 * 1.5,  # a safety net: the steps set the length
                **_train_recipe(),
            )
            trained = list(csv.DictReader((run / "metrics.csv").open()))[-1]
            done.write_text(
                json.dumps(
                    {
                        "step_seconds": seconds,
                        "equal_time_steps": fair,
                        "planned_steps": epochs * (len(dataset) // batch),
                        "steps": int(trained["step"]),
                        "epochs": epochs,
                        "crops": int(trained["step"]) * batch,
                        "train_minutes": (time.perf_counter() - started) / 60,
                    }
                )
            )
        info = json.loads(done.read_text())
        model = load_model(run / "model.pt")
        crop_h, crop_w = model.input_rule.size
        for boxes, label in (("gt", "ground-truth boxes"), (single, "CGANet-demo boxes")):
            metrics, per_image = _timed(
                evaluate_coco, num_val, model, val_dir, val_ann, boxes=boxes, device="cpu",
                batch_size=16, box_score_threshold=DETECTOR_BOX_SCORE, progress=False,
            )  # fmt: skip
            rows.append(
                {
                    "model": f"{name} {crop_h}x{crop_w}",
                    "boxes": label,
                    "params": count_parameters(model),
                    "training": f"{info['steps']} steps x {batch} crops",
                    "share": info["steps"] / info["equal_time_steps"],
                    **{k: metrics[k] for k in ("AP", "AP50", "AP75")},
                    "s_per_image": per_image,
                }
            )
    metrics, per_image = _timed(
        evaluate_coco, num_val, single, val_dir, val_ann, input_size=size, device="cpu",
        progress=False,
    )  # fmt: skip
    rows.insert(
        0,
        {
            "model": f"{build_name(single)} {size}x{size} (the demo)",
            "boxes": "its own (single model)",
            "params": count_parameters(single),
            "training": f"{demo_steps} steps x {CPU_DEMO_RECIPE['batch_size']} images",
            "share": 1.0,
            **{k: metrics[k] for k in ("AP", "AP50", "AP75")},
            "s_per_image": per_image,
        },
    )
    load_after = os.getloadavg()
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(rows, indent=2))

    machine = f"{os.cpu_count()}-core {platform.machine()} CPU ({cpu_name()})"
    lines = [
        f"Measured on a {machine}, {datetime.date.today()}, "
        f"load average {load_before[0]:.1f} before and {load_after[0]:.1f} after, "
        f"`python docs/scripts/topdown_comparison.py --demo "
        f"{args.demo} --minutes {args.minutes:g}`. Equal training time: the demo's "
        f"{args.minutes:g} minutes ({demo_steps} steps), converted to each model's steps by "
        "step times measured alternately in the same process and capped at the same wall-clock "
        'time; "of equal time" is the share of those steps trained; keypoint AP on a 0-1 scale.'
        + "".join(
            f" The {name} run trained on {day} was found in the run folder and only evaluated now."
            for name, day in reused.items()
        ),
        "",
        "| model | boxes | params | training | of equal time | AP | AP50 | AP75 | s / image |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['model']} | {r['boxes']} | {r['params'] / 1e6:.2f}M | {r['training']} | "
        f"{r['share'] * 100:.0f}% | "
        f"{r['AP']:.3f} | {r['AP50']:.3f} | {r['AP75']:.3f} | "
        f"{r['s_per_image']:.3f} |"
        for r in rows
    ]
    table = "\n".join(lines)
    print(table)
    if args.write_docs:
        write_block(args.write_docs, BLOCK, table, blank_lines=True)


if __name__ == "__main__":
    main()
