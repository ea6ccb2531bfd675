"""Keypoint decoding and OKS-NMS conventions chosen by COCO keypoint AP on trained models.

Run (trained runs and evaluations in ``--work`` are reused)::

    python benchmarks/decoding.py --work runs/decoding --write-docs docs/benchmarks.md \\
        --out benchmarks/results/decoding_cpu.json

1. **Data.** The demo's synthetic training set (2000 images of 192 px, seed 0, people at
   least 48 px high: the shipped checkpoint's) and a held-out split of ``--val`` images
   generated with another seed (``--val-seed``, 13: neither training nor the shipped
   checkpoint's 50-image check, seed 7, used it).
2. **Models.** The shipped ``cganet_tnet_d1w16.synthetic`` (24 epochs); ``cganet_tnet_d1w16``
   runs for ``--cganet-epochs`` on the seeds of ``--cganet-seeds`` (none by default: on
   the shared 2-core machine a run of a few minutes trains about a hundred steps, too few
   for heatmaps worth decoding); ``topdown_tnet_d1w16`` (128x96 crops) for
   ``--topdown-epochs`` on the seeds of ``--topdown-seeds``, with the recipe of
   ``docs/scripts/topdown_comparison.py`` (the demo's optimiser, its mild augmentation as
   crops, 32 crops a step). Runs train a fixed number of epochs, so a loaded machine
   trains the same models, only slower.
3. **DARK.** Each model is evaluated on the held-out split
   (:func:`cgalib.eval.evaluate_coco`, pycocotools' OKS AP) under variants of
   :class:`cgalib.codecs.RoiHeatmapDecoder`: the Gaussian blur before the log (none, 3, 5,
   7, 11) times the Hessian stencil (+-1, mmpose's +-2); at each model family's best of
   those, the border rule (skip the refinement where the stencil leaves the map, or read
   the edge cell) and the shift limit (half a cell, or none as mmpose); and mmpose's own
   setting. The top-down models see ground-truth boxes here. Each network runs once: its
   heatmaps are recorded and replayed through every decoder (:class:`Replayed`, the same
   numbers as ``create_variant(model, keypoint_decoder=...)``, tested).
4. **OKS-NMS and the person score** (top-down models on the boxes of the shipped CGANet,
   box score >= 0.05, OKS-NMS at 0.9, decoded with the top-down family's best): the OKS
   area of a pose (its detection box, or the padded, aspect-fixed crop region as mmpose)
   and the person score (box score times the mean of all keypoint scores, or of those
   above 0.2 as mmpose).

Every AP is also computed on three disjoint thirds of the images: a difference between
two settings is "within the spread" when it changes sign between models or thirds. The
table, the choices and the library's defaults (read from the builders and the
``Predictor``) go into the ``decoding`` block of ``--write-docs`` with the machine and
date, the raw numbers into ``--out``.
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

from cgalib.codecs import RoiHeatmapDecoder
from cgalib.data import find_split, make_synthetic_coco, read_annotated_image
from cgalib.engine import train
from cgalib.engine.recipes import CPU_DEMO_RECIPE, for_this_cpu
from cgalib.eval import coco_ap, evaluate_coco, load_coco
from cgalib.inference import Predictor
from cgalib.models import PoseModel, load_checkpoint, load_model
from cgalib.models.checkpoint import TRAIN_STATE_FORMAT
from cgalib.registry import create_model
from cgalib.utils import machine_description, page_with_block, write_block

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
    topdown_recipe = {**for_this_cpu(CPU_DEMO_RECIPE), "batch_size": TOPDOWN_BATCH, "augment_kwargs": TOPDOWN_AUGMENT}
    plan = [(TOPDOWN, seed, args.topdown_epochs, TOPDOWN_CROP, topdown_recipe)
            for seed in args.topdown_seeds]  # fmt: skip
    plan += [(CGANET, seed, args.cganet_epochs, TRAIN_DATA["size"], for_this_cpu(CPU_DEMO_RECIPE))
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


def _prose(dark: dict) -> str:
    """A DARK setting in a sentence: "3x3, +-1, skip, 0.5"."""
    return _label(dark).replace(" | ", ", ")


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
        done = json.loads(path.read_text()) if path.is_file() else {}
        self.done: dict[str, dict] = {k: v for k, v in done.items() if "AP_thirds" in v}
        self.replays: dict[tuple, Replayed] = {}
        self.gt = load_coco(ann)
        ids = sorted(self.gt.getImgIds())
        self.thirds = [ids[i::3] for i in range(3)]

    def ap(self, checkpoint: str, dark: dict, boxes: str | None = None, **predictor) -> dict:
        """The keypoint AP of ``checkpoint`` decoded with ``dark`` (and, for a top-down
        model, on ``boxes`` with the ``predictor`` settings): ``AP``, ``AP50``, ``AP75`` and
        ``AP_thirds`` (the AP on three disjoint thirds of the images)."""
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
        return self.done[key]

    def _evaluate(self, model: Replayed, boxes: str | None, predictor: dict, key: str) -> dict:
        started = time.perf_counter()
        kwargs = {"boxes": boxes, "batch_size": 16} if model.needs_boxes else {}
        metrics, results = evaluate_coco(model, self.images, self.ann, device="cpu",
                                         progress=False, **kwargs, **predictor)  # fmt: skip
        entry = {k: metrics[k] for k in ("AP", "AP50", "AP75")}
        # the same results scored on three disjoint thirds of the images: the spread of a
        # difference between settings within one model
        entry["AP_thirds"] = [coco_ap(self.gt, results, image_ids=ids)["AP"] for ids in self.thirds]
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
        gt = load_coco(ann)
        predictor = Predictor(load_model(SHIPPED), device="cpu")
        rows = []
        for image_id in sorted(gt.getImgIds()):
            image = read_annotated_image(images, gt.imgs[image_id])
            rows += [{"image_id": image_id, "category_id": gt.category_id, "bbox": p["bbox"],
                      "score": p["box_score"]} for p in predictor.predict(image)]  # fmt: skip
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


FAMILIES = {"cganet": "CGANet", "topdown": "top-down"}


def measure(work: Path, runs: dict[str, list[Path]], images: Path, ann: Path) -> dict:
    """Every AP of the measurement (see the module notes), as a JSON-ready dict."""
    evals = Evaluations(work / "evaluations.json", images, ann)
    models = {
        "cganet": [SHIPPED, *map(str, runs[CGANET])],
        "topdown": [str(p) for p in runs[TOPDOWN]],
    }
    everyone = [c for family in models.values() for c in family]

    def row(settings: dict, boxes: str | None = None, **predictor) -> dict:
        found = {c: evals.ap(c, settings, boxes or ("gt" if c in models["topdown"] else None),
                             **predictor)  # fmt: skip
                 for c in (models["topdown"] if boxes else everyone)}
        aps = {c: e["AP"] for c, e in found.items()}
        family = {f: _mean([aps[c] for c in cs if c in aps]) for f, cs in models.items()}
        return {"AP": aps, "thirds": {c: e["AP_thirds"] for c, e in found.items()},
                "family": family}  # fmt: skip

    rows = [{"dark": d, **row(d)} for d in
            [{**BEFORE, "blur_kernel": b, "stencil": s} for b in BLURS for s in STENCILS]]  # fmt: skip
    for family in models:  # the border rule and the shift limit at each family's best
        best = max(rows, key=lambda r: r["family"][family])["dark"]
        for border, max_shift in (("clamp", 0.5), ("skip", None), ("clamp", None)):
            dark = {**best, "border": border, "max_shift": max_shift}
            if not any(r["dark"] == dark for r in rows):
                rows.append({"dark": dark, **row(dark)})
    if not any(r["dark"] == MMPOSE for r in rows):
        rows.append({"dark": MMPOSE, **row(MMPOSE)})
    best = {f: max(rows, key=lambda r: r["family"][f])["dark"] for f in models}

    detections = str(detections_file(work, images, ann))
    oks = []
    for area in ("box", "crop"):
        for threshold in (None, MMPOSE_KEYPOINT_SCORE):
            predictor = {"box_score_threshold": DETECTOR_BOX_SCORE,
                         "oks_nms_threshold": OKS_NMS_THRESHOLD, "oks_area": area,
                         "keypoint_score_threshold": threshold}  # fmt: skip
            oks.append({"oks_area": area, "keypoint_score_threshold": threshold,
                        **row(best["topdown"], detections, **predictor)})  # fmt: skip
    without = row(best["topdown"], detections, box_score_threshold=DETECTOR_BOX_SCORE)
    return {
        "models": models,
        "training": {c: _training(c) for c in everyone},
        "dark": rows,
        "dark_best": best,
        "oks": oks,
        "no_oks_nms": without,
    }


def _gains(a: dict, b: dict) -> tuple[float, float, float, bool]:
    """``a`` against ``b`` (rows with ``AP`` and ``thirds`` per model): the mean gain over
    the models, the smallest and largest per-model gain, and whether the gain has one sign
    on every model and every third of the images (outside the spread)."""
    models = list(a["AP"])
    gains = [a["AP"][c] - b["AP"][c] for c in models]
    parts = [x - y for c in models for x, y in zip(a["thirds"][c], b["thirds"][c])]
    clear = all(g > 0 for g in parts + gains) or all(g < 0 for g in parts + gains)
    return _mean(gains), min(gains), max(gains), clear


def _restrict(r: dict, models: list[str]) -> dict:
    return {"AP": {c: r["AP"][c] for c in models}, "thirds": {c: r["thirds"][c] for c in models}}


def _compare(name: str, a: dict, b: dict) -> str:
    """One clause: how ``a`` compares with ``b`` and whether it is outside the spread."""
    mean, lo, hi, clear = _gains(a, b)
    spread = ("one sign on every model and every third of the images" if clear
              else "within the spread: the sign changes between models or thirds of the images")  # fmt: skip
    return f"{name} {mean:+.4f} AP (per model {lo:+.4f} to {hi:+.4f}; {spread})"


def defaults() -> dict:
    """What the library decodes with now: each family's builder default decoder, and the
    Predictor's OKS-NMS area and person-score rule."""
    signature = inspect.signature(Predictor).parameters
    cganet = create_model(CGANET, input_size=TRAIN_DATA["size"])
    return {
        "cganet": cganet.postprocess.keypoint_decoder.to_dict(),
        "topdown": create_model(TOPDOWN).keypoint_decoder.to_dict(),
        "oks_area": signature["oks_area"].default,
        "keypoint_score_threshold": signature["keypoint_score_threshold"].default,
    }


def _dark(settings: dict) -> dict:
    return {k: v for k, v in settings.items() if k != "refine"}


def table(result: dict, header: str, now: dict) -> str:
    """The page block: the setting, the tables and the choices (``now``: :func:`defaults`)."""
    models = result["models"]
    everyone = [c for family in models.values() for c in family]
    short = {c: ("shipped" if c == SHIPPED else Path(c).parent.name.replace("_tnet_d1w16", ""))
             for c in everyone}  # fmt: skip
    rows = {_key(r["dark"]): r for r in result["dark"]}
    before, mmpose = rows[_key(BEFORE)], rows[_key(MMPOSE)]
    lines = [header, "", "| model | training | AP (before) |", "|---|---|---|"]
    lines += [f"| {short[c]} | {result['training'][c]} | {before['AP'][c]:.3f} |" for c in everyone]
    lines += ["", "DARK variants, keypoint AP (top-down models on ground-truth boxes), best first "
              "by the mean of the two families' means:", "",
              "| blur | stencil | border | max shift | " + " | ".join(short[c] for c in everyone)
              + " | CGANet | top-down |", "|---" * (len(everyone) + 6) + "|"]  # fmt: skip
    marks = {"before": BEFORE, "mmpose": MMPOSE, "CGANet default": _dark(now["cganet"]),
             "top-down default": _dark(now["topdown"])}
    for r in sorted(result["dark"], key=lambda r: -_mean(list(r["family"].values()))):
        tags = [m for m, d in marks.items() if r["dark"] == d]
        label = _label(r["dark"]) + (f" ({', '.join(tags)})" if tags else "")
        lines.append(f"| {label} | " + " | ".join(f"{r['AP'][c]:.3f}" for c in everyone)
                     + f" | {r['family']['cganet']:.3f} | {r['family']['topdown']:.3f} |")  # fmt: skip
    td = models["topdown"]
    lines += ["", f"OKS-NMS (threshold {OKS_NMS_THRESHOLD}) and the person score: top-down "
              f"models on the shipped CGANet's boxes (box score >= {DETECTOR_BOX_SCORE}), "
              "decoded with the top-down family's best DARK variant:", "",
              "| OKS area | person score | " + " | ".join(short[c] for c in td) + " | mean |",
              "|---" * (len(td) + 3) + "|"]  # fmt: skip
    for r in [*result["oks"], {**result["no_oks_nms"], "oks_area": None}]:
        rule = ("mean of all keypoints" if r.get("keypoint_score_threshold") is None
                else f"mean of keypoints > {r['keypoint_score_threshold']}")  # fmt: skip
        area = {"box": "detection box", "crop": "padded crop region", None: "no OKS-NMS"}
        lines.append(f"| {area[r['oks_area']]} | {rule} | "
                     + " | ".join(f"{r['AP'][c]:.3f}" for c in td)
                     + f" | {_mean(list(r['AP'].values())):.4f} |")  # fmt: skip

    lines += ["", "Choices (the library's defaults now; \"within the spread\" means the "
              "difference changes sign between models or between thirds of the images):", ""]
    for family, name in FAMILIES.items():
        ms = models[family]
        best = rows[_key(result["dark_best"][family])]
        default = rows.get(_key(_dark(now[family])))
        line = f"- DARK, {name} ({len(ms)} model{'s' * (len(ms) > 1)}): best {_prose(best['dark'])}"
        if best is before:
            line += " (before itself); "
        else:
            line += ", " + _compare("against before", _restrict(best, ms), _restrict(before, ms)) + "; "
        line += _compare("against mmpose's", _restrict(best, ms), _restrict(mmpose, ms)) + ". "
        if default is None:
            line += f"The default, {_prose(_dark(now[family]))}, was not measured here."
        elif default is best:
            line += "The default is that variant."
        else:
            line += (f"The default is {_prose(default['dark'])}: "
                     + _compare("the best against it", _restrict(best, ms), _restrict(default, ms))
                     + ".")  # fmt: skip
        lines.append(line)
    oks = {(r["oks_area"], r["keypoint_score_threshold"]): r for r in result["oks"]}
    reference = oks[("box", None)]
    for key, name in ((("crop", None), "OKS area of the padded crop region"),
                      (("box", MMPOSE_KEYPOINT_SCORE), "person score over keypoints > 0.2"),
                      (("crop", MMPOSE_KEYPOINT_SCORE), "both of mmpose's")):  # fmt: skip
        lines.append("- " + _compare(f"{name}, against the box area and all keypoints:",
                                     oks[key], reference) + ".")  # fmt: skip
    lines.append(f"- OKS-NMS defaults: oks_area={now['oks_area']!r}, "
                 f"keypoint_score_threshold={now['keypoint_score_threshold']!r}.")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default="runs/decoding", help="data, runs and caches")
    parser.add_argument("--val", type=int, default=300, help="held-out images")
    parser.add_argument("--val-seed", type=int, default=13)
    parser.add_argument("--cganet-epochs", type=int, default=1, help="epochs of each CGANet run")
    parser.add_argument("--topdown-epochs", type=int, default=3, help="epochs of each top-down run")
    parser.add_argument("--cganet-seeds", type=int, nargs="*", default=[])
    parser.add_argument("--topdown-seeds", type=int, nargs="*", default=[0, 1])
    parser.add_argument("--train-only", action="store_true")
    parser.add_argument("--threads", type=int, default=max(1, os.cpu_count() or 1))
    parser.add_argument(  # a page without the block fails now, not after an hour
        "--write-docs", type=page_with_block(BLOCK), help="page with the decoding block"
    )
    parser.add_argument("--out", default=None, help="JSON of the raw numbers")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    work = Path(args.work)
    data, (images, ann) = make_data(work, args.val, args.val_seed)
    runs = train_runs(work, data, args)
    if args.train_only:
        return
    result = measure(work, runs, images, ann)
    command = "python benchmarks/decoding.py " + " ".join(sys.argv[1:])
    header = (
        f"Measured on {machine_description()}, {datetime.date.today()}: `{command}`. "
        f"{args.val} held-out synthetic images of 192 px (seed {args.val_seed}); pycocotools "
        "keypoint AP on a 0-1 scale. Trained runs and evaluations found in the work folder "
        "are reused (an AP does not depend on the machine's load)."
    )
    result.update(machine=machine_description(), date=str(datetime.date.today()), command=command,
                  held_out={"num_val": args.val, "seed": args.val_seed})  # fmt: skip
    text = table(result, header, defaults())
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    if args.write_docs:
        write_block(args.write_docs, BLOCK, text, blank_lines=True)


if __name__ == "__main__":
    main()
