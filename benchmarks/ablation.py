"""Paper Tables 1 and 2 on the synthetic set: keypoint heads, box extension, AA, cascade.

Run:  python benchmarks/ablation.py --out runs/ablation [--device cuda] [--minutes 8]
      [--backbone d1w64|d1w16] [--write-docs docs/ablation.md]

Three models are trained with the same recipe (ROIPointer, ROIGuider, cascade ROIGuider);
the inference-time variants (box extension none / fixed / DEA, Ambiguity Alleviation
off / on, and the DEA ``ratio`` x ``thre`` grid of Table 2) are built from the trained
ROIGuider model with ``cgalib.create_variant`` (the same weights, other builder
arguments); no model attribute is changed after construction. AP is pycocotools' OKS AP on the
held-out synthetic val split. Prints markdown tables and, with ``--write-docs``, writes them
into the page's ``ablation`` block (:func:`cgalib.utils.write_block`).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
from pathlib import Path

import torch

from cgalib.data import find_split, make_synthetic_coco
from cgalib.engine import train
from cgalib.engine.recipes import CPU_DEMO_RECIPE, SYNTHETIC_GPU_RECIPE, for_this_cpu
from cgalib.eval import evaluate_coco
from cgalib.models import create_variant, load_checkpoint, load_model
from cgalib.models.checkpoint import TRAIN_STATE_FORMAT
from cgalib.utils import count_parameters, page_with_block, write_block

RATIOS = (0.05, 0.07, 0.08, 0.09, 0.1, 0.15)
THRES = (0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 0.15)
BLOCK = "ablation"
"""``--write-docs`` replaces the page's block between ``<!-- ablation:start -->`` and
``<!-- ablation:end -->``."""


def _ap(model, data: Path, size: int, device: str) -> float:
    images, ann = find_split(data, "val")
    metrics, _ = evaluate_coco(model, images, ann, input_size=size, device=device, progress=False)
    return metrics["AP"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="runs/ablation")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--minutes", type=float, default=8.0, help="training budget per model")
    parser.add_argument(
        "--backbone",
        choices=["d1w64", "d1w16"],
        default=None,
        help="default: d1w64 on CUDA, d1w16 on the CPU",
    )
    parser.add_argument("--size", type=int, default=None, help="input size (384 / 256)")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--train-images", type=int, default=None)
    parser.add_argument(  # a page without the block fails now, not after hours of training
        "--write-docs", type=page_with_block(BLOCK), help="markdown page to write"
    )
    args = parser.parse_args()

    gpu = args.device.startswith("cuda")
    backbone = args.backbone or ("d1w64" if gpu else "d1w16")
    size = args.size or (384 if gpu else 192)
    n_train = args.train_images or (6000 if gpu else 2000)
    # GPU: configs/synthetic_gpu.py's recipe; CPU: the demo's (cgalib.demo.run_demo)
    recipe = SYNTHETIC_GPU_RECIPE if gpu else for_this_cpu(CPU_DEMO_RECIPE)
    out = Path(args.out)
    data = out / "data"
    if not (data / "annotations" / "person_keypoints_val.json").is_file():
        make_synthetic_coco(
            data, n_train, 200, seed=0, size=size, min_height=size / 4, progress=True
        )

    variants = {
        "ROIPointer": {"keypoint_head": "roi_pointer"},
        "ROIGuider": {},
        "ROIGuider x2 (cascade)": {"cascade": 2},
    }
    trained: dict[str, Path] = {}
    epochs_of: dict[str, int] = {}
    reused: dict[str, str] = {}  # label -> date of a finished run found in --out
    for label, switches in variants.items():
        run = out / label.split()[0].lower() / ("cascade" if "cascade" in label else "single")
        done = run / "done.json"  # model.pt alone also exists after an interrupted run
        if done.is_file():
            reused[label] = datetime.date.fromtimestamp(done.stat().st_mtime).isoformat()
        else:
            kwargs = {"input_size": size, **switches}
            if args.epochs or gpu:
                length = {"epochs": args.epochs or 24, "time_limit": args.minutes * 60 * 1.5}
            else:  # the demo's rule: the whole budget, the lr drops following the time used
                length = {"epochs": None, "time_budget": args.minutes * 60}
            train(
                f"cganet_tnet_{backbone}",
                data,
                run,
                model_kwargs=kwargs,
                input_size=size,
                device=args.device,
                resume=(run / "last.pt").is_file(),  # an interrupted run continues
                **length,
                **recipe,
            )
            state = load_checkpoint(run / "last.pt", TRAIN_STATE_FORMAT)
            done.write_text(
                json.dumps({"epochs": round(state["step"] * recipe["batch_size"] / n_train, 1)})
            )
        trained[label] = run / "model.pt"
        epochs_of[label] = json.loads(done.read_text())["epochs"]

    rows = []
    for label in ("ROIPointer", "ROIGuider"):
        model = create_variant(
            load_model(trained[label]), box_extension="none", ambiguity_alleviation=False
        )
        ap = _ap(model, data, size, args.device)
        rows.append((label, count_parameters(model), epochs_of[label], ap))
    guider = load_model(trained["ROIGuider"])
    params = count_parameters(guider)
    for label, ext, aa in (
        ("+ Fixed Extend Area (d*)", "fixed", False),
        ("+ Dichotomy Extended Area (d)", "dichotomy", False),
        ("+ Ambiguity Alleviation (e)", "dichotomy", True),
    ):
        variant = create_variant(guider, box_extension=ext, ambiguity_alleviation=aa)
        ap = _ap(variant, data, size, args.device)
        rows.append((label, params, epochs_of["ROIGuider"], ap))
    cascade = load_model(trained["ROIGuider x2 (cascade)"])
    label = "ROIGuider x2 (cascade)"
    ap = _ap(cascade, data, size, args.device)
    rows.append(("+ ROIGuider x2 (f)", count_parameters(cascade), epochs_of[label], ap))

    grid = {}
    for ratio in RATIOS:
        for thre in THRES:
            variant = create_variant(
                guider, box_extension="dichotomy", extend_ratio=ratio, extend_thre=thre
            )
            grid[(ratio, thre)] = _ap(variant, data, size, args.device)

    device_name = (
        torch.cuda.get_device_name() if gpu else f"{os.cpu_count()}-core {platform.machine()} CPU"
    )
    lines = [
        f"Measured on {device_name} ({args.device}), {datetime.date.today()}, backbone "
        f"TNet-{backbone.upper()}, input {size}, {n_train} synthetic training images, "
        f"{args.minutes:g} min per model (a time budget: the heads' costs decide their "
        f"epochs), keypoint AP on a 0-1 scale, `python benchmarks/ablation.py "
        f"--device {args.device} --minutes {args.minutes:g}`."
        + (
            " Trained runs found in the run folder were only evaluated now: "
            + ", ".join(f"{label} (trained {day})" for label, day in reused.items())
            + "; their training followed the script of that day."
            if reused
            else ""
        ),
        "",
        "| | Component | Params | Epochs | AP |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| | {label} | {p / 1e6:.1f}M | {e} | {ap:.3f} |" for label, p, e, ap in rows]
    lines += [
        "",
        "Table 2 (ratio rows, thre columns, keypoint AP):",
        "",
        "| ratio \\ thre | " + " | ".join(map(str, THRES)) + " |",
        "|---|" + "---|" * len(THRES),
    ]
    for ratio in RATIOS:
        lines.append(
            f"| {ratio} | " + " | ".join(f"{grid[(ratio, t)]:.3f}" for t in THRES) + " |"
        )
    table = "\n".join(lines)
    print(table)
    (out / "ablation.json").write_text(
        json.dumps({"rows": rows, "grid": {f"{r},{t}": v for (r, t), v in grid.items()}})
    )
    if args.write_docs:
        write_block(args.write_docs, BLOCK, table, blank_lines=True)


if __name__ == "__main__":
    main()
