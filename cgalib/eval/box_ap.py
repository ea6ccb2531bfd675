"""Box (and mask) AP of person detections, as torchmetrics' ``MeanAveragePrecision`` computes it.

``torchmetrics.detection.MeanAveragePrecision`` needs torchvision, which cgalib does not
depend on; its default backend is pycocotools' ``COCOeval``, so this module calls that
backend directly with the same inputs and returns the same numbers (a test compares the
two where torchvision is installed).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence

import numpy as np
import torch
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

__all__ = ["BOX_METRICS", "box_ap"]

BOX_METRICS = (
    "AP",
    "AP50",
    "AP75",
    "APs",
    "APm",
    "APl",
    "AR1",
    "AR10",
    "AR100",
    "ARs",
    "ARm",
    "ARl",
)
"""Names of ``COCOeval.stats`` for ``bbox``/``segm``, in order (torchmetrics' map, map_50,
...).
"""


def _xywh(boxes: torch.Tensor) -> list[list[float]]:
    b = boxes.detach().float().cpu().reshape(-1, 4)
    return torch.cat([b[:, :2], b[:, 2:] - b[:, :2]], dim=1).tolist()


def _rle(masks: torch.Tensor) -> list[dict]:
    arr = np.asfortranarray(masks.detach().cpu().numpy().astype(np.uint8).transpose(1, 2, 0))
    return mask_utils.encode(arr) if arr.shape[2] else []


def box_ap(
    predictions: Sequence[dict[str, torch.Tensor]],
    targets: Sequence[dict[str, torch.Tensor]],
    iou_type: str = "bbox",
) -> dict[str, float]:
    """COCO box (or mask) AP of person detections.

    Args:
        predictions: one dict per image with ``boxes`` `(N, 4)` xyxy pixels and ``scores``
            `(N,)` (and ``masks`` `(N, H, W)` bool for ``iou_type="segm"``).
        targets: one dict per image with ``boxes`` `(M, 4)` xyxy (and ``masks``),
            optionally ``iscrowd`` `(M,)`.
        iou_type: ``"bbox"`` or ``"segm"``.

    Returns:
        The 12 COCO stats named by :data:`BOX_METRICS`; -1.0 where COCO has no ground
        truth of that size, all 0.0 when there are no predictions.

    Examples:
        >>> box = torch.tensor([[10.0, 10.0, 50.0, 90.0]])
        >>> ap = box_ap([{"boxes": box, "scores": torch.tensor([0.9])}], [{"boxes": box}])
        >>> round(ap["AP"], 6)
        1.0
    """
    if iou_type not in ("bbox", "segm"):
        raise ValueError(f"iou_type must be 'bbox' or 'segm', got {iou_type!r}")
    if len(predictions) != len(targets):
        raise ValueError(f"{len(predictions)} predictions for {len(targets)} targets")
    images, annotations, results = [], [], []
    for image_id, (pred, target) in enumerate(zip(predictions, targets), start=1):
        boxes = _xywh(target["boxes"])
        crowd = target.get("iscrowd", torch.zeros(len(boxes))).tolist()
        if iou_type == "segm":
            h, w = target["masks"].shape[-2:]
            segs = _rle(target["masks"])
            areas = [float(mask_utils.area(s)) for s in segs]
        else:
            h = w = 1 + int(max([b[1] + b[3] for b in boxes] + [b[0] + b[2] for b in boxes] + [1]))
            segs, areas = [None] * len(boxes), [b[2] * b[3] for b in boxes]
        images.append({"id": image_id, "height": int(h), "width": int(w)})
        for box, c, seg, area in zip(boxes, crowd, segs, areas):
            ann = {
                "id": len(annotations) + 1,
                "image_id": image_id,
                "category_id": 1,
                "bbox": box,
                "area": area,
                "iscrowd": int(c),
            }
            if seg is not None:
                ann["segmentation"] = seg
            annotations.append(ann)
        pboxes, scores = _xywh(pred["boxes"]), pred["scores"].detach().cpu().tolist()
        psegs = _rle(pred["masks"]) if iou_type == "segm" else [None] * len(pboxes)
        for box, score, seg in zip(pboxes, scores, psegs):
            res = {"image_id": image_id, "category_id": 1, "bbox": box, "score": float(score)}
            if seg is not None:
                res["segmentation"] = seg
            results.append(res)
    if not results:
        return dict.fromkeys(BOX_METRICS, 0.0)
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = {
            "images": images,
            "annotations": annotations,
            "categories": [{"id": 1, "name": "person"}],
        }
        gt.createIndex()
        ev = COCOeval(gt, gt.loadRes(results), iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return {k: float(v) for k, v in zip(BOX_METRICS, np.asarray(ev.stats))}
