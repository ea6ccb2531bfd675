"""High-level inference: any image input in, COCO-style person dicts out."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

from cgalib.inference.letterbox import letterbox_batch
from cgalib.utils.image import ImageInput, to_rgb_tensor

__all__ = ["Predictor"]

Precision = Literal["fp32", "bf16", "fp16"]
_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


class Predictor:
    """Run a pose model on paths, PIL images, numpy arrays or tensors.

    Each image is letterboxed (longer side ``input_size``, padded to a multiple of 32),
    batched, run, and its results mapped back to the original pixels.

    Args:
        model: a model whose eval ``forward(images)`` returns per-image dicts with
            ``boxes`` `(N, 4)`, ``scores`` `(N,)` and ``keypoints`` `(N, K, 3)` in input
            pixels (e.g. :class:`~cgalib.CGANet`).
        device: where to run; defaults to CUDA when available, else CPU.
        input_size: length of the longer side fed to the model.
        precision: ``"fp32"``, or ``"bf16"``/``"fp16"`` autocast.
        batch_size: images per forward pass.
        score_threshold: people with a lower ``score`` are dropped.

    Each person is a dict: ``bbox`` ``[x, y, w, h]`` (COCO xywh, original pixels),
    ``keypoints`` (flat ``[x1, y1, s1, ..., xK, yK, sK]``, every keypoint located, ``s`` its
    probability), ``score`` (the center probability times the mean keypoint probability,
    in [0, 1]), ``box_score``, ``category_id`` 1 and, when the model reports it, the
    ``extended_box`` (xyxy, original pixels) its keypoints were read from (the Dichotomy
    Extended Area of CGANet). People are sorted by ``score``.
    """

    def __init__(
        self,
        model: nn.Module,
        device: str | torch.device | None = None,
        input_size: int = 512,
        precision: Precision = "fp32",
        batch_size: int = 8,
        score_threshold: float = 0.0,
    ) -> None:
        if precision not in ("fp32", "bf16", "fp16"):
            raise ValueError(f"precision must be fp32, bf16 or fp16, got {precision!r}")
        if input_size % 32 or input_size <= 0:
            raise ValueError(f"input_size must be a positive multiple of 32, got {input_size}")
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model = model.to(self.device).eval()
        self.input_size = input_size
        self.precision = precision
        self.batch_size = batch_size
        self.score_threshold = score_threshold

    def _autocast(self):
        if self.precision == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=_DTYPES[self.precision])

    @torch.inference_mode()
    def predict(self, inputs: ImageInput | Sequence[ImageInput]) -> list[dict] | list[list[dict]]:
        """Predict the people in one image or a list of images.

        Args:
            inputs: one image (path, PIL image, HWC ``uint8`` numpy array, CHW tensor) or a
                list of them.

        Returns:
            For one image, the list of its people (see the class docstring); for a list of
            images, one such list per image.

        Raises:
            FileNotFoundError / ValueError: for a missing or unreadable file, naming it.
        """
        single = not isinstance(inputs, (list, tuple))
        items = [inputs] if single else list(inputs)
        results: list[list[dict]] = []
        for start in range(0, len(items), self.batch_size):
            chunk = [
                to_rgb_tensor(x).to(self.device) for x in items[start : start + self.batch_size]
            ]
            batch, scales = letterbox_batch(chunk, self.input_size)
            with self._autocast():
                outputs = self.model(batch)
            for out, scale, img in zip(outputs, scales.tolist(), chunk):
                results.append(self._to_coco(out, scale, img.shape[-2:]))
        return results[0] if single else results

    def _to_coco(self, out: dict, scale: float, size: tuple[int, int]) -> list[dict]:
        h, w = size
        boxes = out["boxes"].float().cpu() / scale
        boxes[:, 0::2] = boxes[:, 0::2].clamp(0, w)
        boxes[:, 1::2] = boxes[:, 1::2].clamp(0, h)
        extended = out.get("extended_boxes")
        extended = extended.float().cpu() / scale if extended is not None else None
        kps = out["keypoints"].float().cpu().clone()
        # keypoints are pixel indices (COCO): the letterbox maps x to (x + 0.5) * s - 0.5
        kps[..., :2] = (kps[..., :2] + 0.5) / scale - 0.5
        kps[..., 0] = kps[..., 0].clamp(0, w - 1)
        kps[..., 1] = kps[..., 1].clamp(0, h - 1)
        box_scores = out["scores"].float().cpu()
        scores = box_scores * kps[..., 2].mean(-1)
        people = []
        for i in torch.argsort(scores, descending=True).tolist():
            if scores[i] < self.score_threshold:
                continue
            x1, y1, x2, y2 = boxes[i].tolist()
            person = {
                "category_id": 1,
                "bbox": [x1, y1, x2 - x1, y2 - y1],
                "keypoints": kps[i].flatten().tolist(),
                "score": float(scores[i]),
                "box_score": float(box_scores[i]),
            }
            if extended is not None:
                person["extended_box"] = extended[i].tolist()
            people.append(person)
        return people
