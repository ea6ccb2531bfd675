"""Keypoint decoding and OKS-NMS conventions chosen by COCO keypoint AP on trained models.

Run (about an hour on 2 CPU cores; trained runs in ``--work`` are reused)::

    python benchmarks/decoding.py --work runs/decoding --write-docs docs/benchmarks.md \\
        --out benchmarks/results/decoding_cpu.json

1. **Data.** The demo's synthetic training set (2000 images of 192 px, seed 0, people at
   least 48 px high: the shipped checkpoint's) and a held-out split of ``--val`` images
   generated with another seed (``--val-seed``, 13: neither training nor the shipped
   checkpoint's 50-image check, seed 7, used it).
2. **Models.** The shipped ``cganet_tnet_d1w16.synthetic`` (seed 0, 24 epochs) and
   ``cganet_tnet_d1w16`` trained for ``--minutes`` with the demo's CPU recipe on the seeds
   of ``--cganet-seeds``; ``topdown_tnet_d1w16`` (128x96 crops) trained for ``--minutes``
   on the seeds of ``--topdown-seeds`` with the recipe of
   ``docs/scripts/topdown_comparison.py`` (the demo's optimiser, its mild augmentation as
   crops, 32 crops a step).
3. **Decoding.** Each model is evaluated on the held-out split
   (:func:`cgalib.eval.evaluate_coco`, pycocotools' OKS AP) under the variants of
   :class:`cgalib.codecs.RoiHeatmapDecoder` (built with
   :func:`cgalib.create_variant`, the same weights): the Gaussian blur before the log
   (none, 3, 5, 7, 11), the Hessian stencil (+-1 or mmpose's +-2), the border rule (skip
   the refinement where the stencil leaves the map, or read the edge cell there) and the
   shift limit (half a cell or none, as mmpose). The top-down models see ground-truth
   boxes here.
4. **OKS-NMS and the person score** (top-down models on the boxes of the shipped CGANet,
   box score >= 0.05, OKS-NMS at 0.9): the OKS area of a pose (its detection box, or the
   padded, aspect-fixed crop region as mmpose) and the person score (box score times the
   mean of all keypoint scores, or of those above 0.2 as mmpose).

The table goes into the ``decoding`` block of ``--write-docs`` (machine and date
included) and the raw numbers into ``--out``.
"""

from __future__ import annotations

import argparse
import datetime
import os
from pathlib import Path

import torch

from cgalib.data import find_split, make_synthetic_coco
from cgalib.engine import train
from cgalib.engine.recipes import CPU_DEMO_RECIPE

TRAIN_DATA = {"num_train": 2000, "num_val": 0, "seed": 0, "size": 192, "min_height": 48}
"""The demo's (and the shipped checkpoint's) training set."""

CGANET = "cganet_tnet_d1w16"
TOPDOWN = "topdown_tnet_d1w16"
TOPDOWN_CROP = (128, 96)
TOPDOWN_BATCH = 32
TOPDOWN_AUGMENT = {"scale": 0.25, "rotation": 15.0, "rotation_prob": 1.0, "flip_prob": 0.0}
"""The crop augmentation of ``docs/scripts/topdown_comparison.py``: as mild as the demo's."""


def make_data(work: Path, num_val: int, val_seed: int) -> tuple[Path, tuple[Path, Path]]:
    """The training data root and the held-out split's ``(images, annotations)``."""
    data, held_out = work / "data", work / f"held_out_seed{val_seed}_{num_val}"
    if not (data / "annotations" / "person_keypoints_train.json").is_file():
        make_synthetic_coco(data, **TRAIN_DATA)
    if not (held_out / "annotations" / "person_keypoints_val.json").is_file():
        make_synthetic_coco(
            held_out, 0, num_val, seed=val_seed, size=TRAIN_DATA["size"],
            min_height=TRAIN_DATA["min_height"],
        )  # fmt: skip
    return data, find_split(held_out, "val")


def train_runs(work: Path, data: Path, args: argparse.Namespace) -> dict[str, list[Path]]:
    """Checkpoints per model name: trained now for a fixed number of epochs (so a loaded
    machine trains the same model, only slower), or found in ``work/runs`` (reused)."""
    runs: dict[str, list[Path]] = {CGANET: [], TOPDOWN: []}
    topdown_recipe = {**CPU_DEMO_RECIPE, "batch_size": TOPDOWN_BATCH, "augment_kwargs": TOPDOWN_AUGMENT}
    plan = [(TOPDOWN, seed, args.topdown_epochs, TOPDOWN_CROP, topdown_recipe)
            for seed in args.topdown_seeds]  # fmt: skip
    plan += [(CGANET, seed, args.cganet_epochs, TRAIN_DATA["size"], CPU_DEMO_RECIPE)
             for seed in args.cganet_seeds]  # fmt: skip
    for name, seed, epochs, size, recipe in plan:
        run = work / "runs" / f"{name}_seed{seed}_{epochs}ep"
        if not (run / "model.pt").is_file():
            train(name, data, run, input_size=size, device="cpu", epochs=epochs, seed=seed,
                  resume=(run / "last.pt").is_file(), **recipe)  # fmt: skip
        runs[name].append(run / "model.pt")
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default="runs/decoding", help="data, runs and caches")
    parser.add_argument("--val", type=int, default=300, help="held-out images")
    parser.add_argument("--val-seed", type=int, default=13)
    parser.add_argument("--cganet-epochs", type=int, default=3, help="epochs of each CGANet run")
    parser.add_argument("--topdown-epochs", type=int, default=3, help="epochs of each top-down run")
    parser.add_argument("--cganet-seeds", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--topdown-seeds", type=int, nargs="*", default=[0, 1])
    parser.add_argument("--train-only", action="store_true")
    parser.add_argument("--threads", type=int, default=max(1, os.cpu_count() or 1))
    parser.add_argument("--write-docs", default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    work = Path(args.work)
    data, _ = make_data(work, args.val, args.val_seed)
    train_runs(work, data, args)
    print("trained", datetime.datetime.now().isoformat(timespec="seconds"))


if __name__ == "__main__":
    main()
