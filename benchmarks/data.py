"""Throughput of the data pipeline: synthetic generation, loading and GPU augmentation.

1. Synthetic generation: images/s of :func:`cgalib.data.make_synthetic_coco` on one CPU
   core (``torch``/BLAS threads are irrelevant: drawing is PIL and numpy), images and
   annotation files written.
2. Loading: images/s of :class:`cgalib.data.CocoKeypoints` decoding + letterboxing the
   synthetic JPEGs to the input size and collating, in one process with one torch thread
   (as one DataLoader worker runs; workers scale it).
3. Augmentation: images/s of :class:`cgalib.data.PoseAugmentation` on a batch of letterboxed
   images (with and without instance masks), on the CPU and, when present, a CUDA GPU
   (synchronised; warm-up excluded).

Run:  python benchmarks/data.py [--images 200] [--size 384] [--input-size 512] [--batch 32]
Prints a markdown table; no test depends on it.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch
from _timing import time_call
from torch.utils.data import DataLoader

from cgalib.data import (
    CocoKeypoints,
    PoseAugmentation,
    collate_letterboxed,
    make_synthetic_coco,
)


def _rate(fn, count: int, repeats: int, device: torch.device | None = None) -> float:
    """Items per second: ``count`` over the median time of ``fn()`` (one warm-up call)."""
    device = device or torch.device("cpu")
    return count / time_call(lambda _: fn(), None, device, warmup=1, iters=repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200, help="synthetic images to generate")
    parser.add_argument("--size", type=int, default=384, help="synthetic image size")
    parser.add_argument("--input-size", type=int, default=512, help="letterbox/augment size")
    parser.add_argument("--batch", type=int, default=32, help="augmentation batch size")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats (median)")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        paths = make_synthetic_coco(tmp, args.images, 0, seed=0, size=args.size)
        gen = args.images / (time.perf_counter() - start)
        rows.append(("synthetic generation", f"{args.size}px, 1 core", "cpu", gen))

        for masks in (False, True):
            ds = CocoKeypoints(paths["train_images"], paths["train_ann"], input_size=args.input_size,
                               with_masks=masks)  # fmt: skip
            loader = DataLoader(ds, batch_size=args.batch, collate_fn=collate_letterboxed)
            threads = torch.get_num_threads()
            torch.set_num_threads(1)  # as in a DataLoader worker
            ds[0]  # warm-up (first interpolate call, file cache)
            start = time.perf_counter()
            batches = list(loader)
            load = len(ds) / (time.perf_counter() - start)
            torch.set_num_threads(threads)
            label = "+ masks" if masks else ""
            rows.append(
                (
                    f"load + letterbox {label}",
                    f"{args.size}->{args.input_size}, 1 worker",
                    "cpu",
                    load,
                )
            )
            images, targets = batches[0]
            devices = [torch.device("cpu")] + (
                [torch.device("cuda")] if torch.cuda.is_available() else []
            )
            for device in devices:
                aug = PoseAugmentation(output_size=args.input_size, seed=0).to(device)
                x = images.to(device)
                t = [{k: v.to(device) for k, v in d.items()} for d in targets]
                rate = _rate(lambda x=x, t=t, aug=aug: aug(x, t), x.shape[0], args.repeats, device)
                rows.append(
                    (
                        f"augmentation {label}",
                        f"batch {x.shape[0]} at {args.input_size}",
                        device.type,
                        rate,
                    )
                )

    print("| stage | setting | device | images/s |\n|---|---|---|---|")
    for stage, setting, device, rate in rows:
        print(f"| {stage.strip()} | {setting} | {device} | {rate:.1f} |")


if __name__ == "__main__":
    main()
