"""Draw docs/images/synthetic_examples.png: synthetic images with their ground truth.

Run:  python docs/scripts/synthetic_examples.py [--out docs/images/synthetic_examples.png]

Shows, for six images of the seed-0 training split, the people's keypoints (COCO colours:
left blue, right orange; occluded ``v=1`` keypoints marked with a red cross) and boxes of
the visible silhouettes. Images are picked to show crowds, overlaps, cut people and
occluders.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from cgalib.data import synthetic_sample  # noqa: E402
from cgalib.viz import draw_people  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/images/synthetic_examples.png")
    parser.add_argument("--size", type=int, default=384)
    args = parser.parse_args()

    picked = []
    for index in range(200):
        image, anns = synthetic_sample(seed=0, index=index, size=args.size)
        v = np.array([a["keypoints"][2::3] for a in anns]).reshape(-1)
        cut = any(a["bbox"][0] <= 0 or a["bbox"][0] + a["bbox"][2] >= args.size for a in anns)
        if len(anns) >= 3 and (v == 1).any() and (cut or len(picked) % 2):
            picked.append((index, image, anns))
        if len(picked) == 6:
            break
    fig, axes = plt.subplots(2, 3, figsize=(9, 6.2))
    for ax, (index, image, anns) in zip(axes.flat, picked):
        draw_people(
            ax, image, anns, keypoint_threshold=0.5, title=f"train #{index}: {len(anns)} people"
        )
        for a in anns:
            k = np.asarray(a["keypoints"], float).reshape(17, 3)
            occ = k[:, 2] == 1
            ax.scatter(k[occ, 0], k[occ, 1], marker="x", s=14, color="red", linewidths=1, zorder=4)
    fig.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    fig.savefig(buf, dpi=80)
    # a 256-colour palette keeps the PNG small enough to commit (< 300 KB)
    Image.open(buf).convert("RGB").quantize(256).save(args.out, optimize=True)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
