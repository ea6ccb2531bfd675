"""Keypoint AP and speed of a checkpoint in fp32 and in bf16 autocast on the CPU; update the docs.

Run:  python docs/scripts/bf16_accuracy.py [--checkpoint cganet_tnet_d1w16.synthetic]

Evaluates the checkpoint (default: the one shipped with cgalib) on the held-out synthetic
split it is measured on (:data:`cgalib.models.pretrained.HELD_OUT`, regenerated in a
temporary folder) twice, ``precision="fp32"`` and ``"bf16"`` (the ``Predictor``'s autocast,
``cgalib eval --precision bf16``), with the same thread count, and writes AP, AP50 and the
evaluation time per image of each between the ``bf16-accuracy`` markers of
docs/benchmarks.md, with the machine, date and command. The speed of the paper-size models
in bf16 against fp32 is in the ``make bench`` tables.
"""

from __future__ import annotations

import argparse
import datetime
import tempfile
import time
from pathlib import Path

import torch

from cgalib import load_model
from cgalib.data import find_split, make_synthetic_coco
from cgalib.eval import evaluate_coco
from cgalib.models.pretrained import HELD_OUT
from cgalib.utils import write_block
from cgalib.utils.machine import cpu_name

REPO = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="cganet_tnet_d1w16.synthetic")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--page", default=str(REPO / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = load_model(args.checkpoint)
    size = model.input_rule.side
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        make_synthetic_coco(tmp, **HELD_OUT)
        images_dir, ann_file = find_split(tmp, "val")
        for precision in ("fp32", "bf16"):
            started = time.perf_counter()
            metrics, _ = evaluate_coco(model, images_dir, ann_file, input_size=size,
                                       device="cpu", precision=precision, progress=False)  # fmt: skip
            ms = (time.perf_counter() - started) / HELD_OUT["num_val"] * 1000
            rows.append((precision, metrics["AP"], metrics["AP50"], ms))
    fp32, bf16 = rows
    lines = [
        f"Measured on {cpu_name()}, {args.threads} threads, torch {torch.__version__}, "
        f"{datetime.date.today().isoformat()}: `{args.checkpoint}` at {size} px on the "
        f"{HELD_OUT['num_val']} held-out synthetic images (seed {HELD_OUT['seed']}), "
        f"`python docs/scripts/bf16_accuracy.py --checkpoint {args.checkpoint}`.",
        "",
        "| precision | AP | AP50 | ms per image (evaluation, data loading included) |",
        "|---|---|---|---|",
        *(f"| {p} | {ap:.3f} | {ap50:.3f} | {ms:.0f} |" for p, ap, ap50, ms in rows),
        "",
        f"bf16 - fp32: {bf16[1] - fp32[1]:+.3f} AP; bf16 runs at {fp32[3] / bf16[3]:.2f}x the "
        "speed of fp32 end to end.",
    ]
    body = "\n".join(lines)
    write_block(args.page, "bf16-accuracy", body)
    print(body)


if __name__ == "__main__":
    main()
