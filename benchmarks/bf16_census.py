"""Where the time of bf16 inference goes on the CPU, and what still runs in fp32 under autocast.

Run:  python benchmarks/bf16_census.py --threads 2 --write-docs docs/benchmarks.md

``cganet_tnet_d1w64`` through the ``Predictor`` (``precision="bf16"``) on one 640x480 image
letterboxed to 512: the fp32 and bf16 time of one prediction (median of ten after warm-up),
the torch profiler's self time per operator of one bf16 prediction and, from the same
profile (``record_shapes``), the
floating-point dtypes each operator received (``bf16``, ``fp32`` or both). An operator that
takes a large share of the time in fp32 is where bf16 autocast leaves speed behind.

It also profiles a prediction in each precision and sums the convolutions' self time: their
own fp32/bf16 ratio. They hold most of a prediction's time, so the whole ratio follows
theirs, less what the operators that keep fp32 (or gain less) cost.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any, NamedTuple

import torch
from torch.profiler import ProfilerActivity, profile

from cgalib import create_model
from cgalib.inference import Predictor, letterbox_batch
from cgalib.utils import count_macs, page_with_block, write_block
from cgalib.utils.machine import machine_description

BLOCK = "bf16-census"
_NAMES = {"c10::BFloat16": "bf16", "float": "fp32", "c10::Half": "fp16", "double": "fp64"}
"""The profiler's names of the floating-point input types."""


def _is_convolution(key: str) -> bool:
    """Whether a profiler row is a convolution: the dispatcher's ``aten::conv2d`` and
    ``aten::convolution`` or a backend's kernel (``aten::_convolution``,
    ``aten::mkldnn_convolution``), each holding its own self time.

    Examples:
        >>> [_is_convolution(k) for k in ("aten::mkldnn_convolution", "aten::conv2d", "aten::bmm")]
        [True, True, False]
    """
    name = key.removeprefix("aten::").lstrip("_")
    return name in ("conv2d", "convolution") or name.endswith("_convolution")


def input_dtypes(events: Sequence[Any]) -> dict[str, set[str]]:
    """Per operator, the floating-point dtypes of its inputs (``bf16``, ``fp32``, ...) in a
    profile recorded with ``record_shapes`` (its ``events()``).

    Examples:
        >>> from types import SimpleNamespace as Event
        >>> seen = input_dtypes([
        ...     Event(name="aten::add", input_dtypes=["c10::BFloat16", "float", "Scalar"]),
        ...     Event(name="aten::add", input_dtypes=["float", "float", "Scalar"])])
        >>> sorted(seen["aten::add"])
        ['bf16', 'fp32']
    """
    seen: dict[str, set[str]] = collections.defaultdict(set)
    for e in events:
        seen[e.name] |= {_NAMES[t] for t in e.input_dtypes if t in _NAMES}
    return dict(seen)


class Census(NamedTuple):
    """What one run measured.

    Attributes:
        table: the top operators of a bf16 prediction by self time: (name, share of the
            operators' self time, the input dtypes seen).
        seconds: one prediction's wall time per precision (median of ten).
        conv_seconds: the convolutions' self time in one profiled prediction, per precision.
        gmacs: the network's multiply-accumulates per prediction (``count_macs``), in G.
        peak_gmacs: this CPU's matrix-product rate per precision, GMAC/s (`matmul_peak`).
    """

    table: list[tuple[str, float, str]]
    seconds: dict[str, float]
    conv_seconds: dict[str, float]
    gmacs: float
    peak_gmacs: dict[str, float]


def matmul_peak(dtype: torch.dtype, size: int = 2048, repeats: int = 8) -> float:
    """The best rate of a ``size x size`` matrix product in ``dtype`` on the current threads,
    in GMAC/s: what this CPU's arithmetic gives an operator that hides memory entirely."""
    a, b = torch.rand(size, size).to(dtype), torch.rand(size, size).to(dtype)
    for _ in range(3):
        a @ b
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return size**3 / best / 1e9


def convolution_seconds(events: Sequence[Any]) -> float:
    """The summed self time of the convolution operators among profiler ``events``
    (``key_averages()`` rows, microseconds), in seconds.

    Examples:
        >>> from types import SimpleNamespace as Row
        >>> rows = [Row(key="aten::mkldnn_convolution", self_cpu_time_total=3e5),
        ...         Row(key="aten::add", self_cpu_time_total=1e5)]
        >>> convolution_seconds(rows)
        0.3
    """
    return sum(e.self_cpu_time_total for e in events if _is_convolution(e.key)) / 1e6


def census(threads: int, rows: int = 12) -> Census:
    """The top operators by self time (share, dtypes), the fp32 and bf16 times per image and
    the convolutions' share of them."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = create_model("cganet_tnet_d1w64", input_size=512).eval()
    image = torch.rand(3, 480, 640)
    seconds, conv_seconds = {}, {}
    for precision in ("fp32", "bf16"):
        predictor = Predictor(model, device="cpu", precision=precision, score_threshold=0)
        predictor.predict(image)
        times = []
        for _ in range(10):
            start = time.perf_counter()
            predictor.predict(image)
            times.append(time.perf_counter() - start)
        seconds[precision] = statistics.median(times)
        with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
            predictor.predict(image)
        averages = prof.key_averages()
        conv_seconds[precision] = convolution_seconds(averages)
    dtypes = input_dtypes(prof.events())  # the bf16 pass
    batch, _ = letterbox_batch([image], 512)
    gmacs = count_macs(model, batch) / 1e9
    peak = {
        name: matmul_peak(dtype)
        for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16))
    }
    events = [e for e in averages if e.key.startswith("aten::")]  # the bf16 pass
    total = sum(e.self_cpu_time_total for e in events)
    top = sorted(events, key=lambda e: -e.self_cpu_time_total)[:rows]
    table = [
        (
            e.key,
            e.self_cpu_time_total / total,
            " + ".join(sorted(dtypes.get(e.key, ()))) or "-",
        )
        for e in top
    ]
    return Census(table, seconds, conv_seconds, gmacs, peak)


def render(result: Census, threads: int) -> str:
    """The markdown block."""
    fp32, bf16 = result.seconds["fp32"], result.seconds["bf16"]
    conv32, conv16 = result.conv_seconds["fp32"], result.conv_seconds["bf16"]
    peak32, peak16 = result.peak_gmacs["fp32"], result.peak_gmacs["bf16"]
    lines = [
        f"Measured on {machine_description()}, {datetime.date.today()}: `python "
        f"benchmarks/bf16_census.py --threads {threads}`. `cganet_tnet_d1w64`, one 640x480 "
        f"image letterboxed to 512: fp32 {fp32 * 1000:.0f} ms, bf16 autocast {bf16 * 1000:.0f} "
        f"ms ({fp32 / bf16:.2f}x). The convolutions alone (profiler self time of one "
        f"prediction): fp32 {conv32 * 1000:.0f} ms, bf16 {conv16 * 1000:.0f} ms "
        f"({conv32 / conv16:.2f}x). In that time the network's {result.gmacs:.1f} GMAC "
        f"(`count_macs`) run at {result.gmacs / conv32:.0f} GMAC/s in fp32 and "
        f"{result.gmacs / conv16:.0f} in bf16, against this CPU's rate for a 2048x2048 matrix "
        f"product on the same threads of {peak32:.0f} and {peak16:.0f} GMAC/s "
        f"({peak16 / peak32:.2f}x): {result.gmacs / conv32 / peak32:.0%} and "
        f"{result.gmacs / conv16 / peak16:.0%} of it.",
        "",
        "| operator (bf16 autocast) | share of self time | input dtypes |",
        "|---|---|---|",
    ]
    lines += [f"| `{name}` | {share:.1%} | {kinds} |" for name, share, kinds in result.table]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--write-docs", type=page_with_block(BLOCK), help="write the table into this page"
    )
    args = parser.parse_args(argv)
    text = render(census(args.threads), args.threads)
    print(text)
    if args.write_docs:
        write_block(args.write_docs, BLOCK, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
