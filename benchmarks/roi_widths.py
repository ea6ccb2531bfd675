"""Where the paper-sized model's CPU time goes: ROIguider widths at the same parameter count.

The paper fixes the ROIguider's structure (three RoIAligned levels, residual blocks, the GFM
reverse path) and the model's total parameters (20.2M for TNet-D1W64, Table 1 e), not the
widths of its levels. cgalib's default widths (128, 256, 512) reach the parameter count with
about 2 GMAC per box; a level's MACs per parameter grow with its area (32x32, 16x16, 8x8
cells at a 512 input), so moving parameters to the coarsest level keeps the count and
lowers the MACs. This script measures, for each width setting of ``cganet_tnet_d1w64``:
the model's parameters, the keypoint head's GMACs per box, the keypoint head's time for 20
boxes and the end-to-end ``Predictor`` time of a 640x480 image (as in ``peers.py``),
median of ``--iters`` calls after warm-up, in one process::

    python benchmarks/roi_widths.py --threads 2 --write-docs docs/benchmarks.md

Settings are ``head_kwargs`` of the builder (``channels``, ``num_blocks``,
``head_channels``); the first row of each table is the registered default. Accuracy is
measured apart, at the demo model's scale and equal training steps, by
``roi_width_accuracy.py``; the decision is on the benchmarks page.
"""

from __future__ import annotations

import argparse
import datetime

import torch
from _timing import device_name, time_call

from cgalib import Predictor, create_model
from cgalib.utils import count_macs, page_with_block, write_block

DEFAULT_WIDTHS = {"channels": (128, 256, 512), "num_blocks": (1, 1, 1), "head_channels": 128}
"""The registered ROIguider widths (kept after the measurement of roi_width_accuracy.py)."""

SETTINGS: dict[str, dict] = {
    "(128, 256, 512), the default": DEFAULT_WIDTHS,
    "(64, 256, 512)": {**DEFAULT_WIDTHS, "channels": (64, 256, 512)},
    "(64, 128, 512), blocks (1, 1, 2)": {
        "channels": (64, 128, 512),
        "num_blocks": (1, 1, 2),
        "head_channels": 64,
    },
    "(64, 96, 512), blocks (1, 1, 2)": {
        "channels": (64, 96, 512),
        "num_blocks": (1, 1, 2),
        "head_channels": 64,
    },
    "(32, 128, 512), blocks (1, 1, 2)": {
        "channels": (32, 128, 512),
        "num_blocks": (1, 1, 2),
        "head_channels": 64,
    },
}
CASCADE_SETTINGS: dict[str, dict] = {
    "(128, 256, 512), the default": DEFAULT_WIDTHS,
    "(64, 128, 512), blocks (1, 1, 2)": {
        "channels": (64, 128, 512),
        "num_blocks": (1, 1, 2),
        "head_channels": 64,
    },
}
"""Width settings of the two-stage ``cganet_tnet_d1w64_cascade`` (both stages take them)."""
PAPER_PARAMS_M = 20.2
PAPER_CASCADE_PARAMS_M = 26.9
BOXES = 20


def measure(
    head_kwargs: dict, warmup: int, iters: int, model_name: str = "cganet_tnet_d1w64"
) -> dict[str, float]:
    """Parameters (M), keypoint-head GMACs per box and milliseconds of one width setting."""
    cpu = torch.device("cpu")
    model = create_model(model_name, head_kwargs=head_kwargs).eval()
    head = model.keypoint_head
    features = [
        torch.rand(1, c, 512 // s, 384 // s)
        for c, s in zip(head.in_channels, head.strides, strict=False)
    ]
    boxes = [torch.tensor([[50.0, 40.0, 250.0, 400.0]]).repeat(BOXES, 1)]
    image = torch.rand(3, 480, 640, generator=torch.Generator().manual_seed(0))
    predictor = Predictor(model, device="cpu", input_size=512)
    with torch.inference_mode():
        head_s = time_call(lambda b: head(features, b), boxes, cpu, warmup, iters)
        total_s = time_call(predictor.predict, image, cpu, warmup, iters)
    return {
        "params_m": sum(p.numel() for p in model.parameters()) / 1e6,
        "gmac_per_box": count_macs(head, features, boxes) / BOXES / 1e9,
        "head_ms": head_s * 1e3,
        "total_ms": total_s * 1e3,
    }


def table(rows: dict[str, dict[str, float]], paper_params_m: float = PAPER_PARAMS_M) -> str:
    """The Markdown table of the measured settings, times relative to the first row."""
    base = next(iter(rows.values()))
    lines = [
        f"| ROIguider widths | params (M) | vs paper {paper_params_m}M | keypoint head GMAC / box "
        f"| keypoint head ms ({BOXES} boxes) | end-to-end ms | speed-up end to end |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        lines.append(
            f"| {name} | {r['params_m']:.2f} | {r['params_m'] / paper_params_m - 1:+.1%} "
            f"| {r['gmac_per_box']:.2f} | {r['head_ms']:.0f} | {r['total_ms']:.0f} "
            f"| {base['total_ms'] / r['total_ms']:.2f}x |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--iters", type=int, default=7)
    parser.add_argument(
        "--write-docs", type=page_with_block("roi-widths:cpu"), help="write the table into this page"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows, cascade_rows = {}, {}
    for name, kwargs in SETTINGS.items():
        rows[name] = measure(kwargs, args.warmup, args.iters)
        print(f"{name}: {rows[name]}", flush=True)
    for name, kwargs in CASCADE_SETTINGS.items():
        cascade_rows[name] = measure(kwargs, args.warmup, args.iters, "cganet_tnet_d1w64_cascade")
        print(f"cascade {name}: {cascade_rows[name]}", flush=True)
    body = (
        f"Measured on {device_name(torch.device('cpu'))}, torch {torch.__version__}, "
        f"{datetime.date.today().isoformat()}: `python benchmarks/roi_widths.py --threads "
        f"{args.threads}`. fp32, a 640x480 image letterboxed to 512 for the end-to-end column. "
        "Widths are given to the builder, so the rows name them whatever the registered "
        "default is.\n\n`cganet_tnet_d1w64`:\n\n"
        + table(rows)
        + "\n\n`cganet_tnet_d1w64_cascade` (both stages at the widths):\n\n"
        + table(cascade_rows, PAPER_CASCADE_PARAMS_M)
    )
    print(body)
    if args.write_docs:
        write_block(args.write_docs, "roi-widths:cpu", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
