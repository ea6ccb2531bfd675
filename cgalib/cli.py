"""The ``cgalib`` command line: turns arguments into keyword arguments of library calls.

Library code never sees the parsed ``argparse.Namespace``; each sub-command's handler
unpacks it at this entry point.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _cmd_models(pattern: str) -> int:
    from cgalib import list_models

    for name in list_models(pattern):
        print(name)
    return 0


def _cmd_summary(model: str, height: int, width: int) -> int:
    import torch

    from cgalib import create_model
    from cgalib.utils import count_macs, count_parameters

    net = create_model(model).eval()
    x = torch.rand(1, 3, height, width)
    with torch.no_grad():
        outputs = net(x)
    print(
        f"{model}: {count_parameters(net) / 1e6:.2f}M parameters, "
        f"{count_macs(net, x) / 1e9:.2f} GFLOPs (multiply-accumulates) at {height}x{width}"
    )
    if isinstance(outputs, (list, tuple)) and all(torch.is_tensor(o) for o in outputs):
        strides = getattr(net, "strides", [None] * len(outputs))
        print("| level | stride | shape |\n|---|---|---|")
        for i, (o, s) in enumerate(zip(outputs, strides)):
            print(f"| L{i} | {s} | {tuple(o.shape)} |")
    return 0


def _cmd_demo() -> int:
    print("cgalib demo: a real forward pass of the TNet-D1W64 backbone on a 512x512 image.")
    return _cmd_summary("tnet_d1w64", 512, 512)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``cgalib`` command (exposed for the docs and tests)."""
    parser = argparse.ArgumentParser(prog="cgalib", description="CGANet pose estimation toolkit")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("models", help="list registered models")
    p.add_argument("pattern", nargs="?", default="*", help="shell pattern, e.g. 'cganet_*'")

    p = sub.add_parser("summary", help="parameters, GFLOPs and output shapes of a model")
    p.add_argument("model", help="a registered model name")
    p.add_argument("--height", type=int, default=512)
    p.add_argument("--width", type=int, default=512)

    sub.add_parser("demo", help="the main job on the embedded synthetic data")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``cgalib`` command line.

    Args:
        argv: arguments without the program name; ``None`` reads ``sys.argv``.

    Returns:
        The process exit status.
    """
    args = build_parser().parse_args(argv)
    if args.command == "models":
        return _cmd_models(args.pattern)
    if args.command == "summary":
        return _cmd_summary(args.model, args.height, args.width)
    if args.command == "demo":
        return _cmd_demo()
    raise AssertionError(args.command)  # argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
