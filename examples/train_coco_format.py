"""Train a registered CGANet on any COCO-format person-keypoint data set, then evaluate it.

Run:
    python examples/train_coco_format.py \\
        --images data/train2017 --ann data/annotations/person_keypoints_train2017.json \\
        --val-images data/val2017 --val-ann data/annotations/person_keypoints_val2017.json \\
        --model cganet_tnet_d1w64 --input-size 512 --epochs 95 --batch 16 --out runs/coco

Any folder of images with a COCO keypoint annotation file works (``cgalib synth`` writes
one); only the person category is used. Every option becomes an explicit keyword argument
of :func:`cgalib.engine.train`; the run folder gets ``model.pt``, ``last.pt`` (for
``--resume``) and ``metrics.csv``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from cgalib import list_models, load_model
from cgalib.engine import train
from cgalib.eval import evaluate_coco, format_metrics


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, required=True, help="training image folder")
    parser.add_argument("--ann", type=Path, required=True, help="training annotation JSON")
    parser.add_argument("--val-images", type=Path, default=None, help="evaluation image folder")
    parser.add_argument("--val-ann", type=Path, default=None, help="evaluation annotation JSON")
    parser.add_argument("--out", type=Path, required=True, help="run folder")
    parser.add_argument("--model", default="cganet_tnet_d1w16", choices=list_models("cganet_*"))
    parser.add_argument("--input-size", type=int, default=256, help="square training input")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=16, help="images per step and process")
    parser.add_argument("--optimizer", choices=["sgd", "adamw"], default="sgd")
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--warmup-steps", type=int, default=500)
    parser.add_argument("--amp", choices=["bf16", "fp16"], default=None)
    parser.add_argument("--device", default=None, help="cuda or cpu (default: cuda if available)")
    parser.add_argument("--workers", type=int, default=2, help="data-loading processes")
    parser.add_argument("--time-limit", type=float, default=None, help="stop after N minutes")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    parser.add_argument(
        "--model-kwargs",
        default=None,
        help="JSON overrides for the builder, e.g. '{\"max_detections\": 30}' (the input "
        "size is --input-size)",
    )
    args = parser.parse_args(argv)
    if (args.val_images is None) != (args.val_ann is None):
        parser.error("--val-images and --val-ann go together")
    model_kwargs = json.loads(args.model_kwargs or "{}")

    checkpoint = train(
        args.model,
        args.images.parent,  # the data root; the explicit folder and file below win
        args.out,
        model_kwargs=model_kwargs,
        images_train=args.images,
        ann_train=args.ann,
        input_size=args.input_size,
        device=args.device,
        epochs=args.epochs,
        batch_size=args.batch,
        optimizer=args.optimizer,
        lr=args.lr,
        warmup_steps=args.warmup_steps,
        amp=args.amp,
        resume=args.resume,
        num_workers=args.workers,
        time_limit=args.time_limit * 60 if args.time_limit else None,
    )
    print(f"model: {checkpoint}")

    if args.val_images is not None and int(os.environ.get("RANK", "0")) == 0:
        metrics, _ = evaluate_coco(
            load_model(checkpoint),
            args.val_images,
            args.val_ann,
            device=args.device,
            progress=False,
        )
        print(format_metrics(metrics, "val keypoints"))


if __name__ == "__main__":
    main()
