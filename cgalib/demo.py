"""The main job on the embedded default: synthesise, train on the CPU, evaluate, draw.

``make demo`` runs :func:`run_demo`: a synthetic crowd set in COCO layout is written (no
download), a small registered CGANet (``cganet_tnet_d1w16``) trains within a time budget,
pycocotools scores it on the held-out validation split, and ``predictions.png`` shows
drawn skeletons with the DEA-extended boxes next to the ground truth.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import time
from pathlib import Path

import torch

from cgalib.engine.recipes import CPU_DEMO_RECIPE, DEMO_AUGMENT

__all__ = ["DEMO_AUGMENT", "epochs_for_budget", "run_demo"]


def epochs_for_budget(
    model_name: str,
    data_root: str | os.PathLike,
    input_size: int,
    batch_size: int,
    minutes: float,
    model_kwargs: dict | None = None,
) -> tuple[int, float]:
    """Epochs of CPU training that fit in ``minutes``, from a step time measured on real batches.

    Training for this many epochs (rather than stopping a longer schedule at a time limit)
    lets the learning-rate drops of the schedule happen within the budget.

    Args:
        model_name: a registered model name.
        data_root: a data root with a ``train`` split (see :func:`cgalib.data.find_split`).
        input_size: training input size.
        batch_size: images per step.
        minutes: the training time budget.
        model_kwargs: builder overrides.

    Returns:
        ``(epochs, seconds_per_step)``; at least one epoch.
    """
    from cgalib.data import CocoKeypoints, PoseAugmentation, collate_letterboxed, find_split
    from cgalib.registry import create_model

    images_dir, ann = find_split(data_root, "train")
    ds = CocoKeypoints(images_dir, ann, input_size=input_size)
    images, targets = collate_letterboxed([ds[i] for i in range(batch_size)])
    kwargs = {"input_size": input_size, **(model_kwargs or {})}
    model = create_model(model_name, **kwargs).train().to(memory_format=torch.channels_last)
    images = images.contiguous(memory_format=torch.channels_last)
    aug = PoseAugmentation(output_size=input_size, **DEMO_AUGMENT)
    times = []
    for _ in range(10):
        start = time.perf_counter()
        x, t = aug(images, targets)
        sum(model(x, t).values()).backward()
        times.append(time.perf_counter() - start)
    # the first steps run slow (allocator, thread pool): the median of the last five, times
    # data loading, optimizer step and logging (1.4x on 2 cores: 0.17 s here, 0.24 s a step)
    step_s = statistics.median(times[5:]) * 1.4
    steps_per_epoch = len(ds) // batch_size
    return max(1, math.floor(minutes * 60 / (step_s * steps_per_epoch))), step_s


def run_demo(
    out: str | os.PathLike = "demo",
    minutes: float = 9.0,
    num_train: int = 2000,
    num_val: int = 100,
    size: int = 192,
    min_height: float = 48,
    model: str = "cganet_tnet_d1w16",
    seed: int = 0,
) -> dict[str, float]:
    """Generate data, train for ``minutes`` on the CPU, evaluate and draw predictions.

    Args:
        out: output folder (``data/``, ``run/``, ``results_val.json``, ``metrics.json``,
            ``predictions.png``); the data set is reused when present, and a previous
            ``run/`` is moved to ``run.previous/`` (replacing an older one).
        minutes: training time budget; the epoch count is chosen from a measured step time
            so that the paper's learning-rate drops happen within it.
        num_train: synthetic training images.
        num_val: synthetic validation images (held out: a different random stream).
        size: image side and training input size.
        min_height: smallest person height in the synthetic images (pixels).
        model: a registered model name (trained with
            :data:`~cgalib.engine.recipes.CPU_DEMO_RECIPE`).
        seed: data and training seed.

    Returns:
        The pycocotools keypoint metrics on the validation split.
    """
    from cgalib.data import CocoKeypoints, find_split, make_synthetic_coco
    from cgalib.engine import train
    from cgalib.eval import evaluate_coco, format_metrics
    from cgalib.inference import Predictor
    from cgalib.models import load_model
    from cgalib.viz import save_prediction_grid

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
    batch_size = CPU_DEMO_RECIPE["batch_size"]
    epochs, step_s = epochs_for_budget(model, data, size, batch_size, minutes)
    steps_per_epoch = num_train // batch_size
    print(
        f"[2/4] training {model} on the CPU: {epochs} epochs of {steps_per_epoch} steps "
        f"(~{step_s:.2f}s/step, budget {minutes:.1f} min)"
    )
    checkpoint = train(
        model,
        data,
        run,
        input_size=size,
        device="cpu",
        epochs=epochs,
        seed=seed,
        time_limit=minutes * 60,
        **CPU_DEMO_RECIPE,
    )

    print("[3/4] evaluating on the held-out validation split (pycocotools OKS AP)")
    net = load_model(checkpoint)
    images_dir, ann_file = find_split(data, "val")
    metrics, results = evaluate_coco(net, images_dir, ann_file, input_size=size, device="cpu")
    (out / "results_val.json").write_text(json.dumps(results))
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(format_metrics(metrics, "synthetic val keypoints"))

    print(f"[4/4] drawing predictions to {out / 'predictions.png'}")
    ds = CocoKeypoints(images_dir, ann_file)
    picks = range(min(6, len(ds)))
    images = [ds[i][0] for i in picks]
    preds, gts = [], []
    predictor = Predictor(net, device="cpu", input_size=size)
    for i, people in zip(picks, predictor.predict(images)):
        preds.append(people)
        gts.append(ds.coco.loadAnns(ds.coco.getAnnIds(imgIds=ds.ids[i], iscrowd=False)))
    save_prediction_grid(out / "predictions.png", images, preds, gts, score_threshold=0.15)
    print(
        f"done in {(time.perf_counter() - started) / 60:.1f} min; keypoint AP = {metrics['AP']:.3f}"
    )
    return metrics
