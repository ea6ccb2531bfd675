"""High-level inference: any image input in, COCO-style person dicts out."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from cgalib.codecs.letterbox import letterbox_batch, unletterbox_boxes, unletterbox_keypoints
from cgalib.codecs.roi_masks import masks_to_rle, paste_roi_masks
from cgalib.models.top_down import TopDownPose
from cgalib.utils.device import resolve_device
from cgalib.utils.image import ImageInput, to_rgb_tensor
from cgalib.utils.keypoint_set import KeypointSet
from cgalib.utils.precision import Precision, autocast, precision_dtype

__all__ = ["Predictor"]

Compile = bool | Literal["cuda_graphs"]


class Predictor:
    """Run a pose model on paths, PIL images, numpy arrays or tensors.

    Each image is converted to RGB ``uint8`` ([`to_rgb_tensor()`][cgalib.utils.to_rgb_tensor]),
    letterboxed to float 0..1 (longer side ``input_size``, padded to a multiple of 32:
    [`letterbox_batch()`][cgalib.codecs.letterbox_batch]), batched, run, and its results mapped back to
    the original pixels by the letterbox codec's inverse
    ([`unletterbox_boxes()`][cgalib.codecs.unletterbox_boxes], [`unletterbox_keypoints()`][cgalib.codecs.unletterbox_keypoints]).

    Args:
        model: a model whose eval ``forward(images)`` returns per-image dicts with
            ``boxes`` `(N, 4)`, ``scores`` `(N,)` and ``keypoints`` `(N, K, 3)` in input
            pixels (e.g. [`CGANet`][cgalib.CGANet]).
        device: where to run; defaults to CUDA when available, else CPU
            ([`resolve_device()`][cgalib.utils.resolve_device]).
        input_size: length of the longer side fed to the model, a positive multiple of 32.
        precision: ``"fp32"``, or ``"bf16"``/``"fp16"`` autocast.
        batch_size: images per forward pass, at least 1.
        score_threshold: people with a lower ``score`` are dropped, in ``[0, 1]``.
        compile: the fast path. ``False``: eager. ``True``: ``torch.compile(model)``,
            compiled lazily on the first batch (and again for each new input shape).
            ``"cuda_graphs"`` (CUDA only): a static-shape path, every batch letterboxed
            to ``input_size x input_size`` and padded to ``batch_size`` images, whose
            forward pass is captured once in a CUDA graph and replayed; the model's eval
            forward must then be free of host synchronisations (CGANet's is written so).

    The fast paths compute what eager mode computes on the same input tensor: equal
    within floating-point tolerance in fp32 and within bf16 tolerance under ``"bf16"``
    (tested on CUDA). ``"cuda_graphs"`` pads rectangular images to a square, so its
    results equal those of an eager run at that square input, and can differ slightly
    from the default letterbox (which pads only to a multiple of 32) near the padding.

    Each person is a dict: ``bbox`` ``[x, y, w, h]`` (COCO xywh, original pixels),
    ``keypoints`` (flat ``[x1, y1, s1, ..., xK, yK, sK]`` in the order of the model's
    [`keypoint_set`][keypoint_set], every keypoint located, ``s`` its probability), ``score`` (the center probability times the mean keypoint probability,
    in [0, 1]), ``box_score``, ``category_id`` 1 and, when the model reports it, the
    ``extended_box`` (xyxy, original pixels) its keypoints were read from (the Dichotomy
    Extended Area of CGANet). A segmentation model (one whose outputs hold ``masks``, the
    per-box mask probabilities over ``extended_boxes``) gives each person a
    ``segmentation``, COCO RLE of its mask in the original image (pasted through the
    inverse letterbox and binarised at 0.5: [`paste_roi_masks()`][cgalib.codecs.paste_roi_masks]); a
    model without ``keypoints`` gives none and its ``score`` is the box score.
    People are sorted by ``score``. "Original pixels" are those
    of the image as displayed: files and PIL images are turned upright by their EXIF
    orientation tag first.

    Raises:
        ValueError: for a device this machine lacks, an ``input_size`` that is not a
            positive multiple of 32, a ``batch_size`` below 1, a ``score_threshold``
            outside ``[0, 1]``, an unknown ``precision`` or ``compile``, or a top-down
            model (it needs boxes: [`TopDownPredictor`][cgalib.inference.TopDownPredictor]).
    """

    def __init__(
        self,
        model: nn.Module,
        device: str | torch.device | None = None,
        input_size: int = 512,
        precision: Precision = "fp32",
        batch_size: int = 8,
        score_threshold: float = 0.0,
        compile: Compile = False,
    ) -> None:
        precision_dtype(precision)  # validates the name
        if isinstance(model, TopDownPose):
            raise ValueError(
                "Predictor runs multi-person models; a TopDownPose needs person boxes: use "
                "cgalib.inference.TopDownPredictor(model, detector=<a CGANet>)"
            )
        if not _is_int(input_size) or input_size % 32 or input_size <= 0:
            raise ValueError(f"input_size must be a positive multiple of 32, got {input_size!r}")
        if not _is_int(batch_size) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if isinstance(score_threshold, bool) or not 0 <= score_threshold <= 1:
            raise ValueError(f"score_threshold must be in [0, 1], got {score_threshold!r}")
        if not (isinstance(compile, bool) or compile == "cuda_graphs"):
            raise ValueError(f"compile must be False, True or 'cuda_graphs', got {compile!r}")
        self.device = resolve_device(device)
        if compile == "cuda_graphs" and self.device.type != "cuda":
            raise ValueError(
                f"compile='cuda_graphs' needs a CUDA device, got {self.device}; use "
                f"compile=True (torch.compile) or False on the CPU"
            )
        self.model = model.to(self.device).eval()
        self.input_size = input_size
        self.precision = precision
        self.batch_size = batch_size
        self.score_threshold = score_threshold
        self.compile = compile
        self._compiled: nn.Module | None = None  # torch.compile(model), made on first use
        self._graph: _GraphedForward | None = None  # the captured CUDA graph

    @property
    def keypoint_set(self) -> KeypointSet:
        """The keypoints each person has, in order: the model's ``keypoint_set`` (names,
        skeleton, flip map, OKS sigmas), COCO's for a model without one."""
        return getattr(self.model, "keypoint_set", None) or KeypointSet.coco()

    def _autocast(self, cache_enabled: bool = True):
        return autocast(self.device, self.precision, cache_enabled)

    def _forward(self, batch: torch.Tensor):
        """The model's eval forward on a letterboxed batch, on the configured path."""
        if self.compile == "cuda_graphs":
            n = batch.shape[0]
            s = self.input_size
            h, w = batch.shape[-2:]
            static = F.pad(batch, (0, s - w, 0, s - h, 0, 0, 0, self.batch_size - n))
            if self._graph is None:
                self._graph = _GraphedForward(self.model, static, self._autocast)
            return self._graph(static)[:n]
        if self.compile is True:
            if self._compiled is None:
                self._compiled = torch.compile(self.model)
            model = self._compiled
        else:
            model = self.model
        with self._autocast():
            return model(batch)

    @torch.inference_mode()
    def predict(self, inputs: ImageInput | Sequence[ImageInput]) -> list[dict] | list[list[dict]]:
        """Predict the people in one image or a list of images.

        Images are converted by [`to_rgb_tensor()`][cgalib.utils.to_rgb_tensor] and so follow its
        image-value rule (``uint8`` 0..255, floats 0..1, ...). Before the model runs on
        anything, every in-memory image of a list is checked and converted and every path
        is checked to exist, so a bad input fails fast instead of after the model ran on
        the images before it; files are decoded batch by batch. To skip unreadable files
        and keep going, use [`predict_media()`][cgalib.inference.predict_media].

        Args:
            inputs: one image (path, PIL image, HWC numpy array, CHW tensor) or a list of
                them.

        Returns:
            For one image, the list of its people (see the class docstring); for a list of
            images, one such list per image.

        Raises:
            FileNotFoundError: for a missing file, naming it.
            ValueError: for an unreadable file (naming it), an empty image, an unsupported
                shape or values outside the image-value rule; in a list, the message
                starts with the input's index.
            TypeError: for an input that is not an image.
        """
        single = not isinstance(inputs, (list, tuple))
        items = [inputs] if single else list(inputs)
        label = (lambda i: "") if single else (lambda i: f"input {i}: ")
        for i, x in enumerate(items):  # in-memory images converted, paths checked: fail fast
            if not isinstance(x, (str, os.PathLike)):
                items[i] = _convert(x, label(i))
            elif not Path(x).is_file():
                raise FileNotFoundError(f"{label(i)}image not found: {x}")
        results: list[list[dict]] = []
        for start in range(0, len(items), self.batch_size):
            chunk = [
                _convert(x, label(start + j)).to(self.device)
                for j, x in enumerate(items[start : start + self.batch_size])
            ]
            batch, scales = letterbox_batch(chunk, self.input_size)
            outputs = self._forward(batch)
            for out, scale, img in zip(outputs, scales.tolist(), chunk):
                results.append(self._to_coco(out, scale, img.shape[-2:]))
        return results[0] if single else results

    def _to_coco(self, out: dict, scale: float, size: tuple[int, int]) -> list[dict]:
        boxes = unletterbox_boxes(out["boxes"].float().cpu(), scale, size)
        extended = out.get("extended_boxes")
        extended = (
            unletterbox_boxes(extended.float().cpu(), scale) if extended is not None else None
        )
        box_scores = out["scores"].float().cpu()
        kps = None
        scores = box_scores
        if "keypoints" in out:
            kps = unletterbox_keypoints(out["keypoints"].float().cpu(), scale, size)
            scores = box_scores * kps[..., 2].mean(-1)
        rles = None
        if "masks" in out:  # pasted at the unclipped extended boxes in image pixels
            rois = unletterbox_boxes(out["extended_boxes"].float().cpu(), scale)
            pasted = paste_roi_masks(out["masks"].float().cpu(), rois, tuple(size))
            rles = masks_to_rle(pasted >= 0.5)
        people = []
        for i in torch.argsort(scores, descending=True).tolist():
            if scores[i] < self.score_threshold:
                continue
            x1, y1, x2, y2 = boxes[i].tolist()
            person = {"category_id": 1, "bbox": [x1, y1, x2 - x1, y2 - y1]}
            if kps is not None:
                person["keypoints"] = kps[i].flatten().tolist()
            person["score"] = float(scores[i])
            person["box_score"] = float(box_scores[i])
            if rles is not None:
                person["segmentation"] = rles[i]
            if extended is not None:
                person["extended_box"] = extended[i].tolist()
            people.append(person)
        return people


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _convert(image: ImageInput, label: str) -> torch.Tensor:
    """``to_rgb_tensor(image)``, its errors prefixed with ``label`` (the input's index)."""
    try:
        return to_rgb_tensor(image)
    except (FileNotFoundError, ValueError, TypeError) as err:
        if not label:
            raise
        kind = next(k for k in (FileNotFoundError, ValueError, TypeError) if isinstance(err, k))
        raise kind(f"{label}{err}") from err


class _GraphedForward:
    """A model's eval forward captured once in a CUDA graph for one static input shape.

    Calling it copies the batch into the static input, replays the graph and returns the
    static outputs, which the next call overwrites (copy them out before calling again).
    """

    def __init__(self, model: nn.Module, example: torch.Tensor, autocast, warmup: int = 3):
        self.model = model
        self.shape = tuple(example.shape)
        self.input = example.clone()
        # warm up on a side stream (lazy initialisation, cuDNN algorithm choice), then
        # capture; autocast's weight cache must be off during capture
        stream = torch.cuda.Stream(example.device)
        stream.wait_stream(torch.cuda.current_stream(example.device))
        with torch.cuda.stream(stream), autocast(cache_enabled=False):
            for _ in range(warmup):
                model(self.input)
        torch.cuda.current_stream(example.device).wait_stream(stream)
        self.graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(self.graph), autocast(cache_enabled=False):
                self.output = model(self.input)
        except RuntimeError as err:
            raise RuntimeError(
                "compile='cuda_graphs' could not capture the model's eval forward in a CUDA "
                "graph; it must not synchronise with the host (.item(), .tolist(), .cpu(), "
                "shapes that depend on values). Use compile=True or False instead."
            ) from err

    def __call__(self, batch: torch.Tensor):
        if tuple(batch.shape) != self.shape:
            raise ValueError(
                f"the CUDA graph was captured for {self.shape}, got {tuple(batch.shape)}"
            )
        self.input.copy_(batch)
        self.graph.replay()
        return self.output
