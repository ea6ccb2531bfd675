"""Compose a CGANet by hand from its parts (TNet, heads, post-processing, criterion) and run it.

Run:  python examples/custom_detector.py [--width 16] [--size 256] [--cascade 2]

The registry's ``create_model("cganet_tnet_d1w16")`` does the same in one line; building
it yourself shows where every part plugs in: the backbone's ``feature_info`` sizes the
dense heads (on level 0) and the keypoint head (levels 0-2), and one box-extension module
serves both the inference post-processing and the training ROIs. The model is
untrained: the run checks shapes and losses, not accuracy.
"""

from __future__ import annotations

import argparse

import torch

from cgalib import (
    CGANet,
    CGANetCriterion,
    CGANetPostprocess,
    DenseHeads,
    FeatureInfo,
    ROIGuider,
    TNet,
)
from cgalib.data import synthetic_sample
from cgalib.postprocess import AmbiguityAlleviation, DichotomyExtendArea
from cgalib.utils import count_parameters, to_float_image, to_rgb_tensor


def build_model(width: int, input_size: int, cascade: int = 1) -> CGANet:
    """A one-stage TNet of base width ``width`` with heads sized from its feature info."""
    backbone = TNet(depth=1, width=width, num_blocks=1, stem_blocks=1)
    info = FeatureInfo.of(backbone)  # channels and strides of L0..L3
    keypoint_head = ROIGuider(
        info.channels(),  # channels of L0..L3 (only L0..L2 are used)
        info.reduction(),  # (4, 8, 16, 32): the RoIAlign scales
        input_size=input_size,  # ROI sizes: 1/16, 1/32, 1/64 of the training input
        channels=(2 * width, 4 * width, 8 * width),
        head_channels=2 * width,
        cascade=cascade,
    )
    extension = DichotomyExtendArea(ratio=0.09, thre=0.08)  # the paper's DEA (Table 2)
    return CGANet(
        backbone,
        DenseHeads(info.channels(0), hidden_channels=2 * width),
        keypoint_head,
        CGANetPostprocess(extension, AmbiguityAlleviation(), max_detections=20),
        CGANetCriterion(extension),  # training ROIs extended as inference extends them
        input_size=input_size,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=16, help="TNet base width (even)")
    parser.add_argument("--size", type=int, default=256, help="input side, a multiple of 64")
    parser.add_argument("--cascade", type=int, default=1, help="ROIGuider stages (1 or 2)")
    parser.add_argument("--seed", type=int, default=0, help="synthetic image index")
    args = parser.parse_args(argv)
    if args.width < 2 or args.width % 2:
        parser.error("--width must be a positive even number")
    if args.size <= 0 or args.size % 64:
        parser.error("--size must be a positive multiple of 64")

    torch.manual_seed(0)
    model = build_model(args.width, args.size, args.cascade)
    for name, part in (
        ("backbone", model.backbone),
        ("dense heads", model.dense_heads),
        ("keypoint head", model.keypoint_head),
        ("total", model),
    ):
        print(f"{name:>18}: {count_parameters(part) / 1e6:.3f}M parameters")

    image, anns = synthetic_sample(seed=0, index=args.seed, size=args.size)
    x = to_float_image(to_rgb_tensor(image))[None]  # (1, 3, H, W) in 0..1

    model.eval()
    with torch.no_grad():
        (out,) = model(x)
    print("inference:", {k: tuple(v.shape) for k, v in out.items()})

    boxes = [[bx, by, bx + bw, by + bh] for bx, by, bw, bh in (a["bbox"] for a in anns)]
    target = {
        "boxes": torch.tensor(boxes, dtype=torch.float32).view(-1, 4),
        "keypoints": torch.tensor([a["keypoints"] for a in anns], dtype=torch.float32).view(
            -1, 17, 3
        ),
    }
    model.train()
    losses = model(x, [target])
    sum(losses.values()).backward()
    print(
        f"training on {len(anns)} people:",
        {k: round(float(v.detach()), 3) for k, v in losses.items()},
    )


if __name__ == "__main__":
    main()
