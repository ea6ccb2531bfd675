"""Parameters and multiply-accumulates (reported as GFLOPs, as pose papers do) per builder.

Run:  python benchmarks/params.py [--pattern 'tnet_*'] [--sizes 512x512 256x192]
Prints a markdown table; no test depends on it.
"""

from __future__ import annotations

import argparse

import torch

from cgalib import create_model, list_models
from cgalib.utils import count_macs, count_parameters

# What the paper reports for the models built from these backbones (see docs/architecture.md).
PAPER = {
    "tnet_d3w64": "24.7M / 7.2G at 256x192 (top-down model)",
    "cganet_tnet_d1w64": "20.2M",
    "cganet_tnet_d1w64_cascade": "26.9M",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pattern", default="*", help="shell pattern over list_models()")
    parser.add_argument("--sizes", nargs="+", default=["512x512", "256x192"], help="HxW inputs")
    args = parser.parse_args()
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes]
    header = ["model", "params (M)"] + [f"GFLOPs @{h}x{w}" for h, w in sizes] + ["paper"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name in list_models(args.pattern):
        model = create_model(name).eval()
        params = count_parameters(model) / 1e6
        macs = []
        for h, w in sizes:
            try:
                macs.append(f"{count_macs(model, torch.rand(1, 3, h, w)) / 1e9:.2f}")
            except (ValueError, RuntimeError) as err:  # e.g. a model without a plain forward
                macs.append(f"n/a ({type(err).__name__})")
        row = [name, f"{params:.2f}", *macs, PAPER.get(name, "")]
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
