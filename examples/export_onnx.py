"""Export a pose model to ONNX, run it with onnxruntime and check it against PyTorch.

Run:  python examples/export_onnx.py --checkpoint runs/a/model.pt --image photo.jpg

Without ``--checkpoint`` an untrained registry model (``--model``) is exported; without
``--image`` a synthetic crowd image is used. The graph takes one letterboxed
``(1, 3, size, size)`` image (``size`` the model's, or ``--input-size``) in 0..1 and returns ``boxes``, ``extended_boxes``, ``scores``
and ``keypoints`` for the model's ``max_detections`` best centers, in input pixels; the
script maps the people above ``--threshold`` back to image pixels. Needs ``onnxruntime``
(``pip install onnxruntime``, or the ``dev`` extra).

Detections with tied scores (a flat image, or an untrained model's near-equal peaks) may
come out of onnxruntime in another order than out of PyTorch: the scores still agree, but
the box and keypoint differences printed then compare different people.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from cgalib import create_model, load_model
from cgalib.data.synthetic import synthetic_sample
from cgalib.export import export_onnx
from cgalib.inference import letterbox_batch
from cgalib.utils import read_image


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="model.pt (default: untrained --model)")
    parser.add_argument("--model", default="cganet_tnet_d1w16", help="registry name")
    parser.add_argument("--image", type=Path, default=None, help="default: a synthetic image")
    parser.add_argument(
        "--input-size", type=int, default=None, help="input side (default: the model's)"
    )
    parser.add_argument("--out", type=Path, default=Path("cganet.onnx"), help="file to write")
    parser.add_argument("--threshold", type=float, default=0.1, help="drop people scoring less")
    args = parser.parse_args(argv)
    try:
        import onnxruntime
    except ImportError:
        parser.error("this example needs onnxruntime: pip install onnxruntime")

    if args.checkpoint:
        model = load_model(args.checkpoint)
    else:
        torch.manual_seed(0)
        model = create_model(args.model)
    model.eval()
    try:  # the model says which sizes it takes
        size = model.input_rule.resized(args.input_size, "--input-size").side
    except ValueError as err:
        parser.error(str(err))
    path = export_onnx(model, args.out, input_size=size)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, input 1x3x{size}x{size})")

    if args.image:
        image = read_image(args.image)
    else:
        pil, _ = synthetic_sample(seed=0, index=0, split="val", size=size)
        image = torch.from_numpy(np.array(pil.convert("RGB"))).permute(2, 0, 1)
    batch, scale = letterbox_batch([image], size)
    batch = F.pad(batch, (0, size - batch.shape[-1], 0, size - batch.shape[-2]))  # square

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    got = dict(zip(names, session.run(None, {"images": batch.numpy()})))
    with torch.no_grad():
        want = model.predict_batch(batch)
    for name in names:
        diff = np.abs(got[name] - want[name].numpy()).max()
        print(f"{name}: {got[name].shape}, max |onnxruntime - pytorch| = {diff:.2e}")

    s = float(scale[0])
    keep = got["scores"][0] >= args.threshold
    print(f"{int(keep.sum())} people scoring >= {args.threshold}:")
    for box, score, kps in zip(
        got["boxes"][0][keep], got["scores"][0][keep], got["keypoints"][0][keep]
    ):
        x1, y1, x2, y2 = (round(float(v) / s, 1) for v in box)
        seen = int((kps[:, 2] >= args.threshold).sum())
        print(f"  score {score:.2f}, box ({x1}, {y1}, {x2}, {y2}), {seen} keypoints >= threshold")


if __name__ == "__main__":
    main()
