"""GPU comparison against the peers (issue 8), side by side in one run on one device.

Run:  python benchmarks/speed_gpu.py --out benchmarks/results/speed_gpu.json
Smoke test on a CPU:  python benchmarks/speed_gpu.py --device cpu --quick

Part 1, single-model inference at batch 1: a 640x480 image tensor to keypoints, end to
end (letterbox to 512, normalisation, network, AA, decode, DEA, ROI head, keypoint decode,
results to the host), synchronised, warm-up excluded. ``cganet_tnet_d1w64`` and
``_cascade`` through :class:`cgalib.Predictor` (eager, ``compile=True`` and
``compile="cuda_graphs"``) against torchvision's ``keypointrcnn_resnet50_fpn`` (random
weights, ``min_size=512``, ``box_score_thresh=0``, ``box_detections_per_img=20`` so that
its keypoint head always runs on 20 boxes, like CGANet's maxDets=20), in fp32 and bf16.
Reports fps, the ratio to Keypoint R-CNN at the same precision, parameters and the share
of time in post-processing (AA, decode, DEA, keypoint decode; ``benchmarks/_timing.py``).

Part 2, top-down training throughput at 256x192, batch 64: ``topdown_tnet_d3w64``/``d3w96``
(their own focal loss) against SimpleBaseline-R50 (torchvision ResNet-50 trunk + 3 deconvs
+ 1x1) and HRNet-W32 (timm ``hrnet_w32`` stride-4 branch + 1x1), both with the MSE heatmap
loss of their papers, on the same Gaussian targets. Adam steps on random crops resident on
the device (the model's throughput, no data loading); samples/s and peak allocated memory.

torchvision and timm are imported only here; a missing one skips its rows with a message.
Prints markdown tables and the target ratios; writes JSON with ``--out``.
"""

from __future__ import annotations

import argparse
import datetime
import json
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from _timing import autocast, cganet_time_split, device_name, sync, time_call
from torch import nn

from cgalib import Predictor, create_model
from cgalib.codecs import roi_keypoint_targets
from cgalib.inference import letterbox_batch
from cgalib.utils import count_parameters

KEYPOINT_RCNN = "keypointrcnn_resnet50_fpn"
SIMPLE_BASELINE = "simplebaseline_r50"
HRNET = "hrnet_w32"
NUM_KEYPOINTS = 17

#: Targets of issue 8 (ratios, same GPU, same run).
TARGETS = {
    "eager_fps_vs_keypoint_rcnn": 3.0,
    "fast_path_fps_vs_keypoint_rcnn_fp32": 10.0,
    "topdown_d3w64_samples_vs_simple_baseline": 1.2,
    "topdown_d3w64_memory_vs_simple_baseline": 0.85,
}


def _missing(module: str, rows: str) -> str:
    return f"{module} is not installed: {rows} skipped (pip install {module})"


# --------------------------------------------------------------------------- part 1
def _keypoint_rcnn(skipped: list[str]) -> nn.Module | None:
    try:
        from torchvision.models.detection import keypointrcnn_resnet50_fpn
    except ImportError:
        skipped.append(_missing("torchvision", "Keypoint R-CNN"))
        return None
    return keypointrcnn_resnet50_fpn(
        weights=None,
        weights_backbone=None,
        min_size=512,
        box_score_thresh=0.0,
        box_detections_per_img=20,
    )


def _to_host(outputs: list[dict[str, torch.Tensor]]) -> list[dict[str, torch.Tensor]]:
    return [{k: v.cpu() for k, v in out.items()} for out in outputs]


def inference_rows(args, device: torch.device, skipped: list[str]) -> list[dict[str, Any]]:
    warmup, iters = (1, 2) if args.quick else (10, args.iters)
    h, w = args.image
    image = (torch.rand(3, h, w, device=device) * 255).to(torch.uint8)
    rows: list[dict[str, Any]] = []
    reference: dict[str, float] = {}  # Keypoint R-CNN seconds per precision

    krcnn = _keypoint_rcnn(skipped)
    if krcnn is not None:
        krcnn = krcnn.to(device).eval()
        params = count_parameters(krcnn) / 1e6

        def run_krcnn(img: torch.Tensor) -> Any:
            return _to_host(krcnn([img.float() / 255]))

        for precision in args.precision:
            try:
                with torch.inference_mode(), autocast(device, precision):
                    total = time_call(run_krcnn, image, device, warmup, iters)
            except Exception as err:  # a peer failing (e.g. an op without bf16) skips its row
                skipped.append(f"{KEYPOINT_RCNN} {precision}: {type(err).__name__}: {err}")
                continue
            reference[precision] = total
            rows.append(_row(KEYPOINT_RCNN, precision, "eager", params, total, None))

    for name in args.models:
        model = create_model(name, input_size=args.size).to(device).eval()
        params = count_parameters(model) / 1e6
        batch, _ = letterbox_batch([image], args.size)
        for precision in args.precision:
            with torch.inference_mode(), autocast(device, precision):
                split = cganet_time_split(model, batch, device, warmup, iters)
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
                    total = time_call(predictor.predict, image, device, warmup + 2, iters)
                except Exception as err:  # a fast path that fails is a result, not a crash
                    if path == "eager":
                        raise
                    skipped.append(f"{name} {precision} {path}: {type(err).__name__}: {err}")
                    continue
                rows.append(_row(name, precision, path, params, total, split))
                del predictor
        del model
    for row in rows:
        ref = reference.get(row["precision"])
        row["ratio_to_keypoint_rcnn"] = ref / row["seconds"] if ref else None
        ref32 = reference.get("fp32")
        row["ratio_to_keypoint_rcnn_fp32"] = ref32 / row["seconds"] if ref32 else None
    return rows


def _row(model, precision, path, params, seconds, split) -> dict[str, Any]:
    return {
        "model": model,
        "precision": precision,
        "path": path,
        "params_m": round(params, 2),
        "seconds": seconds,
        "fps": 1.0 / seconds,
        "post_share": split["post_share"] if split else None,
        "post_dense_share": split["post_dense_share"] if split else None,
    }


# --------------------------------------------------------------------------- part 2
class SimpleBaseline(nn.Module):
    """Xiao et al. 2018: a ResNet trunk, three 4x4 stride-2 deconvolutions, a 1x1 head."""

    def __init__(self, trunk: nn.Module, trunk_channels: int, num_keypoints: int) -> None:
        super().__init__()
        self.trunk = trunk
        layers: list[nn.Module] = []
        channels = trunk_channels
        for _ in range(3):
            layers += [
                nn.ConvTranspose2d(channels, 256, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(256),
                nn.ReLU(inplace=True),
            ]
            channels = 256
        self.deconv = nn.Sequential(*layers)
        self.head = nn.Conv2d(256, num_keypoints, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.deconv(self.trunk(x)))


class FeatureHead(nn.Module):
    """A feature extractor's stride-4 map and a 1x1 convolution to keypoint heatmaps."""

    def __init__(self, features: nn.Module, level: int, channels: int, num_keypoints: int):
        super().__init__()
        self.features, self.level = features, level
        self.head = nn.Conv2d(channels, num_keypoints, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)[self.level])


def simple_baseline_r50(skipped: list[str]) -> nn.Module | None:
    try:
        from torchvision.models import resnet50
    except ImportError:
        skipped.append(_missing("torchvision", "SimpleBaseline-R50"))
        return None
    resnet = resnet50(weights=None)
    trunk = nn.Sequential(*list(resnet.children())[:-2])  # up to layer4, stride 32
    return SimpleBaseline(trunk, resnet.fc.in_features, NUM_KEYPOINTS)


def hrnet_w32(skipped: list[str]) -> nn.Module | None:
    try:
        import timm
    except ImportError:
        skipped.append(_missing("timm", "HRNet-W32"))
        return None
    try:  # the plain HRNet branches (32 channels at stride 4), as in the pose HRNet
        features = timm.create_model(
            "hrnet_w32", features_only=True, pretrained=False, feature_location=""
        )
    except (TypeError, AssertionError):  # older timm: the classification "incre" features
        features = timm.create_model("hrnet_w32", features_only=True, pretrained=False)
    reductions = list(features.feature_info.reduction())
    level = reductions.index(4)
    return FeatureHead(features, level, features.feature_info.channels()[level], NUM_KEYPOINTS)


def _mse_heatmap_loss(logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor):
    """SimpleBaseline/HRNet's JointsMSELoss: 0.5 * mean squared error of weighted maps."""
    w = weight[..., None, None]
    return 0.5 * F.mse_loss(logits.float() * w, target * w)


def training_rows(args, device: torch.device, skipped: list[str]) -> list[dict[str, Any]]:
    warmup, iters = (1, 2) if args.quick else (5, args.train_iters)
    h, w = args.crop
    batch = args.batch
    g = torch.Generator(device="cpu").manual_seed(0)
    images = torch.rand(batch, 3, h, w, generator=g).to(device)
    xy = torch.rand(batch, NUM_KEYPOINTS, 2, generator=g) * torch.tensor([w, h])
    keypoints = torch.cat([xy, torch.full((batch, NUM_KEYPOINTS, 1), 2.0)], -1).to(device)
    boxes = torch.zeros(batch, 4, device=device)
    boxes[:, 2], boxes[:, 3] = w, h
    targets = roi_keypoint_targets(keypoints, boxes, (h // 4, w // 4))

    candidates: list[tuple[str, Any]] = [(n, None) for n in args.topdown_models]
    if not args.skip_peers:
        candidates += [(SIMPLE_BASELINE, simple_baseline_r50), (HRNET, hrnet_w32)]
    rows: list[dict[str, Any]] = []
    for name, build in candidates:
        model = create_model(name) if build is None else build(skipped)
        if model is None:
            continue
        model = model.to(device).train()
        params = count_parameters(model) / 1e6
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        own_loss = build is None

        def step(precision: str, model=model, optimizer=optimizer, own_loss=own_loss) -> None:
            with autocast(device, precision):
                if own_loss:
                    loss = model(images, keypoints)["km"]
                else:
                    loss = _mse_heatmap_loss(model(images), *targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

        for precision in args.precision:
            if device.type == "cuda":
                sync(device)
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats(device)
            try:
                seconds = time_call(step, precision, device, warmup, iters)
            except Exception as err:  # ours must run; a failing peer only skips its row
                if own_loss:
                    raise
                skipped.append(f"{name} {precision}: {type(err).__name__}: {err}")
                continue
            peak = (
                torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
            )
            rows.append(
                {
                    "model": name,
                    "precision": precision,
                    "params_m": round(params, 2),
                    "samples_per_s": batch / seconds,
                    "peak_memory_mib": peak,
                }
            )
        del model, optimizer
    for row in rows:
        ref = next(
            (
                r
                for r in rows
                if r["model"] == SIMPLE_BASELINE and r["precision"] == row["precision"]
            ),
            None,
        )
        row["samples_vs_simple_baseline"] = (
            row["samples_per_s"] / ref["samples_per_s"] if ref else None
        )
        row["memory_vs_simple_baseline"] = (
            row["peak_memory_mib"] / ref["peak_memory_mib"]
            if ref and row["peak_memory_mib"] and ref["peak_memory_mib"]
            else None
        )
    return rows


# ---------------------------------------------------------------------------- report
def target_checks(inference: list[dict], training: list[dict]) -> list[dict[str, Any]]:
    """Each target of issue 8 with its measured ratio (``None`` when a row is missing)."""
    checks = []
    for row in inference:
        if row["model"] == "cganet_tnet_d1w64" and row["path"] == "eager":
            ratio = row["ratio_to_keypoint_rcnn"]
            checks.append(
                _check(
                    f"cganet_tnet_d1w64 eager {row['precision']} fps / Keypoint R-CNN "
                    f"{row['precision']} fps",
                    ratio,
                    TARGETS["eager_fps_vs_keypoint_rcnn"],
                )
            )
    fast = [r for r in inference if r["path"] != "eager" and r["model"] == "cganet_tnet_d1w64"]
    if fast:
        best = max(fast, key=lambda r: r["fps"])
        checks.append(
            _check(
                f"best fast path ({best['path']}, {best['precision']}) fps / Keypoint R-CNN "
                "fp32 fps",
                best["ratio_to_keypoint_rcnn_fp32"],
                TARGETS["fast_path_fps_vs_keypoint_rcnn_fp32"],
            )
        )
    for row in training:
        if row["model"] == "topdown_tnet_d3w64":
            p = row["precision"]
            checks.append(
                _check(
                    f"topdown_tnet_d3w64 {p} samples/s / SimpleBaseline-R50",
                    row["samples_vs_simple_baseline"],
                    TARGETS["topdown_d3w64_samples_vs_simple_baseline"],
                )
            )
            checks.append(
                _check(
                    f"topdown_tnet_d3w64 {p} peak memory / SimpleBaseline-R50",
                    row["memory_vs_simple_baseline"],
                    TARGETS["topdown_d3w64_memory_vs_simple_baseline"],
                    at_most=True,
                )
            )
    return checks


def _check(what: str, ratio: float | None, target: float, at_most: bool = False) -> dict:
    met = None if ratio is None else (ratio <= target if at_most else ratio >= target)
    return {
        "what": what,
        "ratio": ratio,
        "target": f"{'<=' if at_most else '>='} {target}",
        "met": met,
    }


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    """A markdown table and a blank line."""
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()


def print_report(result: dict[str, Any]) -> None:
    print(f"device: {result['device']}; torch {result['torch']}; {result['date']}\n")
    inf = result["inference"]
    if inf["rows"]:
        h, w = inf["image"]
        print(f"Single-model inference, batch 1, a {w}x{h} image at {inf['input_size']} px\n")
        header = ["model", "precision", "path", "params (M)", "fps", "ms", "× Keypoint R-CNN"]
        header += ["post-processing share", "post-dense share"]
        rows = [
            [
                r["model"],
                r["precision"],
                r["path"],
                f"{r['params_m']:.1f}",
                f"{r['fps']:.1f}",
                f"{r['seconds'] * 1e3:.1f}",
                _fmt(r["ratio_to_keypoint_rcnn"], ".2f"),
                _fmt(r["post_share"], ".0%"),
                _fmt(r["post_dense_share"], ".0%"),
            ]
            for r in inf["rows"]
        ]
        _print_table(header, rows)
    tr = result["training"]
    if tr["rows"]:
        h, w = tr["crop"]
        print(f"Top-down training throughput at {h}x{w}, batch {tr['batch']} (Adam steps)\n")
        header = ["model", "precision", "params (M)", "samples/s", "peak memory (MiB)"]
        header += ["× SimpleBaseline samples/s", "× SimpleBaseline memory"]
        rows = [
            [
                r["model"],
                r["precision"],
                f"{r['params_m']:.1f}",
                f"{r['samples_per_s']:.1f}",
                _fmt(r["peak_memory_mib"], ".0f"),
                _fmt(r["samples_vs_simple_baseline"], ".2f"),
                _fmt(r["memory_vs_simple_baseline"], ".2f"),
            ]
            for r in tr["rows"]
        ]
        _print_table(header, rows)
    if result["targets"]:
        met = {True: "yes", False: "no", None: "n/a"}
        rows = [
            [c["what"], _fmt(c["ratio"], ".2f"), c["target"], met[c["met"]]]
            for c in result["targets"]
        ]
        _print_table(["target", "ratio", "wanted", "met"], rows)
    for reason in result["skipped"]:
        print(f"skipped: {reason}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: 1 warm-up and 2 timed iterations, small sizes and batch, fp32 "
        "only, eager only on the CPU",
    )
    parser.add_argument("--parts", nargs="+", default=["inference", "training"])
    parser.add_argument("--precision", nargs="+", default=None, choices=["fp32", "bf16", "fp16"])
    parser.add_argument(
        "--models", nargs="+", default=["cganet_tnet_d1w64", "cganet_tnet_d1w64_cascade"]
    )
    parser.add_argument(
        "--paths", nargs="+", default=None, choices=["eager", "compile", "cuda_graphs"]
    )
    parser.add_argument(
        "--topdown-models", nargs="+", default=["topdown_tnet_d3w64", "topdown_tnet_d3w96"]
    )
    parser.add_argument("--skip-peers", action="store_true", help="part 2 without the peers")
    parser.add_argument("--size", type=int, default=512, help="letterbox side of part 1")
    parser.add_argument("--image", type=int, nargs=2, default=[480, 640], metavar=("H", "W"))
    parser.add_argument("--crop", type=int, nargs=2, default=[256, 192], metavar=("H", "W"))
    parser.add_argument("--batch", type=int, default=64, help="part 2 batch size")
    parser.add_argument("--iters", type=int, default=50, help="part 1 timed calls")
    parser.add_argument("--train-iters", type=int, default=20, help="part 2 timed steps")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads")
    args = parser.parse_args(argv)
    cpu = torch.device(args.device).type == "cpu"
    if args.precision is None:
        args.precision = ["fp32"] if args.quick else ["fp32", "bf16"]
    if args.paths is None:
        args.paths = ["eager"] if args.quick and cpu else ["eager", "compile", "cuda_graphs"]
    if args.quick:
        args.size = min(args.size, 128)
        args.image = [min(args.image[0], 120), min(args.image[1], 160)]
        args.crop = [min(args.crop[0], 128), min(args.crop[1], 96)]
        args.batch = min(args.batch, 2)
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda but CUDA is not available; use --device cpu --quick")
    # cuDNN picks the fastest algorithms for the fixed shapes, as SimpleBaseline/HRNet train
    torch.backends.cudnn.benchmark = device.type == "cuda"
    torch.manual_seed(0)
    skipped: list[str] = []
    inference = inference_rows(args, device, skipped) if "inference" in args.parts else []
    training = training_rows(args, device, skipped) if "training" in args.parts else []
    result = {
        "device": device_name(device),
        "torch": torch.__version__,
        "date": datetime.date.today().isoformat(),
        "quick": args.quick,
        "inference": {"image": args.image, "input_size": args.size, "rows": inference},
        "training": {"crop": args.crop, "batch": args.batch, "rows": training},
        "targets": target_checks(inference, training),
        "skipped": skipped,
    }
    print_report(result)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nwrote {args.out}")
    return result


if __name__ == "__main__":
    main()
