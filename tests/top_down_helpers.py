"""Test helpers of the top-down pipeline: a perfect top-down model and a toy image set."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from cgalib.codecs import crop_affine, crop_keypoints, person_crop_boxes
from cgalib.data import ground_truth_boxes
from cgalib.eval import load_coco
from cgalib.models import InputRule, PoseModel

from helpers import write_toy_coco_keypoints


class OracleTopDown(PoseModel):
    """A perfect top-down model: answers each crop with the keypoints it was given, in order.

    ``queue`` holds the exact crop-pixel keypoints of the crops it will be shown, in the
    order a predictor cuts them; labelled keypoints come back with score 1, unlabelled
    ones with score 0. It carries the model contract (COCO's keypoints, needs boxes).
    """

    needs_boxes = True

    def __init__(self, queue: list[torch.Tensor], input_size=(256, 192)) -> None:
        super().__init__(None, InputRule(tuple(input_size)))
        self.queue = list(queue)
        self.seen = 0
        self.anchor = nn.Parameter(torch.zeros(()))  # gives the module a device

    def prediction_names(self) -> tuple[str, ...]:
        return ("keypoints",)

    def predict_batch(self, crops: torch.Tensor) -> dict[str, torch.Tensor]:
        n = len(crops)
        assert crops.shape[-2:] == self.input_rule.size
        kps = torch.stack(self.queue[self.seen : self.seen + n]).float().clone()
        self.seen += n
        kps[..., 2] = (kps[..., 2] > 0).float()
        return {"keypoints": kps}


def crop_queue(boxes: dict[int, torch.Tensor], keypoints: dict, crop_size) -> list[torch.Tensor]:
    """Crop keypoints of every box, images by ascending id, boxes in order.

    ``keypoints[image_id]`` holds the image-pixel keypoints `(N, K, 3)` of its boxes.
    """
    queue = []
    for image_id in sorted(boxes):
        b = boxes[image_id]
        if len(b) == 0:
            continue
        m = crop_affine(person_crop_boxes(b[:, :4].double(), crop_size), crop_size)
        queue.extend(crop_keypoints(keypoints[image_id].double(), m, crop_size).unbind(0))
    return queue


def write_toy_set(root: Path) -> tuple[Path, Path, list[dict]]:
    """helpers' toy ground truth with 320x320 images, nearly black and each different (the
    image contract warns about files with the same bytes): ``(images_dir, ann_file, anns)``."""
    images = root / "images"
    images.mkdir(parents=True, exist_ok=True)
    ann_file = root / "gt.json"
    anns = write_toy_coco_keypoints(ann_file)
    for i, info in enumerate(json.loads(ann_file.read_text())["images"]):
        pixels = np.zeros((320, 320, 3), np.uint8)
        pixels[:8, :8] = 8 * (i + 1)  # one corner block tells the files apart
        Image.fromarray(pixels).save(images / info["file_name"])
    return images, ann_file, anns


def ground_truth_queue(ann_file: Path, crop_size) -> list[torch.Tensor]:
    """The oracle's queue for ground-truth boxes: each box matched to its annotation."""
    coco = load_coco(ann_file)
    boxes = ground_truth_boxes(coco)
    keypoints = {}
    for image_id, b in boxes.items():
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[image_id]))
        rows = []
        for box in b[:, :4].tolist():
            ann = next(
                a for a in anns
                if np.allclose([a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2],
                                a["bbox"][1] + a["bbox"][3]], box, atol=1e-3)
            )  # fmt: skip
            rows.append(torch.tensor(ann["keypoints"], dtype=torch.float64).reshape(-1, 3))
        keypoints[image_id] = torch.stack(rows) if rows else torch.zeros(0, 17, 3)
    return crop_queue(boxes, keypoints, crop_size)
