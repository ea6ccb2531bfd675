"""CGANet against its peers, side by side in one run on one device.

One script for the CPU and the GPU: the same code measures, prints and writes the tables.

Run:
    make bench      # the CPU run in .venv-peers (torch, torchvision, timm), written to the docs
    python benchmarks/peers.py --device cpu --threads 2 --write-docs docs/benchmarks.md
    python benchmarks/peers.py --device cuda --out benchmarks/results/peers_cuda.json \\
        --write-docs docs/benchmarks.md
Smoke test, in any environment:  python benchmarks/peers.py --device cpu --quick

Part 1, single-model inference at batch 1: a 640x480 image tensor to keypoints, end to
end (letterbox to 512, normalisation, network, AA, decode, DEA, ROI head, keypoint decode,
results to the host), synchronised, warm-up excluded, medians. ``cganet_tnet_d1w64``,
``_cascade`` and ``cganet_tnet_d1w16`` through :class:`cgalib.Predictor` (eager; on CUDA
also ``compile=True`` and ``compile="cuda_graphs"``) against torchvision's
``keypointrcnn_resnet50_fpn`` (random weights, ``min_size=512``, ``box_score_thresh=0``,
``box_detections_per_img=20`` so that its keypoint head always runs on 20 boxes, like
CGANet's maxDets=20). Reports fps, the ratio to Keypoint R-CNN at the same precision,
parameters, multiply-accumulates (``cgalib.utils.count_macs``, one forward) and the share
of time in post-processing (AA, decode, DEA, keypoint decode: the ``detect`` and
``decode_keypoints`` stages of a profiled forward, :func:`cgalib.utils.stage_seconds`;
``benchmarks/_timing.py``).

Part 2, top-down training throughput at 256x192 (batch 8 on the CPU, 64 on CUDA):
``topdown_tnet_d3w64``/``d3w96`` (their own focal loss) against SimpleBaseline-R50
and HRNet-W32 (their MSE heatmap loss; ``benchmarks/_peer_models.py``), on the same
Gaussian targets. Adam steps on random crops resident on the device (the model's throughput, no
data loading). Each model and precision runs in its own subprocess, so its peak memory is
its own: on CUDA ``torch.cuda.max_memory_allocated``; on the CPU, where torch keeps no
allocator statistics, the increase of the process's peak resident set (the kernel's
high-water mark ``VmHWM``, reset just before the model is built, so no peak between
samples is missed; ``benchmarks/_memory.py``) up to the end of the timed steps.

torchvision and timm are imported only by ``_peer_models.py``; a missing one skips its rows
with a message.
Prints markdown tables and the target ratios (the CPU targets or the GPU targets);
writes JSON with ``--out`` and the tables between the page's ``<!-- peers:DEVICE:start -->``
and ``<!-- peers:DEVICE:end -->`` lines with ``--write-docs``.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import torch
from _memory import PeakRSS
from _peer_models import (
    HRNET,
    KEYPOINT_RCNN,
    NUM_KEYPOINTS,
    PEER_PACKAGES,
    SIMPLE_BASELINE,
    TRAINING_PEERS,
    keypoint_rcnn,
    mse_heatmap_loss,
    unavailable,
)
from _timing import PRECISIONS, autocast, cganet_time_split, cpu_model, device_name, sync, time_call
from torch import nn

import cgalib
from cgalib import Predictor, create_model, list_models
from cgalib.codecs import roi_keypoint_targets
from cgalib.inference import letterbox_batch
from cgalib.utils import check_block, count_macs, count_parameters, write_block

ROW_PREFIX = "peers-row: "
"""The line a training subprocess prints its result on (JSON after the prefix)."""

#: Parameters (millions) the paper reports; the CPU targets keep ours within 5% of them.
PAPER_PARAMS_M = {
    "cganet_tnet_d1w64": 20.2,
    "cganet_tnet_d1w64_cascade": 26.9,
    "topdown_tnet_d3w64": 24.7,
}
PARAMS_TOLERANCE = 0.05

#: How the targets name the top-down peers.
PEER_LABELS = {SIMPLE_BASELINE: "SimpleBaseline-R50", HRNET: "HRNet-W32"}

#: Targets per device: the GPU targets and the CPU targets (ratios in one run); the top-down
#: target is ``(peer, samples/s at least, peak memory at most)`` relative to that peer.
TARGETS: dict[str, dict[str, Any]] = {
    "cuda": {
        "fps_vs_keypoint_rcnn": {"cganet_tnet_d1w64": 3.0},
        "fast_path_fps_vs_keypoint_rcnn_fp32": 10.0,
        "post_share_at_most": None,
        "bf16_vs_fp32": None,
        "topdown_d3w64_vs": (SIMPLE_BASELINE, 1.2, 0.85),
        "params_vs_paper": False,
    },
    "cpu": {
        "fps_vs_keypoint_rcnn": {"cganet_tnet_d1w64": 4.0, "cganet_tnet_d1w64_cascade": 3.0},
        "fast_path_fps_vs_keypoint_rcnn_fp32": None,
        "post_share_at_most": 0.10,
        "bf16_vs_fp32": {"cganet_tnet_d1w64": 2.0},
        # on a CPU throughput follows MACs (D3W64 7.29 GMAC per sample, SimpleBaseline 5.43):
        # the CPU goal is the paper's Table 4 comparison with HRNet-W32
        "topdown_d3w64_vs": (HRNET, 1.25, 0.75),
        "params_vs_paper": True,
    },
}

#: Settings a device gets unless given on the command line.
DEVICE_DEFAULTS: dict[str, dict[str, Any]] = {
    "cpu": {
        "precision": ["fp32", "bf16"],
        "train_precision": ["fp32"],
        "paths": ["eager"],
        "batch": 8,
        "warmup": 3,
        "iters": 10,
        "train_warmup": 2,
        "train_iters": 10,
        "threads": 2,
    },
    "cuda": {
        "precision": ["fp32", "bf16"],
        "train_precision": ["fp32", "bf16"],
        "paths": ["eager", "compile", "cuda_graphs"],
        "batch": 64,
        "warmup": 10,
        "iters": 50,
        "train_warmup": 5,
        "train_iters": 20,
        "threads": None,
    },
}
#: ``--quick`` (a smoke test, never a measurement) overrides these.
QUICK = {
    "precision": ["fp32"],
    "train_precision": ["fp32"],
    "batch": 2,
    "warmup": 1,
    "iters": 2,
    "train_warmup": 1,
    "train_iters": 2,
}


def _error(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}".splitlines()[0]


def _progress(message: str) -> None:
    """One line on stderr as each row is measured (the tables come at the end)."""
    print(f"peers: {message}", file=sys.stderr, flush=True)


def _fail(message: str) -> NoReturn:
    """Stop with one line on stderr (exit status 1), before anything is measured."""
    raise SystemExit(f"peers.py: {message}")


def macs_g(model: nn.Module, *inputs: Any) -> tuple[float | None, str | None]:
    """Giga multiply-accumulates of one forward of ``model(*inputs)``, or why not.

    Returns:
        ``(gmacs, None)``, or ``(None, reason)`` when ``cgalib.utils.count_macs`` fails on
        the model (the column then reads "n/a" and the reason is listed as skipped).
    """
    try:
        with torch.inference_mode():
            return count_macs(model, *inputs) / 1e9, None
    except Exception as err:  # a counter that cannot trace a peer is a gap, not a crash
        return None, _error(err)


# --------------------------------------------------------------------------- part 1
def _to_host(outputs: list[dict[str, torch.Tensor]]) -> list[dict[str, torch.Tensor]]:
    return [{k: v.cpu() for k, v in out.items()} for out in outputs]


def inference_rows(
    args: argparse.Namespace, device: torch.device, skipped: list[str], errors: list[str]
) -> list[dict[str, Any]]:
    """Part 1: one row per model, precision and ``Predictor`` path.

    A failing peer or fast path is listed in ``skipped``; a failing eager CGANet in
    ``errors`` (the run goes on, and the script exits non-zero at the end).
    """
    h, w = args.image
    image = (torch.rand(3, h, w, device=device) * 255).to(torch.uint8)
    rows: list[dict[str, Any]] = []
    reference: dict[str, float] = {}  # Keypoint R-CNN seconds per precision

    krcnn = None if args.skip_peers else keypoint_rcnn(skipped)
    if krcnn is not None:
        krcnn = krcnn.to(device).eval()
        params = count_parameters(krcnn) / 1e6
        macs, why = macs_g(krcnn, [image.float() / 255])
        if why:
            skipped.append(f"{KEYPOINT_RCNN} MACs: n/a ({why})")

        def run_krcnn(img: torch.Tensor) -> Any:
            return _to_host(krcnn([img.float() / 255]))

        for precision in args.precision:
            try:
                with torch.inference_mode(), autocast(device, precision):
                    total = time_call(run_krcnn, image, device, args.warmup, args.iters)
            except Exception as err:  # a peer failing (e.g. an op without bf16) skips its row
                skipped.append(f"{KEYPOINT_RCNN} {precision}: {_error(err)}")
                continue
            reference[precision] = total
            rows.append(_row(KEYPOINT_RCNN, precision, "eager", params, macs, total, None))
            _progress(f"{KEYPOINT_RCNN} {precision}: {total * 1e3:.0f} ms")
        del krcnn

    for name in args.models:
        model = create_model(name, input_size=args.size).to(device).eval()
        params = count_parameters(model) / 1e6
        batch, _ = letterbox_batch([image], args.size)
        macs, why = macs_g(model, batch)
        if why:
            skipped.append(f"{name} MACs: n/a ({why})")
        for precision in args.precision:
            try:
                with torch.inference_mode(), autocast(device, precision):
                    split = cganet_time_split(model, batch, device, args.warmup, args.iters)
            except Exception as err:
                errors.append(f"{name} {precision}: {_error(err)}")
                continue
            for path in args.paths:
                if path == "cuda_graphs" and device.type != "cuda":
                    skipped.append(f"{name} {precision} cuda_graphs: needs CUDA")
                    continue
                compile_arg = {"eager": False, "compile": True, "cuda_graphs": "cuda_graphs"}
                predictor = Predictor(
                    model,
                    device=device,
                    input_size=args.size,
                    precision=precision,
                    batch_size=1,
                    compile=compile_arg[path],
                )
                try:
                    total = time_call(predictor.predict, image, device, args.warmup + 2, args.iters)
                except Exception as err:  # a fast path that fails is a result, not a crash
                    (errors if path == "eager" else skipped).append(
                        f"{name} {precision} {path}: {_error(err)}"
                    )
                    continue
                rows.append(_row(name, precision, path, params, macs, total, split))
                _progress(f"{name} {precision} {path}: {total * 1e3:.0f} ms")
                del predictor
        del model
    for row in rows:
        ref = reference.get(row["precision"])
        row["ratio_to_keypoint_rcnn"] = ref / row["seconds"] if ref else None
        ref32 = reference.get("fp32")
        row["ratio_to_keypoint_rcnn_fp32"] = ref32 / row["seconds"] if ref32 else None
    return rows


def _row(model, precision, path, params, macs, seconds, split) -> dict[str, Any]:
    return {
        "model": model,
        "precision": precision,
        "path": path,
        "params_m": round(params, 2),
        "gmacs": macs,
        "seconds": seconds,
        "fps": 1.0 / seconds,
        "post_share": split["post_share"] if split else None,
        "post_dense_share": split["post_dense_share"] if split else None,
    }


# --------------------------------------------------------------------------- part 2
def measure_training(
    name: str,
    device: torch.device,
    precision: str,
    crop: tuple[int, int],
    batch: int,
    warmup: int,
    iters: int,
) -> dict[str, Any] | str:
    """Train ``name`` for ``warmup + iters`` Adam steps in this process; its row.

    Call it in a fresh process (``--train-one`` does) so that the peak memory is this
    model's alone.

    Returns:
        The row (samples/s, peak memory in MiB, parameters, GMACs per sample), or the
        reason the peer was skipped (its package is missing).

    Raises:
        Exception: whatever the model raises; the caller decides whether that is fatal.
    """
    h, w = crop
    g = torch.Generator(device="cpu").manual_seed(0)
    images = torch.rand(batch, 3, h, w, generator=g).to(device)
    xy = torch.rand(batch, NUM_KEYPOINTS, 2, generator=g) * torch.tensor([w, h])
    keypoints = torch.cat([xy, torch.full((batch, NUM_KEYPOINTS, 1), 2.0)], -1).to(device)
    boxes = torch.zeros(batch, 4, device=device)
    boxes[:, 2], boxes[:, 3] = w, h
    targets = roi_keypoint_targets(keypoints, boxes, (h // 4, w // 4))

    rss = PeakRSS() if device.type == "cpu" else None  # the peak from here on
    if device.type == "cuda":
        sync(device)
        torch.cuda.reset_peak_memory_stats(device)
    skipped: list[str] = []
    own_loss = name not in TRAINING_PEERS
    model = create_model(name) if own_loss else TRAINING_PEERS[name](skipped)
    if model is None:
        return skipped[0]
    model = model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(_: Any) -> None:
        with autocast(device, precision):
            if own_loss:
                loss = model(images, keypoints)["km"]
            else:
                loss = mse_heatmap_loss(model(images), *targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    seconds = time_call(step, None, device, warmup, iters)
    if rss is None:
        peak = torch.cuda.max_memory_allocated(device) / 2**20
        measure = "peak allocated, torch.cuda.max_memory_allocated"
    else:
        peak, measure = rss.increase_mib(), f"peak RSS increase, {rss.method}"
    macs, why = macs_g(model, images[:1])
    return {
        "model": name,
        "precision": precision,
        "params_m": round(count_parameters(model) / 1e6, 2),
        "gmacs": macs,
        "gmacs_note": why,
        "samples_per_s": batch / seconds,
        "peak_memory_mib": peak,
        "memory_measure": measure,
    }


def train_in_subprocess(
    name: str, args: argparse.Namespace, precision: str
) -> dict[str, Any] | str:
    """:func:`measure_training` in a fresh Python process running this script.

    The child imports the same ``cgalib`` as this process and uses the same thread count.

    Returns:
        The row, or the reason the peer was skipped.

    Raises:
        RuntimeError: the child failed; the message is its last line of error output.
    """
    cmd = [sys.executable, str(Path(__file__).resolve()), "--train-one", name]
    cmd += ["--device", args.device, "--precision", precision, "--crop", *map(str, args.crop)]
    cmd += ["--batch", str(args.batch), "--train-warmup", str(args.train_warmup)]
    cmd += ["--train-iters", str(args.train_iters)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    env = dict(os.environ)
    root = str(Path(cgalib.__file__).resolve().parents[1])  # the cgalib this process runs
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(ROW_PREFIX)]
    if proc.returncode != 0 or not lines:
        errors = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        last = errors[-1] if errors else f"exit status {proc.returncode}, no output"
        raise RuntimeError(f"training subprocess failed: {last}")
    return json.loads(lines[-1][len(ROW_PREFIX) :])


def training_rows(
    args: argparse.Namespace,
    skipped: list[str],
    errors: list[str],
    measure=train_in_subprocess,
) -> list[dict[str, Any]]:
    """Part 2: one row per model and precision, each from ``measure(name, args, precision)``.

    A failing or missing peer is listed in ``skipped``, a failing model of ours in
    ``errors``; the other rows are kept.
    """
    names = list(args.topdown_models) + ([] if args.skip_peers else list(TRAINING_PEERS))
    rows: list[dict[str, Any]] = []
    for name in names:
        why = unavailable(*PEER_PACKAGES[name]) if name in PEER_PACKAGES else None
        if why:  # found here, without starting a process to find it
            skipped.append(why)
            continue
        for precision in args.train_precision:
            try:
                row = measure(name, args, precision)
            except Exception as err:  # keep the other rows; report this one
                (skipped if name in TRAINING_PEERS else errors).append(
                    f"{name} {precision} training: {_error(err)}"
                )
                continue
            if isinstance(row, str):
                if row not in skipped:
                    skipped.append(row)
                break  # the package is missing: no other precision will do better
            if row.get("gmacs_note"):
                skipped.append(f"{name} MACs: n/a ({row['gmacs_note']})")
            rows.append(row)
            _progress(
                f"{name} {precision} training: {row['samples_per_s']:.2f} samples/s, "
                f"peak {_fmt(row['peak_memory_mib'], '.0f')} MiB"
            )
    add_training_ratios(rows)
    return rows


def training_ratios(
    row: dict[str, Any], rows: list[dict[str, Any]], reference: str
) -> tuple[float | None, float | None]:
    """``row``'s samples/s and peak memory over those of the ``reference`` model's row of the
    same precision (``None`` where that row, or a memory figure, is missing)."""
    ref = next(
        (r for r in rows if r["model"] == reference and r["precision"] == row["precision"]), None
    )
    samples = row["samples_per_s"] / ref["samples_per_s"] if ref else None
    memory = (
        row["peak_memory_mib"] / ref["peak_memory_mib"]
        if ref and row["peak_memory_mib"] and ref["peak_memory_mib"]
        else None
    )
    return samples, memory


def add_training_ratios(rows: list[dict[str, Any]]) -> None:
    """Add each row's samples/s and peak memory over SimpleBaseline-R50's (same precision)."""
    for row in rows:
        samples, memory = training_ratios(row, rows, SIMPLE_BASELINE)
        row["samples_vs_simple_baseline"] = samples
        row["memory_vs_simple_baseline"] = memory


# ---------------------------------------------------------------------------- targets
def target_checks(
    targets: dict[str, Any], inference: list[dict], training: list[dict]
) -> list[dict[str, Any]]:
    """Each target of ``targets`` (a value of :data:`TARGETS`) with its measured ratio.

    A target whose rows are missing from the run is listed with ratio ``None``.
    """
    checks = []
    eager = [r for r in inference if r["path"] == "eager"]
    for model, wanted in targets["fps_vs_keypoint_rcnn"].items():
        for row in (r for r in eager if r["model"] == model):
            p = row["precision"]
            what = f"{model} eager {p} fps / Keypoint R-CNN {p} fps"
            checks.append(_check(what, row["ratio_to_keypoint_rcnn"], at_least=wanted))
    if targets["fast_path_fps_vs_keypoint_rcnn_fp32"]:
        fast = [r for r in inference if r["path"] != "eager" and r["model"] == "cganet_tnet_d1w64"]
        if fast:
            best = max(fast, key=lambda r: r["fps"])
            what = (
                f"best fast path ({best['path']}, {best['precision']}) fps / Keypoint R-CNN "
                "fp32 fps"
            )
            wanted = targets["fast_path_fps_vs_keypoint_rcnn_fp32"]
            checks.append(_check(what, best["ratio_to_keypoint_rcnn_fp32"], at_least=wanted))
    if targets["post_share_at_most"] is not None:
        for model in targets["fps_vs_keypoint_rcnn"]:
            for row in (r for r in eager if r["model"] == model):
                what = f"{model} {row['precision']} post-processing share of the time"
                limit = targets["post_share_at_most"]
                checks.append(_check(what, row["post_share"], at_most=limit))
    for model, wanted in (targets["bf16_vs_fp32"] or {}).items():
        fps = {r["precision"]: r.get("fps") for r in eager if r["model"] == model}
        ratio = fps["bf16"] / fps["fp32"] if fps.get("bf16") and fps.get("fp32") else None
        checks.append(_check(f"{model} eager bf16 fps / fp32 fps", ratio, at_least=wanted))
    reference, wanted, limit = targets["topdown_d3w64_vs"]
    for row in training:
        if row["model"] == "topdown_tnet_d3w64":
            p = row["precision"]
            samples, memory = training_ratios(row, training, reference)
            name = PEER_LABELS[reference]
            what = f"topdown_tnet_d3w64 {p} samples/s / {name}"
            checks.append(_check(what, samples, at_least=wanted))
            what = f"topdown_tnet_d3w64 {p} peak memory / {name}"
            checks.append(_check(what, memory, at_most=limit))
    if targets["params_vs_paper"]:
        seen = {r["model"]: r["params_m"] for r in [*inference, *training]}
        for model, paper in PAPER_PARAMS_M.items():
            if model in seen:
                what = f"{model} parameters / paper's {paper}M"
                low, high = 1 - PARAMS_TOLERANCE, 1 + PARAMS_TOLERANCE
                checks.append(_check(what, seen[model] / paper, at_least=low, at_most=high))
    return checks


def _check(
    what: str, ratio: float | None, at_least: float | None = None, at_most: float | None = None
) -> dict[str, Any]:
    if at_least is not None and at_most is not None:
        target = f"{at_least:g}–{at_most:g}"
    else:
        target = f">= {at_least:g}" if at_least is not None else f"<= {at_most:g}"
    met = None
    if ratio is not None:
        met = (at_least is None or ratio >= at_least) and (at_most is None or ratio <= at_most)
    return {"what": what, "ratio": ratio, "target": target, "met": met}


# ---------------------------------------------------------------------------- report
def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def load_average() -> float | None:
    """The 1-minute load average (``None`` where the system has none)."""
    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):
        return None


def shared_machine_warning(env: dict[str, Any]) -> str | None:
    """A warning when other processes competed for the CPU during the run, else ``None``.

    While a run measures, its own threads add about ``threads`` to the load average; more
    than half a core beyond that means other work shared the machine, and on a small
    machine OpenMP threads then wait for each other at every operator (a 2-thread CGANet
    can run several times slower than a 1-thread one).
    """
    loads = [x for x in env.get("load_during", []) if x is not None]
    if not loads or max(loads) - env["threads"] <= 0.5:
        return None
    return (
        f"**Shared machine**: the 1-minute load average reached {max(loads):.1f} during this "
        f"run ({env['threads']} threads of its own, {os.cpu_count()} cores): other processes "
        "competed for the CPU, so these timings and ratios are not a clean measurement; "
        "rerun on a quiet machine."
    )


def environment(
    device: torch.device, argv: list[str], load_during: Sequence[float | None] = ()
) -> dict[str, Any]:
    """Machine, date, library versions, thread count, load and the exact command of a run."""
    versions = {}
    for package in ("torchvision", "timm"):  # from the metadata: a broken build still has one
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "device": device_name(device),
        "machine": cpu_model(),
        "date": datetime.date.today().isoformat(),
        "torch": torch.__version__,
        **versions,
        "threads": torch.get_num_threads(),
        "load_during": list(load_during),
        "command": shlex.join(["python", "benchmarks/peers.py", *argv]),
    }


def render_report(result: dict[str, Any]) -> str:
    """The run as markdown: a line on where and how it ran, the tables, targets, skips."""
    env = result["environment"]
    where = env["device"] if result["device"] == "cuda" else env["machine"]
    if result["device"] == "cuda":
        where += f" (host: {env['machine']})"
    parts = [
        f"Measured on {where}, {env['date']}, torch {env['torch']}, torchvision "
        f"{env['torchvision']}, timm {env['timm']}, {env['threads']} CPU threads: "
        f"`{env['command']}`"
        + (" (**quick smoke test, not a measurement**)" if result["quick"] else "")
        + ".\n"
    ]
    warning = shared_machine_warning(env) if result["device"] == "cpu" else None
    if warning:
        parts.append(warning + "\n")
    inf = result["inference"]
    if inf["rows"]:
        h, w = inf["image"]
        parts.append(
            f"**Single-model inference**, batch 1, a {w}x{h} image letterboxed to "
            f"{inf['input_size']}, median of {inf['iters']} calls after warm-up:\n"
        )
        # nine columns at most: the site's text column shows them all (tests/test_site_browser.py)
        header = ["model", "precision, path", "params (M)", "GMACs", "fps", "ms"]
        header += ["× Keypoint R-CNN", "post-processing share", "post-dense share"]
        rows = [
            [
                r["model"],
                f"{r['precision']} {r['path']}",
                f"{r['params_m']:.1f}",
                _fmt(r["gmacs"], ".1f"),
                f"{r['fps']:.2f}",
                f"{r['seconds'] * 1e3:.0f}",
                _fmt(r["ratio_to_keypoint_rcnn"], ".2f"),
                _fmt(r["post_share"], ".0%"),
                _fmt(r["post_dense_share"], ".0%"),
            ]
            for r in inf["rows"]
        ]
        parts.append(_table(header, rows))
    tr = result["training"]
    if tr["rows"]:
        h, w = tr["crop"]
        measures = "; ".join(sorted({r["memory_measure"] for r in tr["rows"]}))
        parts.append(
            f"**Top-down training** at {h}x{w}, batch {tr['batch']}, Adam steps, median of "
            f"{tr['iters']} after warm-up, each model in its own process; peak memory: "
            f"{measures}:\n"
        )
        header = ["model", "precision", "params (M)", "GMACs / sample", "samples/s"]
        header += ["peak memory (MiB)"]
        header += ["× SimpleBaseline samples/s", "× SimpleBaseline memory"]
        rows = [
            [
                r["model"],
                r["precision"],
                f"{r['params_m']:.1f}",
                _fmt(r["gmacs"], ".2f"),
                f"{r['samples_per_s']:.2f}",
                _fmt(r["peak_memory_mib"], ".0f"),
                _fmt(r["samples_vs_simple_baseline"], ".2f"),
                _fmt(r["memory_vs_simple_baseline"], ".2f"),
            ]
            for r in tr["rows"]
        ]
        parts.append(_table(header, rows))
    if result["targets"]:
        parts.append(f"**Targets** ({result['targets_source']}):\n")
        met = {True: "yes", False: "no", None: "n/a"}
        rows = [
            [c["what"], _fmt(c["ratio"], ".2f"), c["target"], met[c["met"]]]
            for c in result["targets"]
        ]
        parts.append(_table(["target", "ratio", "wanted", "met"], rows))
    notes = [f"- skipped: {s}" for s in result["skipped"]]
    notes += [f"- **failed**: {e}" for e in result["errors"]]
    if notes:
        parts.append("\n".join(notes) + "\n")
    return "\n".join(parts)


# ------------------------------------------------------------------------------- CLI
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, with the device's defaults filled in and the names checked.

    Exits with one line on a bad device, model name, count, size or docs page (and
    argparse's usage message on a malformed command line).
    """
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON")
    parser.add_argument(
        "--write-docs",
        type=Path,
        default=None,
        metavar="PAGE",
        help="write the tables between the page's <!-- peers:DEVICE:start/end --> lines",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: 1 warm-up and 2 timed iterations, small sizes and batch, fp32 "
        "only, eager only on the CPU",
    )
    parser.add_argument(
        "--parts", nargs="+", default=["inference", "training"], choices=["inference", "training"]
    )
    parser.add_argument(
        "--precision",
        nargs="+",
        default=None,
        choices=PRECISIONS,
        help="inference precisions (default: fp32 bf16)",
    )
    parser.add_argument(
        "--train-precision",
        nargs="+",
        default=None,
        choices=PRECISIONS,
        help="training precisions (default: fp32 on the CPU, fp32 bf16 on a GPU)",
    )
    parser.add_argument(
        "--models",
        nargs="+",
        default=["cganet_tnet_d1w64", "cganet_tnet_d1w64_cascade", "cganet_tnet_d1w16"],
    )
    parser.add_argument(
        "--paths", nargs="+", default=None, choices=["eager", "compile", "cuda_graphs"]
    )
    parser.add_argument(
        "--topdown-models", nargs="+", default=["topdown_tnet_d3w64", "topdown_tnet_d3w96"]
    )
    parser.add_argument("--skip-peers", action="store_true", help="our models only")
    parser.add_argument("--size", type=int, default=512, help="letterbox side of part 1")
    parser.add_argument("--image", type=int, nargs=2, default=[480, 640], metavar=("H", "W"))
    parser.add_argument("--crop", type=int, nargs=2, default=[256, 192], metavar=("H", "W"))
    parser.add_argument("--batch", type=int, default=None, help="part 2 batch (CPU 8, CUDA 64)")
    parser.add_argument("--warmup", type=int, default=None, help="part 1 untimed calls")
    parser.add_argument("--iters", type=int, default=None, help="part 1 timed calls")
    parser.add_argument("--train-warmup", type=int, default=None, help="part 2 untimed steps")
    parser.add_argument("--train-iters", type=int, default=None, help="part 2 timed steps")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (CPU: 2)")
    parser.add_argument("--train-one", default=None, help=argparse.SUPPRESS)  # the child
    args = parser.parse_args(argv)

    try:
        device = torch.device(args.device)
    except RuntimeError:
        _fail(f"--device {args.device!r} is not a device; use cpu or cuda")
    if device.type not in DEVICE_DEFAULTS:
        _fail(f"--device {args.device!r}: use cpu or cuda")
    if device.type == "cuda" and not torch.cuda.is_available():
        _fail("--device cuda but CUDA is not available here; use --device cpu")
    known = set(list_models())
    for option, names, pattern in (
        ("--models", args.models, "cganet_*"),
        ("--topdown-models", args.topdown_models, "topdown_*"),
    ):
        unknown = [n for n in names if n not in known]
        if unknown:
            _fail(
                f"{option}: unknown model {unknown[0]!r}; registered: "
                + ", ".join(list_models(pattern))
            )
    if args.train_one is not None and args.train_one not in known | set(TRAINING_PEERS):
        _fail(f"--train-one: unknown model {args.train_one!r}")
    if args.threads is not None and args.threads < 1:
        _fail(f"--threads must be at least 1, got {args.threads}")
    for option in ("batch", "warmup", "iters", "train_warmup", "train_iters"):
        value, least = getattr(args, option), 0 if "warmup" in option else 1
        if value is not None and value < least:
            _fail(f"--{option.replace('_', '-')} must be at least {least}, got {value}")
    if args.quick and args.write_docs:
        _fail("--write-docs with --quick would publish smoke-test numbers; drop one")

    defaults = DEVICE_DEFAULTS[device.type]
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, QUICK.get(key, value) if args.quick else value)
    if args.quick:
        args.size = min(args.size, 128)
        args.image = [min(args.image[0], 120), min(args.image[1], 160)]
        args.crop = [min(args.crop[0], 128), min(args.crop[1], 96)]
    for option, sides in (("--size", [args.size]), ("--crop", args.crop)):
        if any(s <= 0 or s % 32 for s in sides):
            _fail(f"{option} {' '.join(map(str, sides))}: sides must be multiples of 32")
    if args.write_docs is not None:
        try:
            check_block(
                args.write_docs.read_text(encoding="utf-8"),
                f"peers:{device.type}",
                str(args.write_docs),
            )
        except (OSError, ValueError) as err:  # found before measuring, not after
            _fail(f"--write-docs: {err}")
    return args


def _train_one(args: argparse.Namespace) -> None:
    """The child of :func:`train_in_subprocess`: one row, printed after ``ROW_PREFIX``."""
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    row = measure_training(
        args.train_one,
        device,
        args.precision[0],
        tuple(args.crop),
        args.batch,
        args.train_warmup,
        args.train_iters,
    )
    print(ROW_PREFIX + json.dumps(row), flush=True)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; print the report; write JSON and the docs block when asked.

    Returns:
        The results (also the JSON written with ``--out``).

    Raises:
        SystemExit: code 1 after writing everything when a model of ours failed.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.train_one is not None:
        _train_one(args)
        return {}
    device = torch.device(args.device)
    # cuDNN picks the fastest algorithms for the fixed shapes, as SimpleBaseline/HRNet train
    torch.backends.cudnn.benchmark = device.type == "cuda"
    torch.manual_seed(0)
    skipped: list[str] = []
    errors: list[str] = []
    inference = inference_rows(args, device, skipped, errors) if "inference" in args.parts else []
    loads = [load_average()]  # sampled between the parts, while the run's threads are busy
    training = training_rows(args, skipped, errors) if "training" in args.parts else []
    loads.append(load_average())
    source = "the CPU targets" if device.type == "cpu" else "the GPU targets"
    result = {
        "device": device.type,
        "environment": environment(device, argv, loads),
        "quick": args.quick,
        "inference": {
            "image": args.image,
            "input_size": args.size,
            "iters": args.iters,
            "rows": inference,
        },
        "training": {
            "crop": args.crop,
            "batch": args.batch,
            "iters": args.train_iters,
            "rows": training,
        },
        "targets_source": f"{source}; ratios within this run",
        "targets": target_checks(TARGETS[device.type], inference, training),
        "skipped": skipped,
        "errors": errors,
    }
    report = render_report(result)
    print(report)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.out}")
    if args.write_docs:
        write_block(args.write_docs, f"peers:{device.type}", report)
        print(f"wrote the peers:{device.type} block of {args.write_docs}")
    if errors:
        raise SystemExit(f"{len(errors)} measurement(s) of cgalib models failed: {errors[0]}")
    return result


if __name__ == "__main__":
    main()
