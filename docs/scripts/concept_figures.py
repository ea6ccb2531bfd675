"""Draw the figures of docs/concepts.md with the library itself.

Run:  python docs/scripts/concept_figures.py [--out-dir docs/images]

Writes, from synthetic images of the seed-0 training split at 256 px:

- ``concept_center_lines.png``: center heatmap, ``M_x`` and ``M_y`` targets of one image
  (:func:`cgalib.codecs.center_targets`, :func:`cgalib.codecs.center_line_heatmaps`);
- ``concept_dea.png``: Dichotomy Extended Area on a jittered box, with the center-line
  profile and the bisection path of the top and bottom sides
  (:func:`cgalib.postprocess.dichotomy_extend_area`, the path from
  :func:`cgalib.codecs.dichotomy_extend_path`, :func:`~cgalib.postprocess.fixed_extend_area`);
- ``concept_ambiguity.png``: Ambiguity Alleviation removing a duplicate center peak
  (:func:`cgalib.postprocess.alleviate_ambiguity`, :func:`~cgalib.postprocess.decode_centers`);
- ``concept_tnet_pyramid.png``: the four TNet levels of an image, from the trained backbone
  of the shipped ``cganet_tnet_d1w16.synthetic`` (:class:`cgalib.TNet`);
- ``concept_gfm.png``: the trained GFM channel weights ``F_g`` of that backbone's first
  stage for several images.

The center lines are ground-truth lines standing in for a trained Center Line Branch.
Every PNG is palette-quantised to stay well below 200 KB.
"""

from __future__ import annotations

import argparse
import io
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from cgalib import load_model  # noqa: E402
from cgalib.codecs import (  # noqa: E402
    center_line_heatmaps,
    center_radius,
    center_targets,
    dichotomy_extend_path,
    draw_gaussian,
)
from cgalib.data import synthetic_sample  # noqa: E402
from cgalib.postprocess import (  # noqa: E402
    alleviate_ambiguity,
    decode_centers,
    dichotomy_extend_area,
    fixed_extend_area,
)
from cgalib.utils import to_float_image, to_rgb_tensor  # noqa: E402

SIZE = 256
STRIDE = 4
HM = SIZE // STRIDE
EXTENT = (0, SIZE, SIZE, 0)  # heatmap pixel j covers input pixels [4j, 4j + 4)
SHIPPED = "cganet_tnet_d1w16.synthetic"
"""The shipped checkpoint whose trained backbone the TNet and GFM figures read."""


def save(fig, path: Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, dpi=80)
    plt.close(fig)
    Image.open(buf).convert("RGB").quantize(256).save(path, optimize=True)
    print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


def boxes_of(anns: list[dict]) -> torch.Tensor:
    """COCO xywh boxes -> xyxy, input pixels."""
    return torch.tensor([[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in anns)])


def rect(ax, box, color, ls="-", lw=1.8, label=None, scale=STRIDE) -> None:
    x1, y1, x2, y2 = (float(v) * scale for v in box)
    ax.add_patch(
        plt.Rectangle(
            (x1, y1), x2 - x1, y2 - y1, fill=False, color=color, ls=ls, lw=lw, label=label
        )
    )


def pick_crowd() -> tuple[int, Image.Image, list[dict]]:
    for index in range(200):
        image, anns = synthetic_sample(seed=0, index=index, size=SIZE)
        heights = [a["bbox"][3] for a in anns]
        if 2 <= len(anns) <= 4 and min(heights) > SIZE / 6 and max(heights) > SIZE / 3:
            return index, image, anns
    raise RuntimeError("no suitable synthetic image")


def pick_single() -> tuple[int, Image.Image, list[dict]]:
    for index in range(300):
        image, anns = synthetic_sample(seed=0, index=index, size=SIZE)
        if len(anns) == 1:
            x, y, w, h = anns[0]["bbox"]
            inside = (
                0.1 * SIZE < x and x + w < 0.9 * SIZE and 0.05 * SIZE < y and y + h < 0.95 * SIZE
            )
            if inside and h > 0.5 * SIZE and anns[0]["num_keypoints"] >= 12:
                return index, image, anns
    raise RuntimeError("no suitable synthetic image")


def center_lines_figure(out: Path) -> None:
    index, image, anns = pick_crowd()
    boxes = boxes_of(anns) / STRIDE
    heat = center_targets(boxes, (HM, HM))["heatmap"][0]
    m_x, m_y = center_line_heatmaps(boxes, (HM, HM))
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.9))
    panels = [
        ("center heatmap (boxes: ground truth)", heat, "magma"),
        ("M_x: horizontal center lines", m_x, "viridis"),
        ("M_y: vertical center lines", m_y, "viridis"),
    ]
    for ax, (title, m, cmap) in zip(axes, panels):
        ax.imshow(image)
        ax.imshow(np.ma.masked_less(m.numpy(), 0.01), extent=EXTENT, cmap=cmap, alpha=0.75,
                  vmin=0, vmax=1)  # fmt: skip
        ax.set_title(title, fontsize=10)
        ax.set_axis_off()
    for box in boxes:
        rect(axes[0], box, "white", lw=1)
    fig.suptitle(f"training targets of synthetic image #{index} (stride 4, sigma 1.4)", fontsize=10)
    fig.tight_layout()
    save(fig, out / "concept_center_lines.png")


def dea_figure(out: Path) -> None:
    index, image, anns = pick_single()
    gt = boxes_of(anns)[0] / STRIDE
    m_x, m_y = center_line_heatmaps(gt[None], (HM, HM))
    size = (gt[2:] - gt[:2]).repeat(2)
    box = gt + torch.tensor([0.03, 0.04, -0.03, -0.07]) * size  # a defective detection
    dea = dichotomy_extend_area(box[None], m_x, m_y)[0]
    fixed = fixed_extend_area(box[None], 0.09)[0]
    profile = m_y[:, math.floor(float(box[0] + box[2]) / 2)].numpy()  # the column DEA reads
    steps = dichotomy_extend_path(box[None], m_x, m_y)[:, 0]  # (11, 4): every side, every step
    paths = {k: (steps[:, k].tolist(), float(dea[k])) for k in (1, 3)}

    fig = plt.figure(figsize=(11, 4.6))
    grid = fig.add_gridspec(2, 2, width_ratios=[1, 1.5], height_ratios=[1, 1.2])
    ax = fig.add_subplot(grid[:, 0])
    ax.imshow(image)
    ax.imshow(np.ma.masked_less(torch.maximum(m_x, m_y).numpy(), 0.01), extent=EXTENT,
              cmap="magma", alpha=0.35)  # fmt: skip
    rect(ax, gt, "lime", label="ground truth")
    rect(ax, box, "red", "--", label="detected box")
    rect(ax, fixed, "orange", ":", label="fixed ratio 0.09")
    rect(ax, dea, "cyan", label="DEA")
    pad = 0.12 * float(gt[3] - gt[1]) * STRIDE
    ax.set_xlim(float(gt[0]) * STRIDE - pad, float(gt[2]) * STRIDE + pad)
    ax.set_ylim(float(gt[3]) * STRIDE + pad, float(gt[1]) * STRIDE - pad)
    ax.legend(loc="lower left", fontsize=7)
    ax.set_axis_off()

    ax1 = fig.add_subplot(grid[0, 1])
    ax1.step(np.arange(HM), profile, where="mid", color="k", lw=1)
    ax1.axhline(0.08, color="r", ls="--", lw=0.8, label="thre = 0.08")
    ax1.set(ylabel="M_y", title="center line along the box's center column")
    ax1.legend(fontsize=7, loc="center")
    ax2 = fig.add_subplot(grid[1, 1], sharex=ax1)
    for k, color, name in ((1, "tab:blue", "top side"), (3, "tab:purple", "bottom side")):
        path, end = paths[k]
        ax2.plot(path, range(len(path)), "o-", color=color, ms=3, label=name)
        for a in (ax1, ax2):
            a.axvline(float(box[k]), color="red", ls="--", lw=0.8)
            a.axvline(float(gt[k]), color="lime", lw=0.8)
            a.axvline(end, color=color, lw=1.2)
    ax2.set(xlabel="y (heatmap pixels)", ylabel="iteration")
    ax2.invert_yaxis()
    ax2.legend(fontsize=7, loc="center")
    ax1.set_xlim(float(gt[1]) - 6, float(gt[3]) + 6)
    fig.suptitle("Dichotomy Extended Area (ratio 0.09, thre 0.08, 10 iterations)", fontsize=10)
    fig.tight_layout()
    save(fig, out / "concept_dea.png")


def ambiguity_figure(out: Path) -> None:
    _, image, anns = pick_single()
    gt = boxes_of(anns)[0] / STRIDE
    m_x, m_y = center_line_heatmaps(gt[None], (HM, HM))
    bw, bh = float(gt[2] - gt[0]), float(gt[3] - gt[1])
    true_c = float(gt[0] + gt[2]) / 2, float(gt[1] + gt[3]) / 2
    d = math.floor(center_radius(bh, bw) / 6 + 0.5)
    dup_c = true_c[0], true_c[1] - d - 3  # on M_y, 3 px off the core of M_x

    def peak(center, height):
        return draw_gaussian(torch.zeros(HM, HM), center, max(2.0, 0.12 * bw)) * height

    heat = torch.maximum(peak(true_c, 0.85), peak(dup_c, 0.9))[None, None]
    ys, xs = torch.meshgrid(torch.arange(HM), torch.arange(HM), indexing="ij")
    near_dup = (xs - dup_c[0]) ** 2 + (ys - dup_c[1]) ** 2 < (xs - true_c[0]) ** 2 + (
        ys - true_c[1]
    ) ** 2
    wh = torch.stack([torch.where(near_dup, 0.9 * bw, bw), torch.where(near_dup, 0.55 * bh, bh)])
    offset = torch.stack([torch.full((HM, HM), true_c[0] % 1), torch.full((HM, HM), true_c[1] % 1)])
    lines = (m_x * m_y)[None, None]
    after = alleviate_ambiguity(heat, m_x[None, None], m_y[None, None])
    fig, axes = plt.subplots(1, 3, figsize=(10, 4.4))
    panels = [
        ("(a) center heatmap: a duplicate peak", heat),
        ("(b) M_x * M_y", lines),
        ("(c) after AA: H * (M_x M_y)^0.5", after),
    ]
    for ax, (title, m) in zip(axes, panels):
        ax.imshow(image)
        ax.imshow(np.ma.masked_less(m[0, 0].numpy(), 0.01), extent=EXTENT, cmap="magma",
                  alpha=0.7, vmin=0, vmax=1)  # fmt: skip
        if m is not lines:
            boxes, scores = decode_centers(m, wh[None], offset[None], k=2)
            for b, s, color in zip(boxes[0], scores[0], ("cyan", "yellow")):
                rect(ax, b, color, lw=1 + 2.5 * float(s), label=f"score {float(s):.2f}")
            ax.legend(loc="lower left", fontsize=8)
        pad = 0.12 * bh * STRIDE
        ax.set_xlim(float(gt[0]) * STRIDE - pad, float(gt[2]) * STRIDE + pad)
        ax.set_ylim(float(gt[3]) * STRIDE + pad, float(gt[1]) * STRIDE - pad)
        ax.set_title(title, fontsize=10)
        ax.set_axis_off()
    fig.suptitle("Ambiguity Alleviation (paper eq. 4, alpha 1, beta 0.5): top-2 decoded boxes",
                 fontsize=10)  # fmt: skip
    fig.tight_layout()
    save(fig, out / "concept_ambiguity.png")


def tnet_figures(out: Path) -> None:
    index, image, _ = pick_crowd()
    shipped = load_model(SHIPPED).eval()  # trained on the synthetic crowd set
    backbone = shipped.backbone

    def tensor(img) -> torch.Tensor:  # as the model feeds its backbone
        return shipped.preprocess(to_float_image(to_rgb_tensor(img))[None])

    x = tensor(image)
    with torch.no_grad():
        pyramid = backbone(x)
    fig, axes = plt.subplots(1, 5, figsize=(12, 2.9))
    axes[0].imshow(image)
    axes[0].set_title(f"input {SIZE}x{SIZE}", fontsize=9)
    for ax, (i, f) in zip(axes[1:], enumerate(pyramid)):
        ax.imshow(f[0].abs().mean(0), cmap="viridis")
        c, h, w = f.shape[1:]
        ax.set_title(f"L{i}: stride {backbone.strides[i]}, {c}x{h}x{w}", fontsize=9)
    for ax in axes:
        ax.set_axis_off()
    fig.suptitle(f"the trained TNet-D1W16 of {SHIPPED}: mean |activation| per level",
                 fontsize=10)
    fig.tight_layout()
    save(fig, out / "concept_tnet_pyramid.png")

    gfm = backbone.stages[0].gfm[0]  # guides the fused L0 with the internal level L1
    captured: list[torch.Tensor] = []
    hook = gfm.f.register_forward_hook(lambda m, i, o: captured.append(o.detach()))
    labels = [f"synthetic #{index}"]
    with torch.no_grad():
        backbone(x)
        for other in (index + 1, index + 2, index + 3):
            backbone(tensor(synthetic_sample(seed=0, index=other, size=SIZE)[0]))
            labels.append(f"synthetic #{other}")
    hook.remove()
    f_g = torch.stack([c[0, :, 0, 0] for c in captured])
    channels = torch.arange(f_g.shape[1])
    fig, axes = plt.subplots(2, 1, figsize=(10, 4.6), sharex=True)
    axes[0].bar(channels, f_g[0])
    axes[0].set(ylabel="F_g", title=f"trained GFM weights F_g = f(sigmoid(W d)) of {labels[0]}")
    width = 0.8 / len(labels)
    for k, label in enumerate(labels):
        axes[1].bar(channels + (k - len(labels) / 2 + 0.5) * width, f_g[k] - f_g.mean(0),
                    width=width, label=label)  # fmt: skip
    axes[1].set(xlabel="channel of the fused L0 map", ylabel="F_g - mean",
                title="the part that depends on the image's global context")  # fmt: skip
    axes[1].legend(fontsize=7, ncol=len(labels))
    for ax in axes:
        ax.axhline(0, color="k", lw=0.5)
    fig.tight_layout()
    save(fig, out / "concept_gfm.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=Path("docs/images"))
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    center_lines_figure(args.out_dir)
    dea_figure(args.out_dir)
    ambiguity_figure(args.out_dir)
    tnet_figures(args.out_dir)


if __name__ == "__main__":
    main()
