"""Train the checkpoint shipped with cgalib, measure it, and write its numbers into the docs.

Run:  python docs/scripts/shipped_checkpoint.py [--epochs 24] [--work runs/shipped] [--evaluate-only]

1. Writes a synthetic crowd set (seed 0: 2000 training images of 192 px with people of every
   height the generator draws there, 24 to 182 px) to ``WORK/data`` unless it is there.
2. Trains ``cganet_tnet_d1w16`` with the demo's CPU recipe
   (:data:`cgalib.engine.recipes.CPU_DEMO_RECIPE`, seed 0, 192 px) and the zoom of
   :data:`cgalib.engine.recipes.SCALES_AUGMENT` for a fixed number of epochs, so the result
   does not depend on the machine's speed (an interrupted run resumes).
3. Copies the weights to ``cgalib/weights/cganet_tnet_d1w16.synthetic.pt`` (package data,
   loadable as ``cgalib.load_model("cganet_tnet_d1w16.synthetic")``).
4. Evaluates them on a held-out split generated with another seed
   (:data:`cgalib.models.pretrained.HELD_OUT`, which ``tests/models/test_pretrained.py``
   regenerates), and on pictures of two more unseen seeds at 192 and 384 px (the generator's
   defaults, people from 24 px to 95% of the picture) with the evaluation's defaults (the
   input side picked per picture) and at fixed sides, and writes
   ``cgalib/weights/cganet_tnet_d1w16.synthetic.json`` (the metrics, the training command,
   machine and date).
5. Draws the model's predictions on held-out images to ``docs/images/shipped_predictions.png``
   and writes the numbers between the ``shipped-model`` markers of README.md and
   docs/quickstart.md, and the unseen-seed table between the ``shipped-scales`` markers of
   docs/quickstart.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import warnings
from pathlib import Path

import torch

from cgalib.data import SYNTHETIC_DESCRIPTION, CocoKeypoints, find_split, make_synthetic_coco
from cgalib.engine import train
from cgalib.engine.recipes import CPU_DEMO_RECIPE, SCALES_AUGMENT, for_this_cpu
from cgalib.engine.schedule import PAPER_MILESTONES
from cgalib.eval import evaluate_coco
from cgalib.inference import Predictor, SyntheticWeightsWarning
from cgalib.models import load_model
from cgalib.models.pretrained import HELD_OUT, pretrained_path
from cgalib.utils import write_block
from cgalib.utils.machine import machine_description
from cgalib.viz import save_prediction_grid

REPO = Path(__file__).resolve().parents[2]

NAME = "cganet_tnet_d1w16.synthetic"
MODEL = "cganet_tnet_d1w16"
SIZE = 192
DATA = {"num_train": 2000, "num_val": 100, "seed": 0, "size": SIZE, "min_height": 24}
"""The training set: the demo's, with people down to 24 px (the generator's default)."""
UNSEEN_SEEDS = (11, 12)
UNSEEN_SIZES = (192, 384)
FIXED_SIDES = (192, 288, 384)
"""Pictures of seeds training and the held-out split never used, at two picture sizes (100
each, the generator's defaults), scored at the evaluation's default and at these sides."""

warnings.filterwarnings("ignore", category=SyntheticWeightsWarning)  # synthetic pictures


def _recipe() -> dict:
    """The training keyword arguments: the demo recipe with the weight decay and learning-rate
    drops it had when the shipped weights were trained (1e-4 and the paper's; its own were
    measured afterwards) and the wider zoom."""
    return {
        **for_this_cpu(CPU_DEMO_RECIPE),
        "weight_decay": 1e-4,
        "lr_milestones": PAPER_MILESTONES,
        "augment_kwargs": SCALES_AUGMENT,
    }


def _recorded_recipe() -> dict:
    """The training recipe as the JSON records it (the augmentation by value)."""
    recipe = _recipe()
    return {**recipe, "augment_kwargs": dict(recipe["augment_kwargs"])}


def _drops_words(milestones: list[float]) -> str:
    """The recorded learning-rate drops in words."""
    if tuple(milestones) == PAPER_MILESTONES:
        return "the paper's learning-rate drops"
    return f"learning-rate drops at {', '.join(f'{m:g}' for m in milestones)}"


def _train(work: Path, epochs: int) -> Path:
    data = work / "data"
    ann = data / "annotations" / "person_keypoints_val.json"
    if not ann.is_file() or json.loads(ann.read_text())["info"]["params"]["min_height"] != DATA[
        "min_height"
    ]:
        make_synthetic_coco(data, progress=True, **DATA)
    run = work / "run"
    return train(
        MODEL,
        data,
        run,
        input_size=SIZE,
        device="cpu",
        epochs=epochs,
        seed=0,
        resume=(run / "last.pt").is_file(),
        **_recipe(),
    )


def _unseen(work: Path, model) -> list[dict]:
    """AP on the unseen seeds' pictures: at the evaluation's default and at fixed sides."""
    rows = []
    for size in UNSEEN_SIZES:
        for seed in UNSEEN_SEEDS:
            root = work / f"unseen_{seed}_{size}"
            if not (root / "annotations" / "person_keypoints_val.json").is_file():
                make_synthetic_coco(root, 0, 100, seed=seed, size=size)
            split = find_split(root, "val")
            row = {"seed": seed, "size": size}
            for side in (None, *FIXED_SIDES):
                metrics, _ = evaluate_coco(model, *split, input_size=side, device="cpu")
                row["default" if side is None else str(side)] = round(metrics["AP"], 4)
            rows.append(row)
            print(row, flush=True)
    return rows


def _scales_table(rows: list[dict]) -> str:
    sides = " | ".join(f"input {s}" for s in FIXED_SIDES)
    lines = [
        f"| pictures | seed | AP, evaluation defaults | {sides} |",
        "|---|---|---|" + "---|" * len(FIXED_SIDES),
    ]
    for r in rows:
        fixed = " | ".join(f"{r[str(s)]:.3f}" for s in FIXED_SIDES)
        lines.append(f"| {r['size']} px | {r['seed']} | **{r['default']:.3f}** | {fixed} |")
    return "\n".join(lines)


def _held_out(work: Path) -> tuple[Path, Path]:
    root = work / "held_out"
    if not (root / "annotations" / "person_keypoints_val.json").is_file():
        make_synthetic_coco(root, **HELD_OUT)
    return find_split(root, "val")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=24)
    parser.add_argument("--work", default="runs/shipped", help="data, run and held-out split")
    parser.add_argument(
        "--evaluate-only",
        action="store_true",
        help="measure the shipped weights again with the current code (e.g. after a change "
        "of decoding) and rewrite the metrics, picture and pages; no training",
    )
    args = parser.parse_args()
    torch.set_num_threads(2)
    work = Path(args.work)
    target = pretrained_path(NAME, must_exist=False)
    date = datetime.date.today().isoformat()
    if args.evaluate_only:
        info = json.loads(target.with_suffix(".json").read_text())
    else:
        model_pt = _train(work, args.epochs)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(model_pt, target)
        info = {
            "name": NAME,
            "model": MODEL,
            "input_size": SIZE,
            "training": {
                "data": DATA,
                "epochs": args.epochs,
                "recipe": _recorded_recipe(),
                "seed": 0,
            },
            "held_out": dict(HELD_OUT),
            "command": f"python docs/scripts/shipped_checkpoint.py --epochs {args.epochs}",
            "machine": machine_description(),
            "date": date,
        }
    info["trained_on"] = SYNTHETIC_DESCRIPTION  # what `cgalib predict` warns about
    model = load_model(NAME)
    images_dir, ann_file = _held_out(work)
    metrics, _ = evaluate_coco(model, images_dir, ann_file, input_size=SIZE, device="cpu")
    info["metrics"] = {k: round(v, 4) for k, v in metrics.items()}
    info["unseen"] = _unseen(work, model)
    info["evaluated"] = date
    target.with_suffix(".json").write_text(json.dumps(info, indent=2) + "\n")

    ds = CocoKeypoints(images_dir, ann_file)
    picks = [i for i in range(len(ds)) if ds.coco.getAnnIds(imgIds=ds.ids[i], iscrowd=False)][:6]
    images = [ds[i][0] for i in picks]
    people = Predictor(model, device="cpu", input_size=SIZE).predict(images)
    gts = [ds.coco.loadAnns(ds.coco.getAnnIds(imgIds=ds.ids[i], iscrowd=False)) for i in picks]
    picture = REPO / "docs" / "images" / "shipped_predictions.png"
    save_prediction_grid(picture, images, people, gts, score_threshold=0.3)

    ap = metrics["AP"]
    epochs = info["training"]["epochs"]
    body = (
        f"The shipped `{NAME}` scores **{ap:.3f} keypoint AP** (AP50 {metrics['AP50']:.3f}, "
        f"AP75 {metrics['AP75']:.3f}; pycocotools OKS AP on a 0-1 scale, measured {date}) on "
        f"{HELD_OUT['num_val']} held-out synthetic images it was not trained on "
        f"(seed {HELD_OUT['seed']}, people {HELD_OUT['min_height']} px tall and up). It was "
        f"trained by `{info['command']}` ({epochs} epochs of the demo recipe with a weight "
        f"decay of {info['training']['recipe']['weight_decay']:g}, "
        f"{_drops_words(info['training']['recipe']['lr_milestones'])} and a zoom of "
        f"{'-'.join(str(z) for z in info['training']['recipe']['augment_kwargs']['scale'])}, on "
        f"pictures with people {info['training']['data']['min_height']} px tall and up, on "
        f"{info['machine']}, {info['date']}). It knows synthetic people only; for real photos "
        "train on COCO (`cgalib train`)."
    )
    for page in (REPO / "README.md", REPO / "docs" / "quickstart.md"):
        write_block(page, "shipped-model", body)
    scales = (
        f"Measured {date} on {machine_description()}; `python "
        "docs/scripts/shipped_checkpoint.py --evaluate-only` measures again. "
        "Keypoint AP (pycocotools) on 100 pictures of each unseen seed, people from 24 px to "
        "95% of the picture.\n\n" + _scales_table(info["unseen"])
    )
    write_block(REPO / "docs" / "quickstart.md", "shipped-scales", scales)
    print(body)
    print(f"wrote {target.with_suffix('.json')}, {picture}")


if __name__ == "__main__":
    main()
