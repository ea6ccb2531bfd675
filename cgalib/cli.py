"""The ``cgalib`` command line: turns arguments into keyword arguments of library calls.

Library code never sees the parsed ``argparse.Namespace``; each sub-command's handler
unpacks it at this entry point. Sub-commands: ``synth``, ``train``, ``eval``, ``predict``,
``export``, ``demo``, ``models`` and ``summary``, each declared by one function
(``_add_<command>``) and run by one handler (``_cmd_<command>``). No handler checks what
kind of model a checkpoint holds: it asks the model (``needs_boxes``, ``input_rule``).

Bad flag values stop at parsing with argparse's one line (``cgalib <command>: error:
argument --batch: ...``, exit status 2): every number, size, device and JSON flag has an
argparse type below. Which input sizes a model takes is its own rule, checked once the
checkpoint is loaded (one line, exit status 1). An error the library raises while a command runs (a missing file,
an unreadable checkpoint) prints as one line ``cgalib: error: ...`` with exit status 1;
``--traceback`` (or ``CGALIB_TRACEBACK=1``) shows the full trace instead.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from cgalib.utils.machine import data_workers
from cgalib.utils.outputs import check_not_an_input, check_writable
from cgalib.utils.signals import Interrupted, interrupt_on_signals
from cgalib.viz.poses import DISPLAY_SCORE_THRESHOLD

__all__ = ["build_parser", "main"]


def _int_type(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer ``>= minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def _float_type(low: float, high: float = math.inf, open_low: bool = False):
    """An argparse type: a finite number in ``[low, high]`` (``(low, high]`` if ``open_low``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        inside = (low < value if open_low else low <= value) and value <= high
        if not math.isfinite(value) or not inside:
            if high == math.inf:
                wanted = f"a finite number {'>' if open_low else '>='} {low:g}"
            else:
                wanted = f"in {'(' if open_low else '['}{low:g}, {high:g}]"
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text}")
        return value

    return parse


def _device_type(text: str) -> str:
    """An argparse type: a device this machine has (``cpu``, ``cuda``, ``cuda:N``, ``mps``)."""
    from cgalib.utils.device import resolve_device

    try:
        resolve_device(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


def _json_object_type(text: str) -> dict:
    """An argparse type: a JSON object, parsed."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(
            f"not valid JSON ({err}): {text!r}; write a JSON object such as "
            f"'{{\"input_size\": 256}}' (double-quoted keys)"
        ) from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(
            f"must be a JSON object such as '{{\"input_size\": 256}}', got {text!r}"
        )
    return value


_COUNT = _int_type(1)
_NON_NEGATIVE = _int_type(0)


def _input_size_type(text: str) -> int | tuple[int, int]:
    """An argparse type: a side (``512``) or ``HxW`` (``256x192``) in pixels. Which sides a
    model takes is the model's rule (its ``input_rule``), checked once it is loaded."""
    parts = text.lower().split("x")
    if len(parts) > 2:
        raise argparse.ArgumentTypeError(f"expected a side or HxW such as 256x192, got {text!r}")
    sides = tuple(_COUNT(part) for part in parts)
    return sides[0] if len(sides) == 1 else sides


_POSITIVE = _float_type(0.0, open_low=True)
_PROBABILITY = _float_type(0.0, 1.0)


def _categories_type(text: str) -> str | list[str]:
    """An argparse type: ``*`` or comma-separated category names."""
    if text.strip() == "*":
        return "*"
    names = [n.strip() for n in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated category names (or *), got {text!r}"
        )
    return names


def _model_input(model, input_size: int | tuple[int, int] | None) -> tuple[int, int]:
    """The model's input size for ``--input-size`` (``None``: the model's own), checked by
    the model's rule."""
    return model.input_rule.resized(input_size, "--input-size").size


def _picture_input(model, input_size: int | tuple[int, int] | None) -> tuple[int, int] | None:
    """``--input-size`` of the commands that see pictures, checked by the model's rule;
    ``None`` stays ``None`` (the Predictor picks a side per picture)."""
    return None if input_size is None else _model_input(model, input_size)


def _check_box_flag(flag: str, value: str | None, checkpoint: str, needs_boxes: bool) -> None:
    """Refuse a box flag for a model that finds people itself, and a missing detector."""
    if value is not None and not needs_boxes:
        raise ValueError(
            f"{flag} is for top-down checkpoints; {checkpoint} holds a multi-person model "
            "that finds the people itself: leave out " + flag
        )
    if flag == "--detector" and needs_boxes and value is None:
        raise ValueError(
            f"{checkpoint} holds a top-down model, which needs person boxes: give "
            "--detector with a CGANet checkpoint (e.g. --detector cganet/model.pt)"
        )


# ------------------------------------------------------------------------------ handlers
def _cmd_models(pattern: str) -> int:
    from cgalib.models import PRETRAINED, list_pretrained
    from cgalib.registry import list_models

    architectures = list_models(pattern)
    shipped = [name for name in list_pretrained() if fnmatch.fnmatchcase(name, pattern)]
    if architectures:
        print("# architectures, untrained: create_model(name), cgalib train --model NAME")
        print("\n".join(architectures))
    if shipped:
        print("# shipped weights: load_model(name), --checkpoint NAME")
        width = max(map(len, shipped))
        print("\n".join(f"{name:{width}}  {PRETRAINED[name]}" for name in shipped))
    return 0


def _cmd_summary(model: str, height: int, width: int) -> int:
    import torch

    from cgalib.backbones.features import FeatureInfo
    from cgalib.registry import create_model
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
        strides = FeatureInfo.of(net).reduction()  # a backbone: its levels
        print("| level | stride | shape |\n|---|---|---|")
        for i, (o, s) in enumerate(zip(outputs, strides)):
            print(f"| L{i} | {s} | {tuple(o.shape)} |")
    return 0


def _cmd_synth(out: str, train: int, val: int, seed: int, size: int, keypoints: str) -> int:
    from cgalib.data import make_synthetic_coco

    paths = make_synthetic_coco(
        out, train, val, seed=seed, size=size, progress=True, keypoints=keypoints
    )
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


def _cmd_train(
    model: str,
    data: str,
    out: str,
    ann_train: str | None,
    epochs: int | None,
    batch: int,
    lr: float,
    lr_decay: str,
    input_size: int | tuple[int, int] | None,
    amp: str | None,
    channels_last: bool,
    ema: float | None,
    device: str | None,
    resume: bool,
    workers: int | None,
    seed: int,
    time_limit: float | None,
    time_budget: float | None,
    model_kwargs: dict | None,
    log_every: int,
    checkpoint_every: int | None,
    checkpoint_minutes: float | None,
    categories: str | list[str] | None,
) -> int:
    from cgalib.engine import train

    path = train(
        model,
        data,
        out,
        model_kwargs=model_kwargs,
        categories=categories,
        ann_train=ann_train,
        input_size=input_size,
        device=device,
        epochs=epochs if epochs is not None or time_budget is not None else 95,
        batch_size=batch,
        lr=lr,
        lr_decay=lr_decay,
        amp=amp,
        channels_last=channels_last,
        ema_decay=ema,
        resume=resume,
        num_workers=data_workers() if workers is None else workers,
        seed=seed,
        time_limit=time_limit * 60 if time_limit is not None else None,
        time_budget=time_budget * 60 if time_budget is not None else None,
        log_every=log_every,
        checkpoint_every=checkpoint_every,
        checkpoint_seconds=checkpoint_minutes * 60 if checkpoint_minutes else None,
    )
    print(f"model: {path}")
    return 0


def _cmd_eval(
    checkpoint: str,
    data: str,
    split: str,
    ann: str | None,
    out: str | None,
    flip: bool,
    input_size: int | tuple[int, int] | None,
    boxes: str | None,
    precision: str,
    device: str | None,
    batch: int,
    categories: str | list[str] | None,
) -> int:
    out_path = Path(out or Path(checkpoint).parent / f"results_{split}.json")
    if out_path.is_dir():
        raise ValueError(f"--out {out_path} is a folder; give the results file to write")
    check_writable(out_path.parent, "--out folder")  # before the whole split is predicted

    from cgalib.data import find_split
    from cgalib.eval import (
        BOX_METRICS,
        BOX_PREFIX,
        KEYPOINT_METRICS,
        MASK_PREFIX,
        evaluate_coco,
        format_metrics,
        ground_truth_for,
        load_coco,
    )
    from cgalib.models import load_model
    from cgalib.utils.files import atomic_open

    model = load_model(checkpoint, pose_model=True, flip_test=flip)
    _check_box_flag("--boxes", boxes, checkpoint, model.needs_boxes)
    size = _picture_input(model, input_size)
    images_dir, ann_file = find_split(data, split, None, ann)
    check_not_an_input(
        out_path, {"--checkpoint": checkpoint, "annotation": ann_file, "--boxes": boxes}
    )
    gt = load_coco(ann_file, categories=categories) if categories is not None else ann_file
    gt = ground_truth_for(model, gt, model_name=f"checkpoint {checkpoint}")  # K checked
    if model.needs_boxes:
        boxes = boxes or "gt"
    metrics, results = evaluate_coco(
        model,
        images_dir,
        gt,
        boxes=boxes,
        box_ap=not model.needs_boxes,  # given boxes are not the model's to score
        input_size=size,
        device=device,
        batch_size=batch,
        precision=precision,
    )
    with atomic_open(out_path) as f:
        json.dump(results, f)
    source = f", boxes from {'the ground truth' if boxes == 'gt' else boxes}" if boxes else ""
    tables = [("", KEYPOINT_METRICS, f"keypoints{source}"), (BOX_PREFIX, BOX_METRICS, "person boxes")]
    tables.append((MASK_PREFIX, BOX_METRICS, "person masks"))
    for prefix, names, title in tables:  # those the model's outputs give
        if prefix + names[0] in metrics:
            print(format_metrics({k: metrics[prefix + k] for k in names}, f"{split} {title}"))
    print(f"results: {out_path}")
    return 0


def _cmd_predict(
    inputs: list[str],
    checkpoint: str,
    out: str,
    input_size: int | tuple[int, int] | None,
    detector: str | None,
    precision: str,
    device: str | None,
    threshold: float,
    strict: bool,
    every: int,
    max_frames: int | None,
    smooth: bool,
    min_cutoff: float,
    beta: float,
    patience: int,
) -> int:
    from cgalib.inference import Predictor, SyntheticWeightsWarning
    from cgalib.inference.media import VIDEO_SUFFIXES, predict_media
    from cgalib.models import load_model

    model = load_model(checkpoint, pose_model=True)
    _warn_if_synthetic_only(checkpoint, model)
    _check_box_flag("--detector", detector, checkpoint, model.needs_boxes)
    finder = load_model(detector, pose_model=True) if detector else None
    if finder is not None and finder.needs_boxes:
        raise ValueError(
            f"--detector {detector} holds a top-down model, which needs person boxes itself; "
            "give the checkpoint of a model that finds people on its own (e.g. a CGANet)"
        )
    with warnings.catch_warnings():  # said above, naming the checkpoint
        warnings.simplefilter("ignore", SyntheticWeightsWarning)
        predictor = Predictor(
            model,
            detector=finder,
            device=device,
            input_size=_picture_input(model, input_size),
            precision=precision,
            score_threshold=threshold,
        )
    videos = [i for i in inputs if Path(i).suffix.lower() in VIDEO_SUFFIXES and Path(i).is_file()]
    pictures = [i for i in inputs if i not in videos]
    skipped = 0
    if pictures:
        try:
            report = predict_media(
                predictor, pictures, out, score_threshold=threshold, strict=strict
            )
        except ValueError:
            if strict or not videos:
                raise
            warnings.warn(f"no picture among {', '.join(pictures)} could be read", stacklevel=1)
            skipped += len(pictures)
        else:
            skipped += len(report.skipped)
            print(
                f"results: {report.results} ({report.images} pictures, {report.people} people "
                f"scored {threshold:g} or more; --threshold 0 keeps every candidate)"
            )
    if videos:
        from cgalib.video import PoseSmoother, PoseTracker

        def tracking() -> dict:  # a fresh tracker and smoother for each video
            return {
                "tracker": PoseTracker(predictor.keypoint_set.sigmas, patience=patience),
                "smoother": PoseSmoother(min_cutoff=min_cutoff, beta=beta) if smooth else None,
            }

        frames = {"every": every, "max_frames": max_frames, "smooth": smooth}
        done, failed = _predict_videos(predictor, videos, out, strict, tracking, frames)
        skipped += failed
        if not done and not pictures:
            raise ValueError(f"no input could be read ({len(videos)} video(s) skipped)")
    if skipped:
        print(f"skipped {skipped} input(s), see the warnings above", file=sys.stderr)
    return 0


def _warn_if_synthetic_only(checkpoint: str, model) -> None:
    """One warning, naming ``checkpoint``, when its loaded ``model`` knows cgalib's synthetic
    people only (what ``load_model`` recorded; the file is not read again)."""
    from cgalib.data import SYNTHETIC_DESCRIPTION
    from cgalib.models import trained_on

    if trained_on(model) == SYNTHETIC_DESCRIPTION:
        warnings.warn(
            f"{checkpoint} was trained on cgalib's synthetic people only: on photos its poses "
            "are unreliable (weights for photos come from cgalib train on COCO)",
            stacklevel=2,
        )


def _predict_videos(
    predictor,
    videos: list[str],
    out: str,
    strict: bool,
    tracking: Callable[[], dict],
    frames: dict,
) -> tuple[int, int]:
    """Track and smooth each video (``tracking()``: its fresh tracker and smoother;
    ``frames``: ``predict_video``'s frame choice); the counts of videos done and skipped."""
    from cgalib.video import predict_video

    done = skipped = 0
    for video in videos:
        try:
            path = predict_video(predictor, video, out, **frames, **tracking())
        except (ValueError, OSError) as err:
            if strict:
                raise
            warnings.warn(f"skipped {video}: {err}", stacklevel=1)
            skipped += 1
            continue
        done += 1
        print(f"video results: {path}")
    return done, skipped


def _cmd_export(
    checkpoint: str,
    format: str,
    input_size: int | tuple[int, int] | None,
    out: str | None,
    dense_only: bool,
    batch: int,
    opset: int,
) -> int:
    ckpt = Path(checkpoint)
    out_path = Path(out or ckpt.with_name(f"{ckpt.stem}{'_dense' if dense_only else ''}.onnx"))
    if out_path.is_dir():
        raise ValueError(f"--out {out_path} is a folder; give the .onnx file to write")
    check_writable(out_path.parent, "--out folder")
    check_not_an_input(out_path, {"--checkpoint": checkpoint})

    from cgalib.export import export_onnx
    from cgalib.models import create_variant, load_model

    model = load_model(checkpoint, pose_model=True)
    if model.flip_test:
        print("note: flip test is not exported; the graph runs the single pass")
        model = create_variant(model, flip_test=False)
    size = _model_input(model, input_size)
    path = export_onnx(
        model, out_path, input_size=size, batch_size=batch, opset=opset, end_to_end=not dense_only
    )
    kind = "dense outputs" if dense_only else "end to end"
    print(f"{format}: {path} ({kind}, input images {(batch, 3, *size)}, opset {opset})")
    for name, shape in _onnx_outputs(path):
        print(f"  {name}: {shape}")
    return 0


def _onnx_outputs(path: Path) -> list[tuple[str, tuple[int, ...]]]:
    """Names and shapes of the outputs of an ONNX file (needs the ``onnx`` package)."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    return [
        (o.name, tuple(d.dim_value for d in o.type.tensor_type.shape.dim)) for o in graph.output
    ]


def _cmd_demo(out: str, minutes: float, train_images: int, val_images: int) -> int:
    from cgalib.demo import run_demo

    run_demo(out, minutes=minutes, num_train=train_images, num_val=val_images)
    return 0


# ------------------------------------------------------------------------ the parser
_Sub = "argparse._SubParsersAction[argparse.ArgumentParser]"


_PICTURE_INPUT_DEFAULT = (
    "per picture for a multi-person model, its longer side between the training size and "
    "twice it; the training crop for a top-down model"
)
"""What ``--input-size`` defaults to for the commands that see pictures (``_picture_input``)."""


def _add_input_size(p: argparse.ArgumentParser, what: str, default: str = "the model's own") -> None:
    p.add_argument(
        "--input-size",
        type=_input_size_type,
        default=None,
        help=f"{what}: a side (512) or HxW (256x192), as the model takes them (default: "
        f"{default})",
    )


def _add_precision_and_device(p: argparse.ArgumentParser) -> None:
    """``--precision`` and ``--device`` of the inference commands (eval, predict)."""
    p.add_argument(
        "--precision",
        choices=["fp32", "bf16", "fp16"],  # cgalib.utils.precision.PRECISIONS (lazy imports)
        default="fp32",
        help="autocast precision (bf16: faster on CPUs with AVX-512 bf16 and on GPUs)",
    )
    p.add_argument("--device", type=_device_type, default=None)


_CHECKPOINT_HELP = (
    "a model.pt written by cgalib train, or the name of shipped weights "
    "(cgalib models lists them, e.g. cganet_tnet_d1w16.synthetic)"
)
"""What ``--checkpoint`` takes (eval, predict, export)."""


def _add_models(sub: _Sub) -> None:
    p = sub.add_parser(
        "models", help="list the registered architectures and the shipped weights"
    )
    p.add_argument("pattern", nargs="?", default="*", help="shell pattern, e.g. 'cganet_*'")


def _add_summary(sub: _Sub) -> None:
    p = sub.add_parser("summary", help="parameters, GFLOPs and output shapes of a model")
    p.add_argument("model", help="a registered model name")
    p.add_argument("--height", type=_COUNT, default=512, help="input height, a multiple of 32")
    p.add_argument("--width", type=_COUNT, default=512, help="input width, a multiple of 32")


def _add_synth(sub: _Sub) -> None:
    p = sub.add_parser("synth", help="write the synthetic crowd set in COCO layout")
    p.add_argument("--out", required=True, help="data root to create")
    p.add_argument("--train", type=_NON_NEGATIVE, default=2000, help="training images")
    p.add_argument("--val", type=_NON_NEGATIVE, default=200, help="validation images")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--size", type=_int_type(32), default=384, help="image side in pixels")
    p.add_argument(
        "--keypoints",
        choices=["coco17", "body14"],
        default="coco17",
        help="keypoint set: COCO's 17, or 14 body joints with neck and head top",
    )


def _add_train(sub: _Sub) -> None:
    p = sub.add_parser("train", help="train a registered model on COCO-format keypoint data")
    p.add_argument("--model", default="cganet_tnet_d1w64")
    p.add_argument("--data", required=True, help="data root (train/, annotations/)")
    p.add_argument("--ann-train", default=None, help="annotation file if not in the default place")
    p.add_argument("--out", required=True, help="run folder (checkpoints, metrics.csv)")
    p.add_argument(
        "--epochs",
        type=_COUNT,
        default=None,
        help="passes over the data (default 95; with --time-budget an upper bound)",
    )
    p.add_argument("--batch", type=_COUNT, default=16, help="images per step and process")
    p.add_argument("--lr", type=_POSITIVE, default=1e-2)
    p.add_argument(
        "--lr-decay",
        choices=["steps", "cosine"],  # cgalib.engine.schedule.LR_DECAYS (lazy imports)
        default="steps",
        help="steps: x0.1 at 70/95 and 85/95 of the run (the paper's); cosine: a half cosine to 0",
    )
    _add_input_size(p, "the training input")
    p.add_argument("--amp", choices=["bf16", "fp16"], default=None)
    p.add_argument(
        "--channels-last", action="store_true", help="channels-last memory format (faster convs)"
    )
    p.add_argument(
        "--ema",
        type=float,
        default=None,
        metavar="DECAY",
        help="save a moving average of the weights as model.pt (e.g. 0.998; default: none)",
    )
    p.add_argument(
        "--device", type=_device_type, default=None, help="cuda or cpu (default: cuda if available)"
    )
    p.add_argument("--resume", action="store_true", help="continue the run in OUT from its last.pt")
    p.add_argument(
        "--workers",
        type=_NON_NEGATIVE,
        default=None,
        help="data-loading processes (default: the CPU cores less one, at most 4; "
        f"{data_workers()} on this machine)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--time-limit", type=_POSITIVE, default=None, help="stop after this many minutes"
    )
    p.add_argument(
        "--time-budget",
        type=_POSITIVE,
        default=None,
        help="train for this many minutes, the learning rate following the time used "
        "(instead of --epochs; not with --time-limit)",
    )
    p.add_argument(
        "--model-kwargs", type=_json_object_type, default=None, help="JSON overrides for the builder"
    )
    p.add_argument("--log-every", type=_COUNT, default=10, help="steps between metrics.csv rows")
    p.add_argument(
        "--checkpoint-every", type=_COUNT, default=None, help="also write last.pt every N steps"
    )
    p.add_argument(
        "--checkpoint-minutes",
        type=_float_type(0.0),
        default=10.0,
        help="also write last.pt every M minutes (0: only at epoch ends)",
    )
    p.add_argument(
        "--categories",
        type=_categories_type,
        default=None,
        help="keypoint categories to train on, comma-separated, or * for all (default: person)",
    )


def _add_eval(sub: _Sub) -> None:
    p = sub.add_parser(
        "eval",
        help="COCO keypoint AP, person box AP and (segmentation models) mask AP of a "
        "checkpoint on a split",
    )
    p.add_argument("--checkpoint", required=True, help=_CHECKPOINT_HELP)
    p.add_argument("--data", required=True)
    p.add_argument("--split", default="val")
    p.add_argument("--ann", default=None, help="annotation file if not in the default place")
    p.add_argument("--out", default=None, help="results JSON (default next to the checkpoint)")
    p.add_argument("--flip", action="store_true", help="flip test")
    _add_input_size(p, "the model's input", _PICTURE_INPUT_DEFAULT)
    p.add_argument(
        "--boxes",
        default=None,
        help="top-down models: person boxes from 'gt' (default), a COCO detections .json, "
        "or a CGANet checkpoint .pt",
    )
    _add_precision_and_device(p)
    p.add_argument("--batch", type=_COUNT, default=8)
    p.add_argument(
        "--categories",
        type=_categories_type,
        default=None,
        help="keypoint categories to score, comma-separated, or * (default: the checkpoint's)",
    )


def _add_predict(sub: _Sub) -> None:
    p = sub.add_parser(
        "predict", help="predict and draw people in images and folders; track them in videos"
    )
    p.add_argument("inputs", nargs="+", help="image files, folders (images) or video files")
    p.add_argument("--checkpoint", required=True, help=_CHECKPOINT_HELP)
    p.add_argument("--out", required=True, help="output folder")
    _add_input_size(p, "the model's input", _PICTURE_INPUT_DEFAULT)
    p.add_argument(
        "--detector",
        default=None,
        help="top-down checkpoints: the CGANet checkpoint that finds the people",
    )
    _add_precision_and_device(p)
    p.add_argument(
        "--threshold",
        type=_PROBABILITY,
        default=DISPLAY_SCORE_THRESHOLD,
        help="leave out people scored below it, in the results and the drawings, 0..1 "
        f"(default {DISPLAY_SCORE_THRESHOLD}; 0 keeps every candidate, as evaluation does)",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="stop with an error at the first input that cannot be read (default: skip it)",
    )
    p.add_argument("--every", type=_COUNT, default=1, help="videos: process every Nth frame")
    p.add_argument(
        "--max-frames", type=_COUNT, default=None, help="videos: stop after N processed frames"
    )
    p.add_argument(
        "--no-smooth",
        dest="smooth",
        action="store_false",
        help="videos: no One-Euro smoothing of the tracked keypoints",
    )
    p.add_argument(
        "--min-cutoff",
        type=_POSITIVE,
        default=1.0,
        help="videos: One-Euro cutoff at rest, Hz (lower: smoother, more lag)",
    )
    p.add_argument(
        "--beta",
        type=_float_type(0.0),
        default=1.0,
        help="videos: One-Euro speed coefficient (higher: less lag on fast moves)",
    )
    p.add_argument(
        "--patience",
        type=_NON_NEGATIVE,
        default=10,
        help="videos: frames a person may be missed and keep its track id",
    )


def _add_export(sub: _Sub) -> None:
    p = sub.add_parser("export", help="export a checkpoint to ONNX (whole inference or dense)")
    p.add_argument("--checkpoint", required=True, help=_CHECKPOINT_HELP)
    p.add_argument("--format", choices=["onnx"], default="onnx")
    _add_input_size(p, "the graph's input")
    p.add_argument("--out", default=None, help="file to write (default next to the checkpoint)")
    p.add_argument("--dense-only", action="store_true", help="backbone and dense heads only")
    p.add_argument("--batch", type=_COUNT, default=1, help="images per run, fixed in the graph")
    p.add_argument("--opset", type=_COUNT, default=17)


def _add_demo(sub: _Sub) -> None:
    p = sub.add_parser("demo", help="the main job: synthesise, train, evaluate, draw")
    p.add_argument("--out", default="demo")
    p.add_argument("--minutes", type=_POSITIVE, default=9.0, help="training time budget")
    p.add_argument("--train-images", type=_COUNT, default=2000)
    p.add_argument("--val-images", type=_COUNT, default=100)


_KEPT_ON_SIGNAL = {"eval": "nothing was written", "export": "nothing was written"}
"""What a command that has no safe point to stop at leaves when a signal stops it at once
(its results are written in one atomic step at the end)."""

_COMMANDS: dict[str, tuple[Callable[[_Sub], None], Callable[..., int]]] = {
    "models": (_add_models, _cmd_models),
    "summary": (_add_summary, _cmd_summary),
    "synth": (_add_synth, _cmd_synth),
    "train": (_add_train, _cmd_train),
    "eval": (_add_eval, _cmd_eval),
    "predict": (_add_predict, _cmd_predict),
    "export": (_add_export, _cmd_export),
    "demo": (_add_demo, _cmd_demo),
}
"""Each sub-command: the function that declares its flags and the handler that runs it."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``cgalib`` command."""
    parser = argparse.ArgumentParser(prog="cgalib", description="CGANet pose estimation toolkit")
    parser.add_argument(
        "--traceback",
        action="store_true",
        help="show the full Python trace of an error (also: CGALIB_TRACEBACK=1)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for add, _ in _COMMANDS.values():
        add(sub)
    return parser


class _WarningLines:
    """Show each warning as one line, ``cgalib: warning: <message>``, and a message once per
    command (torch's DataLoader, for one, warns from two places about the same workers)."""

    def __init__(self) -> None:
        self.shown: set[str] = set()

    def __call__(self, message, category, filename, lineno, file=None, line=None) -> None:
        text = str(message)
        if text not in self.shown:
            self.shown.add(text)
            print(f"cgalib: warning: {text}", file=sys.stderr if file is None else file)


def _error_text(err: BaseException) -> str:
    """The message of a library error (a ``KeyError``'s without its quotes)."""
    text = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
    return str(text) or type(err).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``cgalib`` command line.

    A bad flag value exits through argparse (status 2). A ``ValueError``, ``OSError``,
    ``KeyError`` or ``RuntimeError`` raised by the library while the command runs prints
    one line, ``cgalib: error: <message>``, and returns 1; Ctrl-C returns 130. Warnings
    print as ``cgalib: warning: <message>``. With ``--traceback`` (or the environment
    variable ``CGALIB_TRACEBACK=1``) errors and warnings keep Python's full format.

    **Signals.** SIGTERM, SIGINT, SIGHUP and SIGUSR1 end a command with the signal's exit
    status (``128 + signal``: 143, 130, 129, 138) and one line, ``cgalib: <what was kept>``. Work that
    can stop at a safe point (training: the step, then ``last.pt``) does so and says what
    it saved; other work ([`interrupt_on_signals()`][cgalib.utils.signals.interrupt_on_signals])
    stops at once, its results written atomically or not at all (``cgalib: eval stopped by
    SIGTERM; nothing was written``).

    Args:
        argv: arguments without the program name; ``None`` reads ``sys.argv``.

    Returns:
        The process exit status.
    """
    args = vars(build_parser().parse_args(argv))
    command = args.pop("command")
    full_trace = args.pop("traceback") or os.environ.get("CGALIB_TRACEBACK", "") not in ("", "0")
    handler = _COMMANDS[command][1]
    stops = interrupt_on_signals(command, _KEPT_ON_SIGNAL.get(command))
    if full_trace:
        try:
            with stops:
                return handler(**args)
        except Interrupted as stopped:
            traceback.print_exc()
            return stopped.exit_status
    try:
        with warnings.catch_warnings(), stops:
            warnings.showwarning = _WarningLines()
            return handler(**args)
    except Interrupted as stopped:
        print(f"cgalib: {stopped}", file=sys.stderr)
        return stopped.exit_status
    except (ValueError, OSError, KeyError, RuntimeError) as err:
        hint = " (run with --traceback for the full trace)" if isinstance(err, RuntimeError) else ""
        print(f"cgalib: error: {_error_text(err)}{hint}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("cgalib: interrupted", file=sys.stderr)
        return 130

if __name__ == "__main__":
    sys.exit(main())
