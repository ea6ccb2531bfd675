"""Draw docs/images/segmentation_targets.png: what the mask head of a segmentation model
learns from, on one synthetic image.

Run:  python docs/scripts/segmentation_targets.py [--out docs/images/segmentation_targets.png]

For the first image of the seed-0 training split (192 px, the demo's size) that holds
two people or more, one of them at least half the image tall and mostly in view, four
panels: the people's ground-truth masks
(:func:`cgalib.viz.draw_masks`); one person's defective box (each side moved inwards by a
tenth of the box) and its Dichotomy-Extended box, computed from the person's center lines
(:func:`cgalib.postprocess.dichotomy_extend_area`, the paper's setting); the mask target
of the extended box (:func:`cgalib.codecs.roi_mask_targets`, the mask head's output size
of the demo model); and that target pasted back into the image
(:func:`cgalib.codecs.paste_roi_masks`), with its IoU against the person's mask. Nothing
is trained: the figure is the same on every machine.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from cgalib.codecs import center_line_heatmaps, paste_roi_masks, roi_mask_targets  # noqa: E402
from cgalib.codecs.roi_masks import segmentation_to_mask  # noqa: E402
from cgalib.data import synthetic_sample  # noqa: E402
from cgalib.postprocess import dichotomy_extend_area  # noqa: E402
from cgalib.viz import draw_masks, draw_people  # noqa: E402

SIZE, STRIDE, SIDE = 192, 4, 32
"""Image side, the heatmaps' stride, the mask head's output side (2 x the level-0 ROI)."""


def main() -> None:
    """Pick the image, compute the boxes and targets, write the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/images/segmentation_targets.png")
    args = parser.parse_args()
    for index in range(500):
        image, anns = synthetic_sample(seed=0, index=index, size=SIZE, min_height=48)
        tall = [a for a in anns if a["bbox"][3] > SIZE / 2 and a["area"] > 0.3 * a["bbox"][2] * a["bbox"][3]
                and 0 < a["bbox"][0] and a["bbox"][0] + a["bbox"][2] < SIZE]
        if len(anns) >= 2 and tall:
            break
    person = tall[0]
    x, y, w, h = person["bbox"]
    mask = torch.from_numpy(segmentation_to_mask(person["segmentation"], SIZE, SIZE))[None]
    box = torch.tensor([x, y, x + w, y + h]) / STRIDE  # heatmap pixels
    m_x, m_y = center_line_heatmaps(box[None], (SIZE // STRIDE, SIZE // STRIDE))
    coarse = box + torch.tensor([0.1, 0.1, -0.1, -0.1]) * (box[2:] - box[:2]).repeat(2)
    extended = dichotomy_extend_area(coarse[None], m_x, m_y)[0]
    roi = extended[None] * STRIDE  # input pixels
    target = roi_mask_targets(mask.float(), roi, (SIDE, SIDE))
    back = paste_roi_masks(target, roi, (SIZE, SIZE))[0] >= 0.5
    iou = float((back & mask[0]).sum() / (back | mask[0]).sum())

    fig, axes = plt.subplots(2, 2, figsize=(7.6, 7.9))
    ax = axes[0, 0]
    draw_people(ax, image, [{k: v for k, v in a.items() if k != "keypoints"} for a in anns],
                title=f"image {index}: the ground-truth masks")
    draw_masks(ax, anns, (SIZE, SIZE))
    ax = axes[0, 1]
    draw_people(ax, image, [], title="one person: defective box, DEA box")
    draw_masks(ax, [person], (SIZE, SIZE))
    for b, color, style in ((coarse, "red", "--"), (extended, "cyan", "-")):
        x1, y1, x2, y2 = (b * STRIDE).tolist()
        ax.add_patch(plt.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, color=color,
                                   ls=style, lw=1.8))
    bw, bh = (roi[0, 2:] - roi[0, :2]).tolist()
    axes[1, 0].imshow(target[0], cmap="gray", vmin=0, vmax=1, aspect=bh / bw)  # the box's shape
    axes[1, 0].set_title(f"the DEA box's {SIDE}x{SIDE} mask target", fontsize=10)
    axes[1, 1].imshow(np.asarray(image) if not torch.is_tensor(image) else image.permute(1, 2, 0))
    axes[1, 1].imshow(np.ma.masked_where(~back.numpy(), back.numpy()), cmap="cool", alpha=0.6)
    axes[1, 1].set_title(f"pasted back: IoU {iou:.2f} with the mask", fontsize=10)
    x1, y1, x2, y2 = roi[0].tolist()
    pad = 0.15 * (y2 - y1)
    for a in (axes[0, 1], axes[1, 1]):  # zoomed on the person
        a.set_xlim(x1 - pad, x2 + pad)
        a.set_ylim(y2 + pad, y1 - pad)
    for a in axes.flat:
        a.set_axis_off()
    fig.tight_layout()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    print(f"wrote {out} (image {index}, IoU {iou:.3f})")


if __name__ == "__main__":
    main()
