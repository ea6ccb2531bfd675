"""The main job on the embedded default: synthesise, train on the CPU, evaluate, draw.

``make demo`` runs [`run_demo()`][run_demo]: a synthetic crowd set in COCO layout is written (no
download), a small registered CGANet (``cganet_tnet_d1w16``) trains within a time budget,
pycocotools scores it on the held-out validation split, and ``predictions.png`` shows
drawn skeletons with the DEA-extended boxes next to the ground truth.
"""

from __future__ import annotations

import datetime
import itertools
import json
import os
import shutil
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from cgalib.engine.recipes import CPU_DEMO_RECIPE, DEMO_AUGMENT, for_this_cpu
from cgalib.utils.machine import machine_description

__all__ = ["DEMO_AUGMENT", "run_demo"]


def run_demo(
    out: str | os.PathLike = "demo",
    minutes: float = 9.0,
    num_train: int = 2000,
    num_val: int = 100,
    size: int = 192,
    min_height: float = 48,
    model: str = "cganet_tnet_d1w16",
    seed: int = 0,
    recipe: Mapping[str, Any] | None = None,
) -> dict[str, float]:
    """Generate data, train for ``minutes`` on the CPU, evaluate and draw predictions.

    Args:
        out: output folder (``data/``, ``run/``, ``results_val.json``, ``metrics.json``,
            ``summary.json`` (metrics, steps, minutes, machine, date),
            ``predictions.png``); the data set is reused when present, and a previous
            ``run/`` is moved to ``run.previous/`` (replacing an older one).
        minutes: training time budget: the run trains until it is spent, its learning rate
            dropping at the recipe's ``lr_milestones`` of it (85% and 95% in
            ``CPU_DEMO_RECIPE``; [`TimeBudget`][cgalib.engine.TimeBudget]).
        num_train: synthetic training images.
        num_val: synthetic validation images (held out: a different random stream).
        size: image side and training input size.
        min_height: smallest person height in the synthetic images (pixels).
        model: a registered model name (trained with
            [`CPU_DEMO_RECIPE`][cgalib.engine.recipes.CPU_DEMO_RECIPE]).
        seed: data and training seed.
        recipe: the training keyword arguments of [`train()`][cgalib.engine.train]
            (default [`CPU_DEMO_RECIPE`][cgalib.engine.recipes.CPU_DEMO_RECIPE], with bf16
            only where the CPU computes it natively:
            [`for_this_cpu()`][cgalib.engine.recipes.for_this_cpu]).

    Returns:
        The pycocotools keypoint metrics on the validation split.
    """
    from cgalib.data import CocoKeypoints, find_split, make_synthetic_coco
    from cgalib.engine import train
    from cgalib.eval import evaluate_coco, format_metrics
    from cgalib.inference import Predictor, SyntheticWeightsWarning
    from cgalib.models import load_checkpoint, load_model
    from cgalib.models.checkpoint import TRAIN_STATE_FORMAT
    from cgalib.viz import save_prediction_grid

    recipe = for_this_cpu(CPU_DEMO_RECIPE) if recipe is None else dict(recipe)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    out = Path(out)
    data = out / "data"
    started = time.perf_counter()
    if not (data / "annotations" / "person_keypoints_val.json").is_file():
        print(f"[1/4] writing the synthetic crowd set to {data} ...")
        make_synthetic_coco(
            data, num_train, num_val, seed=seed, size=size, min_height=min_height, progress=True
        )
    else:
        print(f"[1/4] using the synthetic crowd set in {data}")

    run = out / "run"
    if run.exists():  # a new demo is a new run; keep the last one beside it
        previous = out / "run.previous"
        shutil.rmtree(previous, ignore_errors=True)
        run.rename(previous)
        print(f"      the previous demo run was moved to {previous}")
    print(
        f"[2/4] training {model} on the CPU for {minutes:g} min (the learning rate follows "
        "the time used: a faster machine trains more steps)"
    )
    trained = time.perf_counter()
    checkpoint = train(
        model,
        data,
        run,
        input_size=size,
        device="cpu",
        epochs=None,
        seed=seed,
        time_budget=minutes * 60,
        **recipe,
    )

    trained = time.perf_counter() - trained
    print("[3/4] evaluating on the held-out validation split (pycocotools OKS AP)")
    net = load_model(checkpoint)
    images_dir, ann_file = find_split(data, "val")
    metrics, results = evaluate_coco(net, images_dir, ann_file, input_size=size, device="cpu")
    (out / "results_val.json").write_text(json.dumps(results))
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(format_metrics(metrics, "synthetic val keypoints"))

    print(f"[4/4] drawing predictions to {out / 'predictions.png'}")
    ds = CocoKeypoints(images_dir, ann_file)
    with_people = (i for i in range(len(ds)) if ds.coco.getAnnIds(imgIds=ds.ids[i], iscrowd=False))
    picks = list(itertools.islice(with_people, 6))
    images = [ds[i][0] for i in picks]
    preds, gts = [], []
    with warnings.catch_warnings():  # these pictures are synthetic too
        warnings.simplefilter("ignore", SyntheticWeightsWarning)
        predictor = Predictor(net, device="cpu", input_size=size)
    for i, people in zip(picks, predictor.predict(images)):
        preds.append(people)
        gts.append(ds.coco.loadAnns(ds.coco.getAnnIds(imgIds=ds.ids[i], iscrowd=False)))
    save_prediction_grid(out / "predictions.png", images, preds, gts)
    total = time.perf_counter() - started
    state = load_checkpoint(run / "last.pt", TRAIN_STATE_FORMAT)
    summary = {
        "metrics": metrics,
        "model": model,
        "input_size": size,
        "num_train": num_train,
        "num_val": num_val,
        "budget_minutes": minutes,
        "recipe": {k: v for k, v in recipe.items() if k != "augment_kwargs"},
        "training_minutes": round(trained / 60, 2),
        "total_minutes": round(total / 60, 2),
        "steps": int(state["step"]),
        "epochs": round(int(state["step"]) * recipe["batch_size"] / num_train, 1),
        "date": datetime.date.today().isoformat(),
        "machine": machine_description(),
        "load_average": round(os.getloadavg()[1], 1),  # the last 5 minutes, the demo's own included
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"done in {total / 60:.1f} min; keypoint AP = {metrics['AP']:.3f}")
    return metrics
