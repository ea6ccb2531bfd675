"""End-to-end inference speed of registered CGANet models (CPU or CUDA).

Run:  python benchmarks/speed.py [--models cganet_tnet_d1w16 cganet_tnet_d1w64]
      [--sizes 256 384 512] [--device cpu|cuda] [--precision fp32 bf16] [--threads 2]

Times ``model(images)`` from an image tensor to keypoints (normalisation, network, AA,
decode, DEA, ROI head, keypoint decode) at batch 1 on a square input, warm-up excluded,
synchronised on CUDA; reports frames per second, parameters, the share of time spent
after the dense heads (post-processing + ROI head) and that of the post-processing alone
(AA, decode, DEA, keypoint decode), read from the stages the model labels in a profiled
forward (:func:`cgalib.utils.stage_seconds`). Prints a markdown table.
"""

from __future__ import annotations

import argparse

import torch
from _timing import PRECISIONS, autocast, cganet_time_split, device_name

from cgalib import create_model
from cgalib.utils import count_parameters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", nargs="+", default=["cganet_tnet_d1w16", "cganet_tnet_d1w64"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[256, 384])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--precision", nargs="+", default=["fp32"], choices=PRECISIONS)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: all)")
    parser.add_argument("--iters", type=int, default=10)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"device: {device_name(device)}; torch {torch.__version__}\n")
    print(
        "| model | input | precision | params (M) | fps | ms | post-dense share | "
        "post-processing share |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name in args.models:
        model = create_model(name).to(device).eval()
        params = count_parameters(model) / 1e6
        for size in args.sizes:
            x = torch.rand(1, 3, size, size, device=device)
            for precision in args.precision:
                with torch.inference_mode(), autocast(device, precision):
                    t = cganet_time_split(model, x, device, 3, args.iters)
                print(
                    f"| {name} | {size} | {precision} | {params:.1f} | {1 / t['total']:.1f} | "
                    f"{t['total'] * 1e3:.1f} | {t['post_dense_share']:.0%} | "
                    f"{t['post_share']:.0%} |"
                )


if __name__ == "__main__":
    main()
