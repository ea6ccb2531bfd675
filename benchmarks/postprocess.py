"""Latency of the inference post-processing: center decode, Ambiguity Alleviation and DEA.

Times each stage on random center / size / offset / center-line maps at a 128x128 heatmap
(a 512x512 input at stride 4), for 1 and 8 images with 100 boxes each, on the CPU and,
when one is present, a CUDA GPU. GPU timings synchronise around every call; warm-up calls
are excluded. The target for DEA is under 0.2 ms per batch on a GPU.

DEA is a 10-step loop of tiny ops, so eager timings are dominated by per-op dispatch
(and, on a GPU, kernel launches); ``--compile`` adds a column for
``torch.compile(dichotomy_extend_area)``, which fuses the loop (compiling takes a while).

Run:  python benchmarks/postprocess.py [--batches 1 8] [--boxes 100] [--size 128] [--compile]
Prints a markdown table of median milliseconds per call; no test depends on it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import torch
from _timing import time_call

from cgalib.postprocess import alleviate_ambiguity, decode_centers, dichotomy_extend_area


def _time_ms(fn: Callable[[], object], device: torch.device, repeats: int, warmup: int) -> float:
    """Median wall time of ``fn`` in milliseconds, synchronising on CUDA."""
    return time_call(lambda _: fn(), None, device, warmup, repeats) * 1e3


def bench(
    device: torch.device,
    batch: int,
    boxes: int,
    size: int,
    repeats: int,
    warmup: int,
    compiled_dea: Callable | None = None,
) -> dict[str, float]:
    """Median milliseconds of decode, AA, DEA (eager and, optionally, compiled) and the
    three chained, for one setting."""
    g = torch.Generator().manual_seed(0)
    heat = torch.rand(batch, 1, size, size, generator=g).to(device)
    wh = (torch.rand(batch, 2, size, size, generator=g) * size / 3).to(device)
    offset = torch.rand(batch, 2, size, size, generator=g).to(device)
    line_x = torch.rand(batch, 1, size, size, generator=g).to(device)
    line_y = torch.rand(batch, 1, size, size, generator=g).to(device)
    det, _ = decode_centers(heat, wh, offset, k=boxes)

    def decode():
        return decode_centers(heat, wh, offset, k=boxes)

    def aa():
        return alleviate_ambiguity(heat, line_x, line_y)

    def dea():
        return dichotomy_extend_area(det, line_x[:, 0], line_y[:, 0])

    def chain():
        scores = alleviate_ambiguity(heat, line_x, line_y)
        found, _ = decode_centers(scores, wh, offset, k=boxes)
        return dichotomy_extend_area(found, line_x[:, 0], line_y[:, 0])

    stages = [("decode", decode), ("aa", aa), ("dea", dea), ("total", chain)]
    if compiled_dea is not None:
        stages.append(("dea_compiled", lambda: compiled_dea(det, line_x[:, 0], line_y[:, 0])))
    return {name: _time_ms(fn, device, repeats, warmup) for name, fn in stages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8], help="images per batch")
    parser.add_argument("--boxes", type=int, default=100, help="boxes per image (top-k)")
    parser.add_argument("--size", type=int, default=128, help="heatmap side (input / 4)")
    parser.add_argument("--repeats", type=int, default=100, help="timed calls per cell")
    parser.add_argument("--warmup", type=int, default=10, help="untimed calls first")
    parser.add_argument("--devices", nargs="+", default=None, help="default: cpu and cuda if any")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile'd DEA")
    args = parser.parse_args()
    devices = args.devices or ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    compiled = torch.compile(dichotomy_extend_area, dynamic=False) if args.compile else None
    keys = ["decode", "aa", "dea", "total"] + (["dea_compiled"] if compiled else [])

    header = ["device", "images", "boxes/image", "decode (ms)", "AA (ms)", "DEA (ms)"]
    header += ["decode+AA+DEA (ms)"] + (["DEA compiled (ms)"] if compiled else [])
    print(
        f"heatmap {args.size}x{args.size}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} CPU threads, median of {args.repeats} calls\n"
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name in devices:
        device = torch.device(name)
        label = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
        for batch in args.batches:
            ms = bench(device, batch, args.boxes, args.size, args.repeats, args.warmup, compiled)
            cells = [f"{ms[k]:.3f}" for k in keys]
            print("| " + " | ".join([label, str(batch), str(args.boxes), *cells]) + " |")


if __name__ == "__main__":
    main()
