"""Keypoint decoding and OKS-NMS conventions chosen by COCO keypoint AP on trained models.

Run (about an hour on 2 CPU cores; trained runs in ``--work`` are reused)::

    python benchmarks/decoding.py --work runs/decoding --write-docs docs/benchmarks.md \\
        --out benchmarks/results/decoding_cpu.json

1. **Data.** The demo's synthetic training set (2000 images of 192 px, seed 0, people at
   least 48 px high: the shipped checkpoint's) and a held-out split of ``--val`` images
   generated with another seed (``--val-seed``, 13: neither training nor the shipped
   checkpoint's 50-image check, seed 7, used it).
2. **Models.** The shipped ``cganet_tnet_d1w16.synthetic`` (seed 0, 24 epochs) and
   ``cganet_tnet_d1w16`` trained for ``--minutes`` with the demo's CPU recipe on the seeds
   of ``--cganet-seeds``; ``topdown_tnet_d1w16`` (128x96 crops) trained for ``--minutes``
   on the seeds of ``--topdown-seeds`` with the recipe of
   ``docs/scripts/topdown_comparison.py`` (the demo's optimiser, its mild augmentation as
   crops, 32 crops a step).
3. **Decoding.** Each model is evaluated on the held-out split
   (:func:`cgalib.eval.evaluate_coco`, pycocotools' OKS AP) under the variants of
   :class:`cgalib.codecs.RoiHeatmapDecoder` (built with
   :func:`cgalib.create_variant`, the same weights): the Gaussian blur before the log
   (none, 3, 5, 7, 11), the Hessian stencil (+-1 or mmpose's +-2), the border rule (skip
   the refinement where the stencil leaves the map, or read the edge cell there) and the
   shift limit (half a cell or none, as mmpose). The top-down models see ground-truth
   boxes here.
4. **OKS-NMS and the person score** (top-down models on the boxes of the shipped CGANet,
   box score >= 0.05, OKS-NMS at 0.9): the OKS area of a pose (its detection box, or the
   padded, aspect-fixed crop region as mmpose) and the person score (box score times the
   mean of all keypoint scores, or of those above 0.2 as mmpose).

The table goes into the ``decoding`` block of ``--write-docs`` (machine and date
included) and the raw numbers into ``--out``.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import inspect
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch

from cgalib.codecs import DARK_DEFAULTS, RoiHeatmapDecoder
from cgalib.data import find_split, make_synthetic_coco
from cgalib.engine import train
from cgalib.engine.recipes import CPU_DEMO_RECIPE
from cgalib.eval import evaluate_coco, predict_coco
from cgalib.inference import Predictor
from cgalib.models import PoseModel, load_checkpoint, load_model
from cgalib.models.checkpoint import TRAIN_STATE_FORMAT
from cgalib.utils import check_block, machine_description, write_block

TRAIN_DATA = {"num_train": 2000, "num_val": 0, "seed": 0, "size": 192, "min_height": 48}
"""The demo's (and the shipped checkpoint's) training set."""

CGANET = "cganet_tnet_d1w16"
TOPDOWN = "topdown_tnet_d1w16"
TOPDOWN_CROP = (128, 96)
TOPDOWN_BATCH = 32
TOPDOWN_AUGMENT = {"scale": 0.25, "rotation": 15.0, "rotation_prob": 1.0, "flip_prob": 0.0}
"""The crop augmentation of ``docs/scripts/topdown_comparison.py``: as mild as the demo's."""

SHIPPED = "cganet_tnet_d1w16.synthetic"
BLOCK = "decoding"
"""``--write-docs`` replaces the page's block between ``<!-- decoding:start -->`` and
``<!-- decoding:end -->``."""

BEFORE = {"blur_kernel": 0, "stencil": 1, "border": "skip", "max_shift": 0.5}
"""cgalib's DARK before this measurement (no blur, +-1 stencil, no shift at the border,
half a cell at most): the reference of the gains."""

MMPOSE = {"blur_kernel": 11, "stencil": 2, "border": "skip", "max_shift": None}
"""mmpose's ``refine_keypoints_dark`` with its default 11x11 blur."""

BLURS = (0, 3, 5, 7, 11)
STENCILS = (1, 2)

DETECTOR_BOX_SCORE = 0.05
"""The shipped CGANet's boxes scored at least this are cropped for the OKS-NMS stage (as in
``docs/scripts/topdown_comparison.py``)."""

OKS_NMS_THRESHOLD = 0.9
"""HRNet's and mmpose's OKS-NMS threshold."""

MMPOSE_KEYPOINT_SCORE = 0.2
"""mmpose's ``keypoint_score_thr``: the person score averages the keypoint scores above it."""


def make_data(work: Path, num_val: int, val_seed: int) -> tuple[Path, tuple[Path, Path]]:
    """The training data root and the held-out split's ``(images, annotations)``."""
    data, held_out = work / "data", work / f"held_out_seed{val_seed}_{num_val}"
    if not (data / "annotations" / "person_keypoints_train.json").is_file():
        make_synthetic_coco(data, **TRAIN_DATA)
    if not (held_out / "annotations" / "person_keypoints_val.json").is_file():
        make_synthetic_coco(
            held_out, 0, num_val, seed=val_seed, size=TRAIN_DATA["size"],
            min_height=TRAIN_DATA["min_height"],
        )  # fmt: skip
    return data, find_split(held_out, "val")


def train_runs(work: Path, data: Path, args: argparse.Namespace) -> dict[str, list[Path]]:
    """Checkpoints per model name: trained now for a fixed number of epochs (so a loaded
    machine trains the same model, only slower), or found in ``work/runs`` (reused)."""
    runs: dict[str, list[Path]] = {CGANET: [], TOPDOWN: []}
    topdown_recipe = {**CPU_DEMO_RECIPE, "batch_size": TOPDOWN_BATCH, "augment_kwargs": TOPDOWN_AUGMENT}
    plan = [(TOPDOWN, seed, args.topdown_epochs, TOPDOWN_CROP, topdown_recipe)
            for seed in args.topdown_seeds]  # fmt: skip
    plan += [(CGANET, seed, args.cganet_epochs, TRAIN_DATA["size"], CPU_DEMO_RECIPE)
             for seed in args.cganet_seeds]  # fmt: skip
    for name, seed, epochs, size, recipe in plan:
        run = work / "runs" / f"{name}_seed{seed}_{epochs}ep"
        last = run / "last.pt"
        if not (last.is_file() and load_checkpoint(last, TRAIN_STATE_FORMAT)["epoch"] >= epochs):
            train(name, data, run, input_size=size, device="cpu", epochs=epochs, seed=seed,
                  resume=last.is_file(), **recipe)  # fmt: skip
        runs[name].append(run / "model.pt")
    return runs


def _key(settings: dict) -> str:
    return ",".join(f"{k}={settings[k]}" for k in sorted(settings))


def _label(dark: dict) -> str:
    blur = f"{dark['blur_kernel']}x{dark['blur_kernel']}" if dark["blur_kernel"] > 1 else "none"
    shift = "none" if dark["max_shift"] is None else f"{dark['max_shift']:g}"
    return f"{blur} | +-{dark['stencil']} | {dark['border']} | {shift}"


class RecordingDecoder(RoiHeatmapDecoder):
    """A keypoint decoder that also keeps what it was given (the heatmaps, boxes and whether
    they are logits), for [`Replayed`][Replayed]."""

    def __init__(self, **settings) -> None:
        super().__init__(**settings)
        self.seen: tuple[torch.Tensor, torch.Tensor, bool] | None = None

    def forward(self, heatmaps: torch.Tensor, boxes: torch.Tensor, logits: bool = True) -> torch.Tensor:
        self.seen = (heatmaps.detach().float().cpu(), boxes.detach().float().cpu(), logits)
        return super().forward(heatmaps, boxes, logits)


class Replayed(PoseModel):
    """A trained model whose network ran once: each ``predict_batch`` call is recorded (the
    outputs and the heatmaps its keypoint decoder read), then replayed in the same order
    with another :class:`RoiHeatmapDecoder`. What the library's evaluation gets is what the
    model built with that decoder predicts, without running the network again (the
    evaluation asks for the same batches in the same order)."""

    def __init__(self, checkpoint: str) -> None:
        recorder = RecordingDecoder(**BEFORE)
        model = load_model(checkpoint, keypoint_decoder=recorder)
        super().__init__(model.keypoint_set, model.input_rule, model.outputs, model.flip_test)
        self.needs_boxes = model.needs_boxes
        self.network, self.recorder = model, recorder
        self.calls: list[dict] = []
        self.decoder: RoiHeatmapDecoder | None = None  # None: record
        self.position = 0

    def replay(self, dark: dict) -> None:
        """Decode the recorded calls with ``dark`` from now on."""
        self.decoder, self.position = RoiHeatmapDecoder(**dark), 0

    def predict_batch(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.decoder is None:
            out = self.network.predict_batch(images)
            self.calls.append({"shape": tuple(images.shape), "out": out, "seen": self.recorder.seen,
                               "keypoints": tuple(out["keypoints"].shape)})  # fmt: skip
            return out
        call = self.calls[self.position]
        self.position += 1
        if call["shape"] != tuple(images.shape):
            raise RuntimeError("the evaluation asked for other batches than were recorded")
        heatmaps, boxes, logits = call["seen"]
        keypoints = self.decoder(heatmaps, boxes, logits).view(call["keypoints"])
        return {**call["out"], "keypoints": keypoints}


class Evaluations:
    """Keypoint AP per (checkpoint, boxes, decoder, predictor settings), cached in a JSON file
    so that an interrupted run resumes where it stopped; the network of each (checkpoint,
    boxes) runs once (:class:`Replayed`)."""

    def __init__(self, path: Path, images: Path, ann: Path) -> None:
        self.path, self.images, self.ann = path, images, ann
        self.done: dict[str, dict] = json.loads(path.read_text()) if path.is_file() else {}
        self.replays: dict[tuple, Replayed] = {}

    def ap(self, checkpoint: str, dark: dict, boxes: str | None = None, **predictor) -> float:
        """The keypoint AP of ``checkpoint`` decoded with ``dark`` (and, for a top-down
        model, on ``boxes`` with the ``predictor`` settings)."""
        key = f"{checkpoint}|{_key(dark)}|{boxes}|{_key(predictor)}"
        if key not in self.done:
            source = (checkpoint, boxes, predictor.get("box_score_threshold"))
            if source not in self.replays:
                self.replays[source] = Replayed(checkpoint)
            model = self.replays[source]
            if not model.calls:  # the network runs once, decoded with BEFORE
                before = f"{checkpoint}|{_key(BEFORE)}|{boxes}|{_key(predictor)}"
                self.done[before] = self._evaluate(model, boxes, predictor, before)
            if key not in self.done:
                model.replay(dark)
                self.done[key] = self._evaluate(model, boxes, predictor, key)
        return self.done[key]["AP"]

    def _evaluate(self, model: Replayed, boxes: str | None, predictor: dict, key: str) -> dict:
        started = time.perf_counter()
        kwargs = {"boxes": boxes, "batch_size": 16} if model.needs_boxes else {}
        metrics, _ = evaluate_coco(model, self.images, self.ann, device="cpu", progress=False,
                                   **kwargs, **predictor)  # fmt: skip
        entry = {k: metrics[k] for k in ("AP", "AP50", "AP75")}
        entry["seconds"] = time.perf_counter() - started
        self.done[key] = entry
        self.path.write_text(json.dumps(self.done, indent=1))
        print(f"{entry['AP']:.4f} {entry['seconds']:6.1f}s  {key}", flush=True)
        return entry


def detections_file(work: Path, images: Path, ann: Path) -> Path:
    """The shipped CGANet's person boxes on the held-out split as a COCO detections file
    (``score`` = its box score), predicted once."""
    path = work / "shipped_cganet_detections.json"
    if not path.is_file():
        results = predict_coco(load_model(SHIPPED), images, ann, device="cpu", progress=False)
        rows = [{"image_id": r["image_id"], "category_id": r["category_id"], "bbox": r["bbox"],
                 "score": min(1.0, max(0.0, r["box_score"]))} for r in results]  # fmt: skip
        path.write_text(json.dumps(rows))
    return path


def _training(checkpoint: str) -> str:
    """How a checkpoint was trained, from its run folder's ``metrics.csv``."""
    if checkpoint == SHIPPED:
        return "24 epochs (3000 steps), the shipped checkpoint"
    rows = list(csv.DictReader((Path(checkpoint).parent / "metrics.csv").open()))
    return f"{rows[-1]['epoch']} epoch(s), {rows[-1]['step']} steps"


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def measure(work: Path, runs: dict[str, list[Path]], images: Path, ann: Path) -> dict:
    """Every AP of the measurement (see the module notes), as a JSON-ready dict."""
    evals = Evaluations(work / "evaluations.json", images, ann)
    models = {
        "cganet": [SHIPPED, *map(str, runs[CGANET])],
        "topdown": [str(p) for p in runs[TOPDOWN]],
    }
    everyone = [c for family in models.values() for c in family]

    def score(dark: dict) -> dict:
        aps = {c: evals.ap(c, dark, "gt" if c in models["topdown"] else None) for c in everyone}
        family = {f: _mean([aps[c] for c in cs]) for f, cs in models.items()}
        return {"dark": dark, "AP": aps, "family": family, "mean": _mean(list(family.values()))}

    grid = [{**BEFORE, "blur_kernel": b, "stencil": s} for b in BLURS for s in STENCILS]
    rows = [score(d) for d in grid]
    best = max(rows, key=lambda r: r["mean"])["dark"]
    for border, max_shift in (("clamp", 0.5), ("skip", None), ("clamp", None)):
        rows.append(score({**best, "border": border, "max_shift": max_shift}))
    if not any(r["dark"] == MMPOSE for r in rows):
        rows.append(score(MMPOSE))
    chosen = max(rows, key=lambda r: r["mean"])["dark"]

    detections = str(detections_file(work, images, ann))
    oks = []
    for area in ("box", "crop"):
        for threshold in (None, MMPOSE_KEYPOINT_SCORE):
            predictor = {"box_score_threshold": DETECTOR_BOX_SCORE,
                         "oks_nms_threshold": OKS_NMS_THRESHOLD, "oks_area": area,
                         "keypoint_score_threshold": threshold}  # fmt: skip
            aps = {c: evals.ap(c, chosen, detections, **predictor) for c in models["topdown"]}
            oks.append({"oks_area": area, "keypoint_score_threshold": threshold, "AP": aps,
                        "mean": _mean(list(aps.values()))})  # fmt: skip
    no_nms = {"box_score_threshold": DETECTOR_BOX_SCORE}
    without = {c: evals.ap(c, chosen, detections, **no_nms) for c in models["topdown"]}
    return {
        "models": models,
        "training": {c: _training(c) for c in everyone},
        "dark": rows,
        "dark_best": chosen,
        "oks": oks,
        "no_oks_nms": {"AP": without, "mean": _mean(list(without.values()))},
    }


def _gain_spread(rows_ap: dict, reference_ap: dict) -> tuple[float, float, float]:
    """Mean, smallest and largest per-model AP gain over the reference."""
    gains = [rows_ap[c] - reference_ap[c] for c in rows_ap]
    return _mean(gains), min(gains), max(gains)


def _compare(name: str, a: dict, b: dict) -> str:
    """One sentence: how ``a`` (a row with ``AP`` per model) compares with ``b``, and whether
    the difference is outside the seed spread (the same sign on every model)."""
    mean, lo, hi = _gain_spread(a["AP"], b["AP"])
    clear = lo > 0 or hi < 0
    spread = "the same sign on every model" if clear else "within the seed spread: the sign changes between models"
    return f"{name}: {mean:+.4f} AP on average (per model {lo:+.4f} to {hi:+.4f}; {spread})"


def defaults() -> dict:
    """The library's defaults this measurement chose: DARK's and the Predictor's OKS-NMS
    area and person-score rule."""
    signature = inspect.signature(Predictor).parameters
    return {
        "dark": dict(DARK_DEFAULTS),
        "oks_area": signature["oks_area"].default,
        "keypoint_score_threshold": signature["keypoint_score_threshold"].default,
    }


def table(result: dict, header: str) -> str:
    """The page block: the setting, the two tables and the choices."""
    models = result["models"]
    everyone = [c for family in models.values() for c in family]
    short = {c: ("shipped" if c == SHIPPED else Path(c).parent.name.replace("_tnet_d1w16", ""))
             for c in everyone}  # fmt: skip
    before = next(r for r in result["dark"] if r["dark"] == BEFORE)
    lines = [header, "", "| model | training | AP (before: " + _label(BEFORE).replace(" | ", ", ") + ") |",
             "|---|---|---|"]  # fmt: skip
    lines += [f"| {short[c]} | {result['training'][c]} | {before['AP'][c]:.3f} |" for c in everyone]
    lines += ["", "DARK variants (keypoint AP; top-down models on ground-truth boxes):", "",
              "| blur | stencil | border | max shift | "
              + " | ".join(short[c] for c in everyone)
              + " | CGANet mean | top-down mean | mean | gain (min, max) |",
              "|---" * (len(everyone) + 8) + "|"]  # fmt: skip
    for r in sorted(result["dark"], key=lambda r: -r["mean"]):
        mean_gain, lo, hi = _gain_spread(r["AP"], before["AP"])
        marks = [m for m, d in (("before", BEFORE), ("mmpose", MMPOSE), ("default", dict(DARK_DEFAULTS)))
                 if r["dark"] == d]  # fmt: skip
        label = _label(r["dark"]) + (f" ({', '.join(marks)})" if marks else "")
        lines.append(
            f"| {label} | " + " | ".join(f"{r['AP'][c]:.3f}" for c in everyone)
            + f" | {r['family']['cganet']:.3f} | {r['family']['topdown']:.3f} | {r['mean']:.4f}"
            + f" | {mean_gain:+.4f} ({lo:+.4f}, {hi:+.4f}) |"
        )
    td = models["topdown"]
    lines += ["", f"OKS-NMS ({OKS_NMS_THRESHOLD}) and the person score, top-down models on the "
              f"shipped CGANet's boxes (box score >= {DETECTOR_BOX_SCORE}), decoded with the "
              "best DARK variant:", "",
              "| OKS area | person score | " + " | ".join(short[c] for c in td) + " | mean |",
              "|---" * (len(td) + 3) + "|"]  # fmt: skip
    for r in result["oks"]:
        rule = ("mean of all keypoints" if r["keypoint_score_threshold"] is None
                else f"mean of keypoints > {r['keypoint_score_threshold']}")  # fmt: skip
        area = "detection box" if r["oks_area"] == "box" else "padded crop region"
        lines.append(f"| {area} | {rule} | " + " | ".join(f"{r['AP'][c]:.3f}" for c in td)
                     + f" | {r['mean']:.4f} |")  # fmt: skip
    n = result["no_oks_nms"]
    lines.append("| no OKS-NMS | mean of all keypoints | "
                 + " | ".join(f"{n['AP'][c]:.3f}" for c in td) + f" | {n['mean']:.4f} |")  # fmt: skip

    chosen = defaults()
    dark_rows = {_key(r["dark"]): r for r in result["dark"]}
    best = max(result["dark"], key=lambda r: r["mean"])
    default = dark_rows.get(_key(chosen["dark"]))
    lines += ["", "Choices (the library's defaults now):", ""]
    lines.append(f"- DARK: the best variant by mean AP is {_label(best['dark'])}; "
                 + _compare("against before", best, before)
                 + "; " + _compare("against mmpose's", best, dark_rows[_key(MMPOSE)]) + ".")  # fmt: skip
    if default is None:
        lines.append(f"- The default, {_label(chosen['dark'])}, was not measured here.")
    elif default is best:
        lines.append(f"- The default is that variant, {_label(chosen['dark'])}.")
    else:
        lines.append(f"- The default is {_label(chosen['dark'])}; "
                     + _compare("the best against it", best, default) + ".")  # fmt: skip
    oks_rows = {(r["oks_area"], r["keypoint_score_threshold"]): r for r in result["oks"]}
    reference = oks_rows[("box", None)]
    for key, name in ((("crop", None), "OKS area of the padded crop region"),
                      (("box", MMPOSE_KEYPOINT_SCORE), "person score over keypoints > 0.2"),
                      (("crop", MMPOSE_KEYPOINT_SCORE), "both of mmpose's")):  # fmt: skip
        lines.append("- " + _compare(f"{name} against box area and all keypoints",
                                     oks_rows[key], reference) + ".")  # fmt: skip
    lines.append(f"- The defaults are oks_area={chosen['oks_area']!r} and "
                 f"keypoint_score_threshold={chosen['keypoint_score_threshold']!r}.")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default="runs/decoding", help="data, runs and caches")
    parser.add_argument("--val", type=int, default=300, help="held-out images")
    parser.add_argument("--val-seed", type=int, default=13)
    parser.add_argument("--cganet-epochs", type=int, default=1, help="epochs of each CGANet run")
    parser.add_argument("--topdown-epochs", type=int, default=3, help="epochs of each top-down run")
    parser.add_argument("--cganet-seeds", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--topdown-seeds", type=int, nargs="*", default=[0, 1])
    parser.add_argument("--train-only", action="store_true")
    parser.add_argument("--threads", type=int, default=max(1, os.cpu_count() or 1))
    parser.add_argument("--write-docs", default=None, help="page with the decoding block")
    parser.add_argument("--out", default=None, help="JSON of the raw numbers")
    args = parser.parse_args()
    if args.write_docs:  # a page without the block fails now, not after an hour
        check_block(Path(args.write_docs).read_text(encoding="utf-8"), BLOCK, args.write_docs)
    torch.set_num_threads(args.threads)
    work = Path(args.work)
    data, (images, ann) = make_data(work, args.val, args.val_seed)
    runs = train_runs(work, data, args)
    if args.train_only:
        return
    load_before = os.getloadavg()[0]
    result = measure(work, runs, images, ann)
    command = "python benchmarks/decoding.py " + " ".join(sys.argv[1:])
    header = (
        f"Measured on {machine_description()}, {datetime.date.today()}, load average "
        f"{load_before:.1f} before and {os.getloadavg()[0]:.1f} after (the machine was shared), "
        f"`{command}`. {args.val} held-out synthetic images of 192 px (seed {args.val_seed}); "
        "pycocotools keypoint AP on a 0-1 scale; runs found in the work folder were reused."
    )
    result.update(machine=machine_description(), date=str(datetime.date.today()), command=command,
                  held_out={"num_val": args.val, "seed": args.val_seed})  # fmt: skip
    text = table(result, header)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    if args.write_docs:
        write_block(args.write_docs, BLOCK, text, blank_lines=True)


if __name__ == "__main__":
    main()
