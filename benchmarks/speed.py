"""End-to-end inference speed of registered CGANet models (CPU or CUDA).

Run:  python benchmarks/speed.py [--models cganet_tnet_d1w16 cganet_tnet_d1w64]
      [--sizes 256 384 512] [--device cpu|cuda] [--precision fp32 bf16] [--threads 2]

Times ``model(images)`` from an image tensor to keypoints (normalisation, network, AA,
decode, DEA, ROI head, keypoint decode) at batch 1 on a square input, warm-up excluded,
synchronised on CUDA; reports frames per second, parameters and the share of time spent
after the dense heads (post-processing + ROI head). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import statistics
import time

import torch

from cgalib import create_model
from cgalib.utils import count_parameters


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time(fn, arg, device, warmup: int, iters: int) -> float:
    for _ in range(warmup):
        fn(arg)
    _sync(device)
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        fn(arg)
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", nargs="+", default=["cganet_tnet_d1w16", "cganet_tnet_d1w64"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[256, 384])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument(
        "--precision", nargs="+", default=["fp32"], choices=["fp32", "bf16", "fp16"]
    )
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: all)")
    parser.add_argument("--iters", type=int, default=10)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    where = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else (f"{platform.processor() or 'CPU'}, {torch.get_num_threads()} threads")
    )
    print(f"device: {where}; torch {torch.__version__}\n")
    print("| model | input | precision | params (M) | fps | ms | post-dense share |")
    print("|---|---|---|---|---|---|---|")
    for name in args.models:
        model = create_model(name).to(device).eval()
        params = count_parameters(model) / 1e6
        for size in args.sizes:
            x = torch.rand(1, 3, size, size, device=device)
            for precision in args.precision:
                dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
                autocast = (
                    torch.autocast(device.type, dtype=dtype) if dtype else contextlib.nullcontext()
                )
                with torch.inference_mode(), autocast:
                    total = _time(model, x, device, 3, args.iters)
                    dense = _time(model.forward_dense, x, device, 3, args.iters)
                share = max(0.0, 1 - dense / total)
                print(
                    f"| {name} | {size} | {precision} | {params:.1f} | {1 / total:.1f} | "
                    f"{total * 1e3:.1f} | {share:.0%} |"
                )


if __name__ == "__main__":
    main()
