"""Build a TNet backbone from the registry and print its feature pyramid.

Run:  python examples/backbone_pyramid.py [--model tnet_d1w64] [--size 512]
"""

from __future__ import annotations

import argparse

import torch

from cgalib import create_model
from cgalib.utils import count_parameters


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="tnet_d1w64")
    parser.add_argument("--size", type=int, default=512, help="square input size (multiple of 32)")
    args = parser.parse_args(argv)
    net = create_model(args.model).eval()
    with torch.no_grad():
        pyramid = net(torch.rand(1, 3, args.size, args.size))
    print(f"{args.model}: {count_parameters(net) / 1e6:.2f}M parameters")
    for level, (f, stride) in enumerate(zip(pyramid, net.strides)):
        print(f"L{level}: stride {stride:>2}, shape {tuple(f.shape)}")


if __name__ == "__main__":
    main()
