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
import time
from pathlib import Path

import torch

__all__ = ["DEMO_AUGMENT", "run_demo"]

#: Milder than the paper's recipe (scale 0.6-1.5, +-45 degrees, +-40 px): a few minutes of
#: CPU training learn far more from gently varied images than from the full augmentation.
DEMO_AUGMENT = {"scale": (0.8, 1.25), "rotation": 15.0, "translation": 16.0}


def _time_one_step(model_name: str, data_root: Path, input_size: int, batch_size: int) -> float:
    """Seconds per training step of ``model_name``, measured on real batches."""
    from cgalib import create_model
    from cgalib.data import CocoKeypoints, PoseAugmentation, collate_letterboxed, find_split

    images_dir, ann = find_split(data_root, "train")
    ds = CocoKeypoints(images_dir, ann, input_size=input_size)
    images, targets = collate_letterboxed([ds[i] for i in range(batch_size)])
    model = create_model(model_name, input_size=input_size).train()
    aug = PoseAugmentation(output_size=input_size, **DEMO_AUGMENT)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        x, t = aug(images, targets)
        sum(model(x, t).values()).backward()
        times.append(time.perf_counter() - start)
    return min(times[1:]) * 1.5  # data loading, optimizer step, logging (measured ~1.4x)


def run_demo(
    out: str | os.PathLike = "demo",
    minutes: float = 9.0,
    num_train: int = 2000,
    num_val: int = 100,
    size: int = 192,
    min_height: float = 48,
    model: str = "cganet_tnet_d1w16",
    batch_size: int = 16,
    optimizer: str = "adamw",
    lr: float = 3e-3,
    seed: int = 0,
) -> dict[str, float]:
    """Generate data, train for ``minutes`` on the CPU, evaluate and draw predictions.

    Args:
        out: output folder (``data/``, ``run/``, ``results_val.json``, ``metrics.json``,
            ``predictions.png``).
        minutes: training time budget; the epoch count is chosen from a measured step time
            so that the paper's learning-rate drops happen within it.
        num_train: synthetic training images.
        num_val: synthetic validation images (held out: a different random stream).
        size: image side and training input size.
        min_height: smallest person height in the synthetic images (pixels).
        model: a registered model name.
        batch_size: images per step.
        optimizer: ``"adamw"`` (fast convergence in minutes) or the paper's ``"sgd"``.
        lr: base learning rate.
        seed: data and training seed.

    Returns:
        The pycocotools keypoint metrics on the validation split.
    """
    from cgalib import load_model
    from cgalib.data import CocoKeypoints, find_split, make_synthetic_coco
    from cgalib.engine import train
    from cgalib.eval import evaluate_coco, format_metrics
    from cgalib.inference import Predictor
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

    step_s = _time_one_step(model, data, size, batch_size)
    steps_per_epoch = num_train // batch_size
    epochs = max(1, math.floor(minutes * 60 / (step_s * steps_per_epoch)))
    print(
        f"[2/4] training {model} on the CPU: {epochs} epochs of {steps_per_epoch} steps "
        f"(~{step_s:.2f}s/step, budget {minutes:.1f} min)"
    )
    checkpoint = train(
        model,
        data,
        out / "run",
        input_size=size,
        device="cpu",
        augment_kwargs=DEMO_AUGMENT,
        epochs=epochs,
        batch_size=batch_size,
        optimizer=optimizer,
        lr=lr,
        warmup_steps=50,
        num_workers=1,
        seed=seed,
        time_limit=minutes * 60,
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
