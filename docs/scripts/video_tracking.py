"""Measure tracking and smoothing on the synthetic moving-crowd clip; update docs/video.md.

Run:  python docs/scripts/video_tracking.py --checkpoint demo/run/model.pt [--input-size 192]

(``demo/run/model.pt`` is what ``make demo`` writes; the page's numbers come from the shipped
``cgalib/weights/cganet_tnet_d1w16.synthetic.pt``.)

Renders :func:`cgalib.video.synthetic_clip` (seed 0: 75 frames, 320x240, 25 fps; two
people cross, one leaves and comes back, one approaches), runs
:func:`cgalib.video.predict_video` on it with the checkpoint (tracking and One-Euro
smoothing at their defaults), and measures against the clip's ground truth:

- CLEAR-MOT (MOTA, MOTP, identity switches, fragmentations) and identity
  precision/recall/F1 (:func:`tracking_scores`, py-motmetrics' conventions);
- keypoint jitter (:func:`keypoint_jitter`) of the ground-truth paths, of the raw
  predictions and of the smoothed ones, and the smoothing lag (:func:`smoothing_lag`);
- the same jitter and lag on the ground truth with 2 px of Gaussian noise added, a
  controlled version of the experiment that does not depend on the model;
- both again for a few other smoothing settings, re-smoothing the same raw predictions.

Writes the table into the ``video-tracking`` block of docs/video.md
(:func:`cgalib.utils.write_block`; with the machine, the date and this command) and an
animated GIF of the annotated video to docs/images/.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from cgalib.inference import Predictor, SyntheticWeightsWarning
from cgalib.models import load_model
from cgalib.utils import check_block, write_block
from cgalib.utils.machine import machine_description
from cgalib.video import (
    VideoReader,
    keypoint_jitter,
    load_video_results,
    predict_video,
    smooth_poses,
    smoothing_lag,
    synthetic_clip,
    tracking_scores,
)

BLOCK = "video-tracking"
"""The block of the page the table is written into (``<!-- video-tracking:start -->``)."""
KEYPOINT_THRESHOLD = 0.2  # the smoother's default: keypoints below it are not filtered
SWEEP = ((0.5, 0.3), (1.0, 0.3), (1.0, 1.0), (1.0, 3.0), (2.0, 1.0))  # (min_cutoff, beta)


warnings.filterwarnings("ignore", category=SyntheticWeightsWarning)  # synthetic pictures

def _raw(frames: list[list[dict]]) -> list[list[dict]]:
    """The people as the model gave them (``keypoints_raw``, ``bbox_raw``), tracked."""
    return [[{**p, "keypoints": p["keypoints_raw"], "bbox": p["bbox_raw"]} for p in f]
            for f in frames]  # fmt: skip


def _noisy_truth(people: list[list[dict]], sigma: float, seed: int = 0) -> list[list[dict]]:
    """Ground truth with Gaussian noise on the labelled keypoints (score 0.9, else 0)."""
    rng = np.random.default_rng(seed)
    out = []
    for frame in people:
        noisy = []
        for p in frame:
            k = np.asarray(p["keypoints"], float).reshape(-1, 3)
            labelled = k[:, 2] > 0
            k[:, :2] += rng.normal(0, sigma, k[:, :2].shape) * labelled[:, None]
            k[:, 2] = np.where(labelled, 0.9, 0.0)
            noisy.append({**p, "keypoints": k.ravel().tolist()})
        out.append(noisy)
    return out


def _checkpoint(path: str) -> str:
    """The checkpoint's file, architecture and content hash, to tell checkpoints apart."""
    config = torch.load(path, map_location="cpu", weights_only=True).get("build_config") or {}
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
    kwargs = ", ".join(f"{k}={v!r}" for k, v in (config.get("kwargs") or {}).items())
    return f"`{path}` (`{config.get('name', '?')}({kwargs})`, sha256 `{digest}`)"


def _gif(video: Path, out: Path, start: int, stop: int, step: int, width: int) -> None:
    with VideoReader(video) as reader:
        frames = [f.image.permute(1, 2, 0).numpy() for f in reader.frames()][start:stop:step]
    h = round(frames[0].shape[0] * width / frames[0].shape[1])
    images = [Image.fromarray(f).resize((width, h), Image.LANCZOS) for f in frames]
    palette = images[len(images) // 2].quantize(64)  # 64 colours, no dithering: ~250 kB
    images = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]
    out.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(out, save_all=True, append_images=images[1:], duration=80 * step, loop=0,
                   optimize=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True, help="a model.pt (cgalib.load_model)")
    parser.add_argument("--input-size", type=int, default=192)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", default=None, help="folder for the clip and the results")
    parser.add_argument("--doc", default="docs/video.md")
    parser.add_argument("--gif", default="docs/images/video_tracking.gif")
    args = parser.parse_args()
    doc = Path(args.doc)
    try:  # a page without the block fails now, not after the run
        check_block(doc.read_text(encoding="utf-8"), BLOCK, str(doc))
    except (OSError, ValueError) as err:
        raise SystemExit(str(err)) from None

    work = Path(args.work or tempfile.mkdtemp(prefix="cgalib-video-"))
    clip = synthetic_clip(seed=args.seed)
    video = clip.write(work / "crowd.mp4")
    predictor = Predictor(load_model(args.checkpoint), device=args.device,
                          input_size=args.input_size)  # fmt: skip
    start = time.perf_counter()
    results = load_video_results(predict_video(predictor, video, work))
    seconds = time.perf_counter() - start
    smoothed = [f["people"] for f in results["frames"]]
    raw = _raw(smoothed)
    truth = clip.people
    times = [f["time"] for f in results["frames"]]

    scores = tracking_scores(raw, truth)
    jitter = {
        "truth": keypoint_jitter(truth, min_score=0.5),
        "raw": keypoint_jitter(raw, min_score=KEYPOINT_THRESHOLD),
        "smoothed": keypoint_jitter(smoothed, min_score=KEYPOINT_THRESHOLD),
    }
    lag = smoothing_lag(smoothed, raw, min_score=KEYPOINT_THRESHOLD)
    noisy = _noisy_truth(truth, sigma=2.0)
    noisy_smoothed = smooth_poses(noisy, times)
    noisy_jitter = (keypoint_jitter(noisy, 0.5), keypoint_jitter(noisy_smoothed, 0.5))
    noisy_lag = smoothing_lag(noisy_smoothed, truth, min_score=0.5)
    gt_ids = {p["track_id"] for f in truth for p in f}
    pred_ids = {p["track_id"] for f in raw for p in f}

    def j(x: float) -> str:
        return f"{1000 * x:.1f}"

    sweep = []  # other settings, re-smoothing the same raw predictions (no model run)
    for min_cutoff, beta in SWEEP:
        kw = {"min_cutoff": min_cutoff, "beta": beta}
        model_s, noisy_s = smooth_poses(raw, times, **kw), smooth_poses(noisy, times, **kw)
        sweep.append(
            f"| {min_cutoff:g} | {beta:g} "
            f"| {j(keypoint_jitter(model_s, KEYPOINT_THRESHOLD))} "
            f"| {smoothing_lag(model_s, raw, min_score=KEYPOINT_THRESHOLD):.1f} "
            f"| {j(keypoint_jitter(noisy_s, 0.5))} "
            f"| {smoothing_lag(noisy_s, truth, min_score=0.5):.1f} |"
        )
    sweep_rows = "\n".join(sweep)

    w, h = clip.size
    table = f"""Measured on {machine_description()} ({args.device}), {datetime.date.today().isoformat()}, with
`python docs/scripts/video_tracking.py --checkpoint {args.checkpoint} --input-size {args.input_size}`.
Checkpoint: {_checkpoint(args.checkpoint)}, run at {args.input_size} px.
Clip: `synthetic_clip(seed={args.seed})`, {len(clip.frames)} frames of {w}×{h} at
{clip.fps:g} fps, {len(gt_ids)} people; the leaving person is wholly outside in frames
{clip.out_frames[0]}–{clip.out_frames[-1]}. Defaults throughout: `PoseTracker()`
(patience 10), `PoseSmoother()` (min_cutoff 1 Hz, beta 1). The whole run (decoding,
prediction, tracking, smoothing, drawing, encoding) took {seconds:.1f} s,
{len(clip.frames) / seconds:.1f} frames/s.

| tracking (model, against the ground-truth identities) | value |
|---|---|
| identities / tracks started | {len(gt_ids)} / {len(pred_ids)} |
| ID switches / fragmentations | {scores.id_switches} / {scores.fragmentations} |
| MOTA | {scores.mota:.3f} |
| MOTP (mean 1 − OKS of the matches) | {scores.motp:.3f} |
| identity precision IDP / recall IDR / IDF1 | {scores.idp:.3f} / {scores.idr:.3f} / {scores.idf1:.3f} |
| matched / missed / false positives (gate OKS ≥ 0.5) | {scores.matches} / {scores.misses} / {scores.false_positives} |

| keypoint jitter (‰ of the person's height per frame²) | raw | smoothed | lag (frames) |
|---|---|---|---|
| ground-truth paths | {j(jitter["truth"])} | — | — |
| model predictions | {j(jitter["raw"])} | {j(jitter["smoothed"])} | {lag:.1f} (behind the raw predictions) |
| ground truth + 2 px noise | {j(noisy_jitter[0])} | {j(noisy_jitter[1])} | {noisy_lag:.1f} (behind the true paths) |

| `min_cutoff` (Hz) | `beta` | jitter, model | lag, model | jitter, truth + noise | lag, truth + noise |
|---|---|---|---|---|---|
{sweep_rows}"""
    write_block(doc, BLOCK, table)
    _gif(work / results["annotated_video"], Path(args.gif), start=20, stop=60, step=2, width=256)
    print(table)
    print(f"wrote {doc} and {args.gif} ({os.path.getsize(args.gif) / 1e3:.0f} kB); work: {work}")


if __name__ == "__main__":
    main()
