"""Test helpers importable from every test module (``tests/`` is on ``pythonpath``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset

from cgalib.models import InputRule, PoseModel
from cgalib.utils.coco_meta import KEYPOINT_NAMES

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

class StandInModel(PoseModel):
    """A stand-in bottom-up pose model (COCO's keypoints, letterbox side ``side``): one
    person per image, the one ``person(image)`` gives in input pixels."""

    def __init__(self, side: int = 512) -> None:
        super().__init__(None, InputRule.square_side(side))

    def prediction_names(self) -> tuple[str, ...]:
        return ("boxes", "scores", "keypoints")

    def person(self, image: torch.Tensor) -> tuple[list[float], float, torch.Tensor]:
        """``(box xyxy, score, keypoints (17, 3))`` of the one person of ``image``."""
        raise NotImplementedError

    def predict_batch(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        boxes, scores, keypoints = zip(*(self.person(image) for image in images))
        return {
            "boxes": torch.tensor(boxes, dtype=torch.float32)[:, None],
            "scores": torch.tensor(scores, dtype=torch.float32)[:, None],
            "keypoints": torch.stack([k.float() for k in keypoints])[:, None],
        }


TOY_IMAGE_IDS = (3, 5, 8, 13, 21, 34)
"""Non-consecutive ids; image 34 has nobody in it."""


def write_toy_coco_keypoints(path: Path) -> list[dict]:
    """Write a COCO keypoint ground truth, two or three people per image; its annotations."""
    rng = np.random.default_rng(0)
    images, anns = [], []
    for img_id in TOY_IMAGE_IDS:
        images.append({"id": img_id, "file_name": f"{img_id}.jpg", "width": 320, "height": 320})
        for _ in range(0 if img_id == 34 else int(rng.integers(2, 4))):
            x, y = rng.uniform(10, 150, 2)
            w, h = rng.uniform(30, 160, 2)  # medium and large people
            kps = np.stack(
                [rng.uniform(x, x + w, 17), rng.uniform(y, y + h, 17), np.full(17, 2)], 1
            )
            kps[rng.random(17) < 0.2] = 0  # some keypoints not labelled
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": img_id,
                    "category_id": 1,
                    "iscrowd": 0,
                    "bbox": [x, y, w, h],
                    "area": w * h,
                    "num_keypoints": int((kps[:, 2] > 0).sum()),
                    "keypoints": kps.flatten().tolist(),
                }
            )
    data = {
        "images": images,
        "annotations": anns,
        "categories": [
            {"id": 1, "name": "person", "keypoints": list(KEYPOINT_NAMES), "skeleton": []}
        ],
    }
    path.write_text(json.dumps(data))
    return anns


def noisy_coco_results(anns, rng, sigma, with_bbox=True, false_positives=0):
    """One result per person, keypoints and box moved by ``sigma`` pixels, plus strays."""
    results = []
    for a in anns:
        kps = np.asarray(a["keypoints"], dtype=float).reshape(17, 3)
        kps[:, :2] += rng.normal(0, sigma, (17, 2))
        kps[:, 2] = 1.0
        r = {
            "image_id": a["image_id"],
            "category_id": 1,
            "keypoints": kps.flatten().tolist(),
            "score": float(rng.uniform(0.2, 1)),
        }
        if with_bbox:
            r["bbox"] = (np.asarray(a["bbox"]) + rng.normal(0, sigma, 4)).tolist()
        results.append(r)
    for img_id in rng.choice(TOY_IMAGE_IDS, false_positives):
        x, y = rng.uniform(0, 250, 2)
        kps = np.stack([rng.uniform(x, x + 60, 17), rng.uniform(y, y + 60, 17), np.ones(17)], 1)
        r = {
            "image_id": int(img_id),
            "category_id": 1,
            "keypoints": kps.flatten().tolist(),
            "score": float(rng.uniform(0, 0.5)),
        }
        if with_bbox:
            r["bbox"] = [x, y, 60.0, 60.0]
        results.append(r)
    return results


class FakeClock:
    """A clock that advances ``tick`` seconds each time it is read."""

    def __init__(self, tick: float) -> None:
        self.now, self.tick = 0.0, tick

    def __call__(self) -> float:
        self.now += self.tick
        return self.now


class RegressionPairs(Dataset):
    """Images whose mean is a linear function of a hidden target, to fit with a tiny model."""

    def __init__(self, n=16):
        g = torch.Generator().manual_seed(0)
        self.x = torch.rand(n, 3, 8, 8, generator=g)
        self.y = self.x.mean((1, 2, 3)) * 3 - 1

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], {"y": self.y[i : i + 1]}


def collate_pairs(batch):
    """Stack the images of :class:`RegressionPairs` items; keep their targets as a list."""
    return torch.stack([b[0] for b in batch]), [b[1] for b in batch]
