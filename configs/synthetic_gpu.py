"""Synthetic-set GPU recipe for ``cganet_tnet_d1w64`` on one CUDA GPU (9-minute time limit).

Run:  python configs/synthetic_gpu.py [--out runs/synthetic_gpu]

Writes the synthetic crowd set (6000 train / 300 val images at 384 px), trains with the
paper's SGD schedule compressed to the run (bf16 autocast), evaluates on the held-out
val split with pycocotools and prints the AP table. Every value below is an explicit
keyword argument of :func:`cgalib.engine.train`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cgalib.engine.recipes import SYNTHETIC_GPU_RECIPE

DATA = {"num_train": 6000, "num_val": 300, "size": 384, "seed": 0}
TRAIN = {
    "model": "cganet_tnet_d1w64",
    "input_size": 384,  # the training input; it also sets the ROI sizes of the keypoint head
    "epochs": 24,
    "device": "cuda",
    "time_limit": 9 * 60,
    **SYNTHETIC_GPU_RECIPE,  # SGD 2e-2, batch 32, bf16, no flips (see cgalib.engine.recipes)
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="runs/synthetic_gpu")
    args = parser.parse_args()

    from cgalib.data import find_split, make_synthetic_coco
    from cgalib.engine import train
    from cgalib.eval import evaluate_coco, format_metrics
    from cgalib.models import load_model

    out = Path(args.out)
    data = out / "data"
    if not (data / "annotations" / "person_keypoints_val.json").is_file():
        make_synthetic_coco(
            data,
            DATA["num_train"],
            DATA["num_val"],
            seed=DATA["seed"],
            size=DATA["size"],
            progress=True,
            workers=4,
        )
    kwargs = dict(TRAIN)
    checkpoint = train(kwargs.pop("model"), data, out / "run", **kwargs)
    images, ann = find_split(data, "val")
    metrics, _ = evaluate_coco(load_model(checkpoint), images, ann, device="cuda")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(format_metrics(metrics, "synthetic val keypoints"))


if __name__ == "__main__":
    main()
