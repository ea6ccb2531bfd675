"""Run a model over a COCO-format split and score it with pycocotools."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cgalib.eval.coco_keypoints import coco_keypoint_ap, load_coco
from cgalib.inference.predictor import Precision, Predictor
from cgalib.utils.progress import ProgressBar

__all__ = ["predict_coco", "evaluate_coco"]


def predict_coco(
    model: nn.Module,
    images_dir: str | os.PathLike,
    ann_file: str | os.PathLike,
    input_size: int = 512,
    device: str | torch.device | None = None,
    batch_size: int = 8,
    precision: Precision = "fp32",
    progress: bool = True,
) -> list[dict]:
    """COCO keypoint results of ``model`` on every image of an annotation file.

    Args:
        model: a pose model accepted by :class:`~cgalib.Predictor`.
        images_dir: the folder of the split's images.
        ann_file: its ``person_keypoints_*.json``.
        input_size: letterbox size of the longer side.
        device: where to run (default CUDA when available).
        batch_size: images per forward pass.
        precision: ``"fp32"``, ``"bf16"`` or ``"fp16"``.
        progress: show a progress bar.

    Returns:
        Standard COCO results: ``image_id``, ``category_id``, ``keypoints`` (flat 51),
        ``score`` and ``bbox`` (xywh), sorted by score within each image.
    """
    coco = load_coco(ann_file)
    predictor = Predictor(
        model, device=device, input_size=input_size, precision=precision, batch_size=batch_size
    )
    ids = sorted(coco.getImgIds())
    results: list[dict] = []
    bar = ProgressBar(len(ids), "predict", unit="img", enabled=progress)
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        paths = [Path(images_dir) / coco.imgs[i]["file_name"] for i in chunk]
        for image_id, people in zip(chunk, predictor.predict(paths)):
            for person in people:
                results.append(
                    {
                        "image_id": image_id,
                        "category_id": 1,
                        "keypoints": person["keypoints"],
                        "score": person["score"],
                        "bbox": person["bbox"],
                    }
                )
        bar.update(len(chunk))
    bar.close()
    return results


def evaluate_coco(
    model: nn.Module,
    images_dir: str | os.PathLike,
    ann_file: str | os.PathLike,
    **kwargs: Any,
) -> tuple[dict[str, float], list[dict]]:
    """Keypoint AP of ``model`` on a split: :func:`predict_coco` then :func:`coco_keypoint_ap`.

    Args:
        model: the pose model.
        images_dir: the split's image folder.
        ann_file: the split's annotation file.
        **kwargs: passed to :func:`predict_coco`.

    Returns:
        ``(metrics, results)``: the pycocotools keypoint stats and the COCO results.
    """
    results = predict_coco(model, images_dir, ann_file, **kwargs)
    return coco_keypoint_ap(ann_file, results), results
