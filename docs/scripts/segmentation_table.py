"""Train ``cganet_tnet_d1w16_seg`` on the synthetic set and write the table of docs/segmentation.md.

Usage::

    python docs/scripts/segmentation_table.py   # the demo's budget (run_demo's default minutes)

The synthetic crowd set (the demo's settings) is written to ``--work`` (reused when present),
the model trains on the CPU for ``--budget`` seconds with the demo's recipe, and three mask
APs of the same detections on the validation split are compared (pycocotools
``iouType="segm"``):

- **model**: the predicted masks;
- **box-filled floor**: each detection's mask is its filled box;
- **ground-truth masks**: each detection's mask is the segmentation of the ground-truth person
  whose box overlaps it most (filled box when none does): the mask AP that a perfect mask
  step would reach on these detections, an upper bound of the mask head.

The block between the markers of docs/segmentation.md is replaced by the table, the
parameter counts of the segmentation builders (paper: 20.2M) and the machine and date, and
``docs/images/segmentation_masks.png`` shows the same model's masks on validation images
next to the ground truth.
"""

from __future__ import annotations

import argparse
import datetime
import inspect
import os
import time
from pathlib import Path

import numpy as np
import torch
from pycocotools import mask as mask_utils

from cgalib import create_model
from cgalib.codecs import masks_to_rle
from cgalib.data import find_split, make_synthetic_coco
from cgalib.demo import run_demo
from cgalib.engine import train
from cgalib.engine.recipes import CPU_DEMO_RECIPE, for_this_cpu
from cgalib.eval import coco_ap, evaluate_coco, load_coco
from cgalib.models import load_model
from cgalib.utils import write_block
from cgalib.utils.machine import machine_description

PAGE = Path(__file__).resolve().parents[1] / "segmentation.md"
FIGURE = Path(__file__).resolve().parents[1] / "images" / "segmentation_masks.png"
SCORE = 0.3
"""Detections drawn in the figure: score at least this."""
PAPER_PARAMS = 20.2
DEMO_SECONDS = 60.0 * inspect.signature(run_demo).parameters["minutes"].default


def box_filled(results: list[dict], coco) -> list[dict]:
    """The results with each mask replaced by its filled box."""
    out = []
    for r in results:
        img = coco.imgs[r["image_id"]]
        box = np.asarray([r["bbox"]], dtype=np.float64)
        rle = mask_utils.frPyObjects(box, img["height"], img["width"])[0]
        rle["counts"] = rle["counts"].decode("ascii")
        out.append({**r, "segmentation": rle})
    return out


def ground_truth_masks(results: list[dict], coco) -> list[dict]:
    """The results with each mask replaced by the best-overlapping ground-truth person's."""
    filled = box_filled(results, coco)
    out = []
    for r, fallback in zip(results, filled):
        anns = coco.loadAnns(coco.getAnnIds(imgIds=r["image_id"], iscrowd=False))
        if anns:
            ious = mask_utils.iou([r["bbox"]], [a["bbox"] for a in anns], [0] * len(anns))[0]
            best = int(np.argmax(ious))
            if ious[best] > 0:
                img = coco.imgs[r["image_id"]]
                mask = coco.annToMask(anns[best])[None].astype(bool)
                assert mask.shape[1:] == (img["height"], img["width"])
                out.append({**r, "segmentation": masks_to_rle(mask)[0]})
                continue
        out.append(fallback)
    return out


def save_mask_figure(path: Path, images_dir: Path, coco, results: list[dict], count: int = 3):
    """Predicted masks and boxes (top row) over the ground truth's (bottom row) on the first
    ``count`` validation images that hold at least two people."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cgalib.utils import read_image
    from cgalib.viz import draw_masks, draw_people

    ids = [i for i in sorted(coco.imgs) if len(coco.getAnnIds(imgIds=i, iscrowd=False)) >= 2]
    fig, axes = plt.subplots(2, count, figsize=(3.3 * count, 6.8), squeeze=False)
    for k, image_id in enumerate(ids[:count]):
        info = coco.imgs[image_id]
        image = read_image(images_dir / info["file_name"])
        size = (info["height"], info["width"])
        predicted = [r for r in results if r["image_id"] == image_id and r["score"] >= SCORE]
        truth = coco.loadAnns(coco.getAnnIds(imgIds=image_id, iscrowd=False))
        truth = [{k: v for k, v in a.items() if k != "keypoints"} for a in truth]  # masks only
        for ax, people, title in ((axes[0, k], predicted, f"model: {len(predicted)} people"),
                                  (axes[1, k], truth, f"ground truth: {len(truth)} people")):
            draw_people(ax, image, people, score_threshold=SCORE, title=title)
            draw_masks(ax, people, size, score_threshold=SCORE)
            ax.set_axis_off()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def params_m(name: str) -> float:
    return sum(p.numel() for p in create_model(name).parameters()) / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--budget", type=float, default=DEMO_SECONDS, help="training seconds (default: the demo's)"
    )
    parser.add_argument("--work", default="/tmp/cgalib-segmentation", help="data and run folder")
    parser.add_argument("--num-train", type=int, default=2000)
    parser.add_argument("--num-val", type=int, default=100)
    parser.add_argument("--size", type=int, default=192)
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    parser.add_argument(
        "--checkpoint", help="evaluate this model.pt of an earlier run (trained with --budget)"
    )
    args = parser.parse_args(argv)

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    work = Path(args.work)
    data = work / f"data-{args.num_train}-{args.num_val}-{args.size}"
    if not (data / "annotations" / "person_keypoints_val.json").is_file():
        make_synthetic_coco(data, args.num_train, args.num_val, size=args.size, min_height=48)
    started = time.perf_counter()
    checkpoint = args.checkpoint or train(
        "cganet_tnet_d1w16_seg",
        data,
        work / f"run-{int(time.time())}",
        input_size=args.size,
        device="cpu",
        epochs=None,
        seed=0,
        time_budget=args.budget,  # the demo's rule: the lr drops follow the time used
        **for_this_cpu(CPU_DEMO_RECIPE),
    )
    print(f"checkpoint: {checkpoint}")
    trained = f"{(time.perf_counter() - started) / 60:.1f} min with start-up"
    if args.checkpoint:
        trained = f"checkpoint {Path(args.checkpoint).parent.name}"
    net = load_model(checkpoint)
    images_dir, ann_file = find_split(data, "val")
    metrics, results = evaluate_coco(
        net, images_dir, ann_file, input_size=args.size, device="cpu", progress=False
    )
    coco = load_coco(ann_file)
    floor = coco_ap(coco, box_filled(results, coco), "segm")["AP"]
    upper = coco_ap(coco, ground_truth_masks(results, coco), "segm")["AP"]
    fill = np.array(
        [a["area"] / (a["bbox"][2] * a["bbox"][3]) for a in coco.dataset["annotations"]
         if a["bbox"][2] * a["bbox"][3] > 0]
    )
    rows = [
        ("model masks (`cganet_tnet_d1w16_seg`)", metrics["mask_AP"], metrics["mask_AP50"]),
        ("box-filled masks, same detections (floor)", floor, None),
        ("ground-truth masks, same detections (upper bound)", upper, None),
    ]
    lines = [
        f"Budget **{args.budget / 60:.1f} min** of training ({trained}), {args.num_train} training / {args.num_val} validation images of "
        f"{args.size} px; {machine_description()}, {datetime.date.today().isoformat()}.",
        "",
        "| masks of the detections | mask AP | mask AP50 |",
        "|---|---|---|",
        *(f"| {n} | {ap:.3f} | {'' if ap50 is None else f'{ap50:.3f}'} |" for n, ap, ap50 in rows),
        "",
        f"Box AP of the same detections: {metrics['box_AP']:.3f}. The validation people's masks "
        f"fill a median {np.median(fill):.0%} of their boxes ({(fill > 0.5).mean():.0%} fill more "
        "than half), so a filled box rarely overlaps its person by IoU 0.5, the lowest "
        "threshold of mask AP: the floor is near zero.",
        "",
        "| builder | parameters (M) | paper (Table 6) |",
        "|---|---|---|",
        f"| `cganet_tnet_d1w64_seg` | {params_m('cganet_tnet_d1w64_seg'):.2f} | {PAPER_PARAMS} |",
        f"| `cganet_tnet_d1w16_seg` | {params_m('cganet_tnet_d1w16_seg'):.2f} | — |",
        "",
        f"![The model's masks and boxes on validation images (top) over the ground truth's "
        f"(bottom)](images/{FIGURE.name})",
        "",
        f"*The same model's masks and boxes (score at least {SCORE}) on the first three "
        "validation images holding two people or more (top), over the ground-truth masks "
        "(bottom); drawn from the same run as the table.*",
    ]
    if args.budget < DEMO_SECONDS:
        lines[:0] = [
            f"**Check run only** ({args.budget / 60:.1f} min, shorter than the demo's "
            f"{DEMO_SECONDS / 60:.0f}): it shows that the script works, not what the model "
            "reaches; the measurement is the default budget on a quiet machine.",
            "",
        ]
    block = "\n".join(lines)
    print(block)
    if not args.no_write:
        write_block(PAGE, "segmentation-table", block)
        print(f"written to {PAGE}")
        save_mask_figure(FIGURE, Path(images_dir), coco, results)
        print(f"written {FIGURE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
