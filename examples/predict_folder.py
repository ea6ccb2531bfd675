"""Run a trained pose model over a folder of images and write the people to a JSON file.

Run:  python examples/predict_folder.py photos/ --checkpoint runs/a/model.pt --out people.json

The checkpoint is any ``model.pt`` written by ``cgalib train``, :func:`cgalib.engine.train`
or ``cgalib.save_model(model, path)``. The JSON lists every image with its size and its people as the
:class:`cgalib.Predictor` returns them: ``bbox`` (COCO ``[x, y, w, h]``), ``keypoints``
(flat ``[x1, y1, s1, ..., x17, y17, s17]``), ``score`` and the DEA-extended box
``extended_box`` (``[x1, y1, x2, y2]``), all in original image pixels.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cgalib import Predictor, load_model
from cgalib.utils import read_image

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder of images (not recursive)")
    parser.add_argument("--checkpoint", required=True, help="model.pt of a trained model")
    parser.add_argument("--out", type=Path, default=Path("predictions.json"), help="JSON to write")
    parser.add_argument(
        "--input-size",
        type=int,
        default=None,
        help="letterbox side, as the model takes it (default: the model's training input size)",
    )
    parser.add_argument("--device", default=None, help="cuda or cpu (default: cuda if available)")
    parser.add_argument("--threshold", type=float, default=0.1, help="drop people scoring less")
    parser.add_argument("--batch", type=int, default=8, help="images per forward pass")
    args = parser.parse_args(argv)

    if not args.folder.is_dir():
        parser.error(f"not a folder: {args.folder}")
    paths = sorted(p for p in args.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        parser.error(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {args.folder}")

    model = load_model(args.checkpoint)
    predictor = Predictor(
        model,
        device=args.device,
        input_size=args.input_size,
        batch_size=args.batch,
        score_threshold=args.threshold,
    )
    images = []
    for start in range(0, len(paths), args.batch):
        chunk = [read_image(p) for p in paths[start : start + args.batch]]
        for path, image, people in zip(paths[start:], chunk, predictor.predict(chunk)):
            height, width = image.shape[-2:]
            images.append(
                {"file_name": path.name, "height": height, "width": width, "people": people}
            )
            print(f"{path.name}: {len(people)} people")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    size = list(predictor.input_rule.size)
    args.out.write_text(json.dumps({"input_size": size, "images": images}))
    print(f"wrote {args.out} ({len(images)} images, device {predictor.device})")


if __name__ == "__main__":
    main()
