"""Time of the up-front annotation check on a file the size of COCO's person-keypoint train2017.

A small synthetic set (:func:`cgalib.data.make_synthetic_coco`) is replicated into a file of
``--annotations`` people (with their RLE segmentations and 17 keypoints) over ``--images``
images (train2017: 118,287 images; 150,000 people by default), written as JSON. Timed once
each (wall-clock and CPU seconds, one process):

1. ``json`` parsing of the file (what any reader pays);
2. :func:`cgalib.data.check_coco` on the parsed dict (the validator itself);
3. pycocotools' ``createIndex`` (what loading paid before the validator);
4. :func:`cgalib.data.validate_coco` (read + check + index: what ``CocoKeypoints`` pays);
5. :func:`cgalib.eval.load_coco` (read + check + evaluation copy + index);
6. with ``--image-files``: :func:`cgalib.data.check_image_files` over as many empty files.

Run:  python benchmarks/validate.py [--annotations 150000] [--images 118287] [--image-files]
Prints a markdown table; no test depends on it.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import tempfile
import time
from pathlib import Path

from pycocotools.coco import COCO

from cgalib.data import (
    check_coco,
    check_image_files,
    make_synthetic_coco,
    read_coco_json,
    validate_coco,
)
from cgalib.eval import load_coco


def _big_file(tmp: Path, annotations: int, images: int) -> Path:
    """A person-keypoint file of ``annotations`` people over ``images`` images."""
    paths = make_synthetic_coco(tmp / "seed", 100, 0, seed=0, size=384)
    seed = json.loads(paths["train_ann"].read_text())
    people = seed["annotations"]
    image_entries = [
        {"id": i + 1, "file_name": f"{i + 1:012d}.jpg", "width": 384, "height": 384}
        for i in range(images)
    ]
    anns = []
    for i in range(annotations):
        ann = dict(people[i % len(people)])
        ann.update(id=i + 1, image_id=i % images + 1)
        anns.append(ann)
    path = tmp / "person_keypoints_big.json"
    path.write_text(
        json.dumps({"images": image_entries, "annotations": anns, "categories": seed["categories"]})
    )
    return path


def _seconds(fn) -> tuple[float, float]:
    """Wall-clock and CPU seconds of ``fn()`` (CPU time is steadier on a shared machine)."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annotations", type=int, default=150_000)
    parser.add_argument("--images", type=int, default=118_287)
    parser.add_argument("--image-files", action="store_true", help="also time the file check")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = _big_file(Path(tmp), args.annotations, args.images)
        data = read_coco_json(path)
        report = check_coco(data, str(path))

        def index() -> None:
            coco = COCO()
            coco.dataset = data
            with contextlib.redirect_stdout(io.StringIO()):
                coco.createIndex()

        rows = [
            ("json parsing", _seconds(lambda: read_coco_json(path))),
            ("check_coco (the validator)", _seconds(lambda: check_coco(data, str(path)))),
            ("pycocotools createIndex", _seconds(index)),
            ("validate_coco (read + check + index)", _seconds(lambda: validate_coco(path))),
            ("eval load_coco (read + check + copy + index)", _seconds(lambda: load_coco(path))),
        ]
        if args.image_files:
            folder = Path(tmp) / "images"
            folder.mkdir()
            for image in data["images"]:
                (folder / image["file_name"]).touch()
            rows.append(
                (
                    "check_image_files (empty files, local disk)",
                    _seconds(lambda: check_image_files(folder, data["images"], str(path))),
                )
            )
        size = path.stat().st_size / 2**20
    print(
        f"{args.annotations} people, {args.images} images, {size:.0f} MiB of JSON; "
        f"{report.kept} people kept"
    )
    print("| stage | wall s | CPU s |\n|---|---|---|")
    for name, (wall, cpu) in rows:
        print(f"| {name} | {wall:.2f} | {cpu:.2f} |")


if __name__ == "__main__":
    main()
