"""The paper's COCO recipe for ``cganet_tnet_d1w64`` (Implementation Details).

Run (8 GPUs):
    torchrun --nproc_per_node 8 configs/coco_paper.py --data /datasets/coco --out runs/coco

Layout: ``DATA/train2017/``, ``DATA/val2017/`` and ``DATA/annotations/
person_keypoints_{train,val}2017.json``. 95 epochs at 512 px, SGD with lr 1e-2 dropped to
1e-3 and 1e-4 at epochs 70 and 85, random scale 0.6-1.5, rotation +-45 degrees,
translation +-40 px and flips (the defaults of :class:`cgalib.data.PoseAugmentation`).
The paper does not give its batch size; 16 images per GPU is assumed. This recipe has
not been run by the cgalib authors (no COCO download and no multi-GPU machine here).
"""

from __future__ import annotations

import argparse

TRAIN = {
    "model": "cganet_tnet_d1w64",
    "input_size": 512,  # the training input; it also sets the ROI sizes of the keypoint head
    "epochs": 95,
    "batch_size": 16,
    "lr": 1e-2,
    "warmup_steps": 1000,
    "amp": "bf16",
    "num_workers": 8,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", default="runs/coco_paper")
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args()

    from cgalib.engine import train

    kwargs = dict(TRAIN)
    train(kwargs.pop("model"), args.data, args.out, resume=args.resume, **kwargs)


if __name__ == "__main__":
    main()
