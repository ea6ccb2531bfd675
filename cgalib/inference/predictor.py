"""High-level inference for every model kind: any image in, COCO-style person dicts out."""

from __future__ import annotations

import contextlib
import itertools
import os
import warnings
from collections.abc import Iterator, Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from cgalib.codecs.affine import crop_affine, crop_images, person_crop_boxes, uncrop_keypoints
from cgalib.codecs.letterbox import (
    letterbox_batch,
    letterbox_shape,
    letterbox_size,
    unletterbox_boxes,
    unletterbox_keypoints,
)
from cgalib.codecs.roi_masks import masks_to_rle, paste_roi_masks
from cgalib.data.synthetic import SYNTHETIC_DESCRIPTION
from cgalib.inference._cuda_graphs import GraphedPredictBatch
from cgalib.inference.people import OKS_AREAS, Detections, OksArea, to_people
from cgalib.models.checkpoint import trained_on
from cgalib.models.contract import InputRule, check_pose_model
from cgalib.registry import build_name
from cgalib.utils.device import resolve_device
from cgalib.utils.image import (
    ImageInput,
    check_image_path,
    resize_image,
    to_float_image,
    to_rgb_tensor,
)
from cgalib.utils.keypoint_set import KeypointSet
from cgalib.utils.precision import Precision, autocast, precision_dtype
from cgalib.viz.poses import DISPLAY_SCORE_THRESHOLD

__all__ = ["BoxesInput", "Predictor", "SyntheticWeightsWarning"]


class SyntheticWeightsWarning(UserWarning):
    """Weights that know cgalib's synthetic people only were given to a
    [`Predictor`][Predictor]: on photos their poses are unreliable.

    Code that knowingly predicts synthetic pictures (the demo) silences it with
    ``warnings.filterwarnings("ignore", category=SyntheticWeightsWarning)``.
    """

Compile = bool | Literal["cuda_graphs"]
LARGE_IMAGE_PIXELS = 16_000_000
"""Pictures with more pixels (a 48-megapixel photo) are shrunk to the model's input in
``uint8`` arithmetic ([`resize_image()`][cgalib.utils.resize_image]) before the
float conversion, so their full-resolution float copy (576 MB for 48 megapixels) is never
made; smaller ones take the float path of [`letterbox_batch()`][cgalib.codecs.letterbox_batch].
The two differ by at most one 8-bit level per input pixel."""
BoxesInput = torch.Tensor | Sequence[Sequence[float]]
"""Person boxes of one image: `(N, 4)` xyxy, or `(N, 5)` xyxy and score (score 1 when left
out), in image pixels."""


class Predictor:
    """Run any pose model on paths, PIL images, numpy arrays or tensors.

    One predictor for every kind of model; it asks the model how it finds people (the
    [model contract][cgalib.models.PoseModel]):

    - **on its own** (``needs_boxes`` false, e.g. [`CGANet`][cgalib.CGANet]): each image is
      letterboxed (longer side ``input_size``, each side padded up to a multiple of the
      model's ``input_rule.multiple``: [`letterbox_batch()`][cgalib.codecs.letterbox_batch]), the
      model finds the people, and the letterbox codec's inverse maps them back
      ([`unletterbox_boxes()`][cgalib.codecs.unletterbox_boxes],
      [`unletterbox_keypoints()`][cgalib.codecs.unletterbox_keypoints]). Images are batched only
      with images of the same padded size, so a result never depends on what else was in
      the batch.
    - **from boxes** (``needs_boxes`` true, e.g. [`TopDownPose`][cgalib.TopDownPose]): every
      person box, given to [`predict()`][predict] or found by the ``detector``, becomes a crop
      region of the model's aspect ratio padded by 1.25
      ([`person_crop_boxes()`][cgalib.codecs.person_crop_boxes]), cut to ``input_size`` by one
      kornia warp ([`crop_images()`][cgalib.codecs.crop_images]), and the inverse affine maps the
      keypoints back ([`uncrop_keypoints()`][cgalib.codecs.uncrop_keypoints], clipped to the
      image).

    The flip test is the model's (build it with ``flip_test=True``). Whatever found them,
    the people are scored, sorted, filtered and written in one place,
    [`to_people()`][cgalib.inference.to_people]: each person is a dict with ``bbox`` ``[x,
    y, w, h]`` (COCO xywh, original pixels), ``keypoints`` (flat ``[x1, y1, s1, ..., xK, yK,
    sK]`` in the order of the model's [`keypoint_set`][keypoint_set], every keypoint
    located, ``s`` its probability), ``score`` (the box probability times the mean keypoint
    probability, of those above ``keypoint_score_threshold`` when given, in [0, 1]),
    ``box_score``, ``category_id`` 1 and, when the model reports it, the ``extended_box``
    (xyxy) its keypoints were read from (CGANet's Dichotomy Extended Area). A segmentation
    model (``masks`` in its ``outputs``) gives each person a ``segmentation``, COCO RLE of
    its mask in the original image (pasted through the inverse letterbox and binarised at
    0.5: [`paste_roi_masks()`][cgalib.codecs.paste_roi_masks]); a model without
    ``keypoints`` gives none and its ``score`` is the box score. People are sorted by
    ``score``, equal scores in detection order. "Original pixels" are those of the image as
    displayed: files and PIL images are turned upright by their EXIF orientation tag first.
    Pictures larger than [`LARGE_IMAGE_PIXELS`][LARGE_IMAGE_PIXELS] are shrunk to the
    model's input without a full-resolution float copy.

    **The caller's model.** The Predictor moves the model to its ``device`` (in place, as
    ``model.to(device)`` does) and leaves it there: build it on the device the model
    trains on to keep training there. It puts the model in eval mode only while it
    predicts: after each [`predict()`][predict] every submodule is back in the mode it was
    in (a model in the middle of training stays in training mode). The weights must be
    float32: a ``model.half()`` model is refused with one line (half-precision arithmetic
    is ``precision="fp16"`` or ``"bf16"`` on float32 weights).

    Args:
        model: a pose model ([`PoseModel`][cgalib.models.PoseModel], or one carrying the same
            facts).
        detector: for a model that needs boxes, where they come from when
            [`predict()`][predict] gets none: a model that finds people on its own (run by a
            ``Predictor`` on the same device and precision; its people's boxes and
            ``box_score`` are used) or a ``Predictor``. Refused for a model that finds
            people on its own.
        device: where to run; defaults to CUDA when available, else CPU
            ([`resolve_device()`][cgalib.utils.resolve_device]).
        input_size: the model's input: one side (the longer side of the letterbox for a
            model that finds people on its own; a square crop otherwise) or ``(H, W)``
            crops. Default: for a model that finds people on its own, a side that suits
            each picture ([`InputRule.side_for_picture()`][cgalib.models.InputRule.side_for_picture]:
            its longer side, between the training size and twice it; the training size
            on the ``"cuda_graphs"`` path, whose input is fixed); for a model that needs
            boxes, its ``input_rule`` (the crop it was trained on).
        precision: ``"fp32"``, or ``"bf16"``/``"fp16"`` autocast.
        batch_size: images per forward pass (person crops, for a model that needs boxes),
            at least 1.
        score_threshold: people with a lower ``score`` are dropped, in ``[0, 1]``; by
            default [`DISPLAY_SCORE_THRESHOLD`][cgalib.viz.DISPLAY_SCORE_THRESHOLD] (0.3),
            what a person wants to see. ``0`` keeps every candidate, as COCO evaluation
            needs ([`evaluate_coco()`][cgalib.eval.evaluate_coco] does so itself); the
            detector of a model that needs boxes is run with the same threshold.
        box_score_threshold: people with a lower ``box_score`` are dropped (for a model
            that needs boxes, their boxes are not cropped), in ``[0, 1]``.
        oks_nms_threshold: with a value in ``(0, 1]``, OKS-NMS (with the keypoint set's
            sigmas) drops a pose whose OKS to a higher-scored one of its image exceeds it
            (HRNet: 0.9); ``None`` keeps every pose.
        oks_area: what scales the OKS of OKS-NMS ([`OksArea`][cgalib.inference.OksArea]):
            ``"box"``, each pose's person box, or ``"crop"``, the padded, aspect-fixed crop
            region of a model that needs boxes (mmpose's convention); the default is the
            measured choice (``docs/benchmarks.md``).
        keypoint_score_threshold: the person score's keypoint rule: ``None`` averages all
            keypoint probabilities; a value in ``[0, 1)`` only those above it, mmpose's rule
            with 0.2 ([`Detections.scores()`][cgalib.inference.Detections.scores]); the default
            is the measured choice.
        compile: the fast path. ``False``: eager. ``True``: ``torch.compile`` of the model's
            ``predict_batch``, compiled lazily on the first batch (and again for each new
            input shape). ``"cuda_graphs"`` (CUDA only): a static-shape path, every batch
            padded to ``batch_size`` inputs of the model's square side (crop size, for a
            model that needs boxes), whose ``predict_batch`` is captured once in a CUDA
            graph and replayed; it must then be free of host synchronisations (CGANet's
            is written so).

    The fast paths compute what eager mode computes on the same input tensor: equal
    within floating-point tolerance in fp32 and within bf16 tolerance under ``"bf16"``
    (tested on CUDA). ``"cuda_graphs"`` pads rectangular images to a square, so its
    results equal those of an eager run at that square input, and can differ slightly
    from the default letterbox (which pads only to a multiple of 32) near the padding.

    A model loaded from weights that record training on cgalib's synthetic set only
    ([`trained_on()`][cgalib.models.trained_on], the shipped checkpoint's for instance) gives a
    [`SyntheticWeightsWarning`][SyntheticWeightsWarning].

    Raises:
        TypeError: for a model that does not carry the model contract.
        ValueError: for a model whose weights are not float32 (``model.half()``), a
            device this machine lacks, an ``input_size`` the model's
            ``input_rule`` refuses, a ``batch_size`` below 1, a threshold out of range, an
            unknown ``precision`` or ``compile``, or a ``detector`` that is not a model
            finding people on its own (or given to a model that finds them itself).

    Examples:
        >>> from cgalib import create_model
        >>> bottom_up = create_model("cganet_tnet_d1w16", input_size=128)
        >>> image = torch.zeros(3, 120, 160, dtype=torch.uint8)
        >>> every = Predictor(bottom_up, device="cpu", score_threshold=0)
        >>> len(every.predict(image))  # max_detections candidates
        20
        >>> shown = Predictor(bottom_up, device="cpu")  # people scored 0.3 or more
        >>> len(shown.predict(image))  # an untrained model is sure of no one
        0
        >>> top_down = Predictor(create_model("topdown_tnet_d1w16"), device="cpu", score_threshold=0)
        >>> people = top_down.predict(image, boxes=torch.tensor([[10.0, 20.0, 60.0, 110.0, 0.9]]))
        >>> len(people), len(people[0]["keypoints"]), people[0]["bbox"]
        (1, 51, [10.0, 20.0, 50.0, 90.0])
    """

    def __init__(
        self,
        model: nn.Module,
        detector: nn.Module | Predictor | None = None,
        device: str | torch.device | None = None,
        input_size: int | Sequence[int] | None = None,
        precision: Precision = "fp32",
        batch_size: int = 8,
        score_threshold: float = DISPLAY_SCORE_THRESHOLD,
        box_score_threshold: float = 0.0,
        oks_nms_threshold: float | None = None,
        compile: Compile = False,
        oks_area: OksArea = "box",
        keypoint_score_threshold: float | None = None,
    ) -> None:
        check_pose_model(model, "Predictor")
        _check_float32(model)
        precision_dtype(precision)  # validates the name
        rule = model.input_rule.resized(input_size)
        if not _is_int(batch_size) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        for name, value in (("score_threshold", score_threshold),
                            ("box_score_threshold", box_score_threshold)):  # fmt: skip
            if isinstance(value, bool) or not 0 <= value <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {value!r}")
        if oks_nms_threshold is not None and not 0 < oks_nms_threshold <= 1:
            raise ValueError(f"oks_nms_threshold must be in (0, 1], got {oks_nms_threshold!r}")
        if oks_area not in OKS_AREAS:
            raise ValueError(f"oks_area must be one of {OKS_AREAS}, got {oks_area!r}")
        if oks_area == "crop" and not model.needs_boxes:
            raise ValueError(
                f"oks_area='crop' scales OKS by the crops of a model that needs boxes; "
                f"{type(model).__name__} cuts none: use oks_area='box'"
            )
        if keypoint_score_threshold is not None and (
            isinstance(keypoint_score_threshold, bool) or not 0 <= keypoint_score_threshold < 1
        ):
            raise ValueError(
                f"keypoint_score_threshold must be None or in [0, 1), got {keypoint_score_threshold!r}"
            )
        if not (isinstance(compile, bool) or compile == "cuda_graphs"):
            raise ValueError(f"compile must be False, True or 'cuda_graphs', got {compile!r}")
        if trained_on(model) == SYNTHETIC_DESCRIPTION:
            warnings.warn(
                SyntheticWeightsWarning(
                    f"these {build_name(model)} weights were trained on cgalib's synthetic "
                    "people only: on photos their poses are unreliable (weights for photos "
                    "come from cgalib train on COCO)"
                ),
                stacklevel=2,
            )
        self.device = resolve_device(device)
        if compile == "cuda_graphs" and self.device.type != "cuda":
            raise ValueError(
                f"compile='cuda_graphs' needs a CUDA device, got {self.device}; use "
                f"compile=True (torch.compile) or False on the CPU"
            )
        self.model = model.to(self.device)
        self.input_rule: InputRule = rule
        self.sizes_per_picture = (
            input_size is None and not model.needs_boxes and compile != "cuda_graphs"
        )
        self.precision = precision
        self.batch_size = batch_size
        self.score_threshold = float(score_threshold)
        self.box_score_threshold = float(box_score_threshold)
        self.oks_nms_threshold = oks_nms_threshold
        self.oks_area = oks_area
        self.keypoint_score_threshold = keypoint_score_threshold
        self.compile = compile
        self.detector = self._detector(detector)
        self._compiled = None  # torch.compile(model.predict_batch), made on first use
        self._graph: GraphedPredictBatch | None = None  # the captured CUDA graph

    @property
    def keypoint_set(self) -> KeypointSet:
        """The keypoints each person has, in order: the model's ``keypoint_set`` (names,
        skeleton, flip map, OKS sigmas)."""
        return self.model.keypoint_set

    def _detector(self, detector: nn.Module | Predictor | None) -> Predictor | None:
        """The detector as a ``Predictor``, checked against the model's way of finding people."""
        if detector is None:
            return None
        name = type(self.model).__name__
        if not self.model.needs_boxes:
            raise ValueError(
                f"{name} finds the people in whole images itself; leave out detector (a "
                "detector gives person boxes to a model that needs them, e.g. TopDownPose)"
            )
        inner = detector.model if isinstance(detector, Predictor) else detector
        if not isinstance(detector, Predictor):
            check_pose_model(detector, "Predictor's detector")
        if inner.needs_boxes:
            raise ValueError(
                f"detector must be a model that finds people on its own (e.g. CGANet); "
                f"{type(inner).__name__} needs person boxes itself"
            )
        if not isinstance(detector, Predictor):
            batch = min(self.batch_size, 8)
            detector = Predictor(detector, device=self.device, precision=self.precision,
                                 batch_size=batch, score_threshold=self.score_threshold)  # fmt: skip
        return detector

    def _autocast(self, cache_enabled: bool = True):
        return autocast(self.device, self.precision, cache_enabled)

    def _run(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """``model.predict_batch`` on a batch of inputs, on the configured path."""
        if self.compile == "cuda_graphs":
            n, (h, w) = batch.shape[0], batch.shape[-2:]
            height, width = self._static_size()
            static = F.pad(batch, (0, width - w, 0, height - h, 0, 0, 0, self.batch_size - n))
            if self._graph is None:
                self._graph = GraphedPredictBatch(self.model, static, self._autocast)
            return {key: value[:n] for key, value in self._graph(static).items()}
        if self.compile is True:
            if self._compiled is None:
                self._compiled = torch.compile(self.model.predict_batch)
            run = self._compiled
        else:
            run = self.model.predict_batch
        with self._autocast():
            return run(batch)

    def input_size_for(self, height: int, width: int) -> tuple[int, int]:
        """The input ``(H, W)`` a picture of this size is fed at: the letterbox square of
        its side for a model that finds people on its own (picked per picture when no
        ``input_size`` was given), the crop for a model that needs boxes.

        Args:
            height: the picture's height in pixels.
            width: the picture's width in pixels.

        Returns:
            ``(H, W)`` in pixels.

        Example:
            >>> from cgalib import create_model
            >>> model = create_model("cganet_tnet_d1w16", input_size=128)
            >>> Predictor(model, device="cpu").input_size_for(480, 640)
            (256, 256)
            >>> Predictor(model, device="cpu", input_size=128).input_size_for(480, 640)
            (128, 128)
        """
        if self.model.needs_boxes:
            return self.input_rule.size
        rule = self.input_rule
        side = rule.side_for_picture(height, width) if self.sizes_per_picture else rule.side
        return (side, side)

    def _static_size(self) -> tuple[int, int]:
        """The one input size of the ``"cuda_graphs"`` path: the square side, or the crop."""
        side = self.input_rule.side
        return self.input_rule.size if self.model.needs_boxes else (side, side)

    def predict(
        self,
        inputs: ImageInput | Sequence[ImageInput],
        boxes: BoxesInput | Sequence[BoxesInput] | None = None,
    ) -> list[dict] | list[list[dict]]:
        """Predict the people in one image or a list of images.

        Images are converted by [`to_rgb_tensor()`][cgalib.utils.to_rgb_tensor] and so follow its
        image-value rule (``uint8`` 0..255, floats 0..1, ...). Before the model runs on
        anything, every in-memory image of a list is checked and converted, every path is
        checked to exist and every box tensor is checked, so a bad input fails fast
        instead of after the model ran on the images before it; files are decoded batch
        by batch. To skip unreadable files and keep going, use
        [`predict_media()`][cgalib.inference.predict_media].

        Args:
            inputs: one image (path, PIL image, HWC numpy array, CHW tensor) or a list of
                them.
            boxes: for a model that needs boxes, the person boxes (see
                [`BoxesInput`][BoxesInput]): one tensor for one image, one per image for a
                list; ``None`` runs the ``detector``. Refused for a model that finds people
                on its own.

        Returns:
            For one image, the list of its people (see the class docstring); for a list of
            images, one such list per image.

        Raises:
            FileNotFoundError: for a missing file, naming it.
            IsADirectoryError: for a folder (predict its pictures with
                [`predict_media()`][cgalib.inference.predict_media]).
            ValueError: for a model whose weights are no longer float32 (``model.half()``
                after the Predictor was built), a URL, a video file, an unreadable file
                (naming it), an empty image, an unsupported
                shape or values outside the image-value rule (in a list, the message
                starts with the input's index); for boxes given to a model that finds
                people itself, no boxes and no detector for a model that needs them, a
                number of box tensors other than of images, or a box tensor of the wrong
                shape or with non-finite values (naming the image).
            TypeError: for an input that is not an image.
        """
        single = not isinstance(inputs, (list, tuple))
        items = [inputs] if single else list(inputs)
        given = self._given_boxes(boxes, single, len(items))
        label = (lambda i: "") if single else (lambda i: f"input {i}: ")
        _check_float32(self.model)
        for i, x in enumerate(items):  # in-memory images converted, paths checked: fail fast
            if not isinstance(x, (str, os.PathLike)):
                items[i] = _convert(x, label(i))
            else:
                _labelled(check_image_path, x, label(i))
        results: list[list[dict]] = []
        with torch.inference_mode(), _eval_mode(self.model):
            for start in range(0, len(items), self.batch_size):
                chunk = [
                    _convert(x, label(start + j))
                    for j, x in enumerate(items[start : start + self.batch_size])
                ]
                if not self.model.needs_boxes:
                    found = self._people_in_images(chunk)
                else:
                    chunk = [image.to(self.device) for image in chunk]
                    if given is not None:
                        found = self._people_in_boxes(chunk, given[start : start + len(chunk)])
                    else:
                        found = self._people_in_boxes(chunk, self._detect(chunk))
                results.extend(self._to_people(f) for f in found)
        return results[0] if single else results

    def _to_people(self, found: Detections) -> list[dict]:
        return to_people(
            found,
            self.score_threshold,
            self.box_score_threshold,
            self.oks_nms_threshold,
            self.keypoint_set.sigmas,
            self.keypoint_score_threshold,
            self.oks_area,
        )

    def _given_boxes(self, boxes, single: bool, count: int) -> list[torch.Tensor] | None:
        """The given boxes as `(N, 5)` tensors, one per image, checked; ``None`` if none."""
        name = type(self.model).__name__
        if boxes is None:
            if self.model.needs_boxes and self.detector is None:
                raise ValueError(
                    f"{name} needs person boxes: pass detector=... (e.g. a CGANet) when "
                    "building the Predictor, or predict(images, boxes=...)"
                )
            return None
        if not self.model.needs_boxes:
            raise ValueError(f"{name} finds the people in whole images itself; leave out boxes")
        given = [boxes] if single else list(boxes)
        if len(given) != count:
            raise ValueError(f"got {len(given)} box tensors for {count} images")
        return [_as_detections(b, i) for i, b in enumerate(given)]

    def _people_in_images(self, images: list[torch.Tensor]) -> list[Detections]:
        """What a model finding people on its own sees in each image, image by image.

        Images are batched with those of the same side and letterboxed canvas only
        (``"cuda_graphs"`` pads every image to its square), so each runs on exactly the
        input it would get alone."""
        multiple = self.input_rule.multiple
        groups: dict[tuple[int, int, int], list[int]] = {}
        inputs, scales = [], []
        for i, image in enumerate(images):
            h, w = image.shape[-2:]
            side = self.input_size_for(h, w)[0]
            canvas = letterbox_shape(h, w, side, multiple)
            key = self._static_size() if self.compile == "cuda_graphs" else canvas
            groups.setdefault((side, *key), []).append(i)
            scale, nh, nw = letterbox_size(h, w, side)
            if h * w > LARGE_IMAGE_PIXELS and scale < 1 and image.dtype == torch.uint8:
                image = resize_image(image.cpu(), (nh, nw))  # no full-size float copy
            inputs.append(image.to(self.device))
            scales.append(scale)
        found: list[Detections] = [None] * len(images)  # type: ignore[list-item]
        for (side, *_), indices in groups.items():
            batch, _ = letterbox_batch([inputs[i] for i in indices], side, multiple)
            out = {k: v.float().cpu() for k, v in self._run(batch).items()}
            for j, i in enumerate(indices):
                one = {k: v[j] for k, v in out.items()}
                found[i] = _unletterbox(one, scales[i], tuple(images[i].shape[-2:]))
        return found

    def _detect(self, images: list[torch.Tensor]) -> list[torch.Tensor]:
        """`(N, 5)` boxes and box scores of each image from the detector's people."""
        out = []
        for people in self.detector.predict(images):
            rows = [
                [p["bbox"][0], p["bbox"][1], p["bbox"][0] + p["bbox"][2],
                 p["bbox"][1] + p["bbox"][3], p["box_score"]]
                for p in people
            ]  # fmt: skip
            out.append(torch.tensor(rows, dtype=torch.float32).reshape(-1, 5))
        return out

    def _people_in_boxes(
        self, images: list[torch.Tensor], detections: list[torch.Tensor]
    ) -> list[Detections]:
        """The pose of each box of each image, by a model that needs boxes."""
        size = self.input_rule.size
        kept = [d[d[:, 4] >= self.box_score_threshold] for d in detections]
        crops, matrices, owners = [], [], []
        regions = [person_crop_boxes(det[:, :4].double(), size) for det in kept]
        for i, (image, det) in enumerate(zip(images, kept)):
            if len(det) == 0:
                continue
            m = crop_affine(regions[i], size)
            pixels = to_float_image(image)[None].expand(len(det), -1, -1, -1)
            crops.append(crop_images(pixels, m.float(), size))
            matrices.append(m.cpu())
            owners += [i] * len(det)
        keypoints = [torch.zeros(0, len(self.keypoint_set), 3)]
        if crops:
            batch = torch.cat(crops)
            for start in range(0, len(batch), self.batch_size):
                out = self._run(batch[start : start + self.batch_size])
                keypoints.append(out["keypoints"].float().cpu())
        points = torch.cat(keypoints)
        frames = torch.cat(matrices) if matrices else torch.zeros(0, 2, 3, dtype=torch.float64)
        owner = torch.tensor(owners, dtype=torch.long)
        found = []
        for i, (image, det) in enumerate(zip(images, kept)):
            rows = owner == i
            kps = uncrop_keypoints(points[rows].double(), frames[rows], tuple(image.shape[-2:]))
            found.append(
                Detections(det[:, :4], det[:, 4], kps.float(), crop_regions=regions[i].float())
            )
        return found


def _unletterbox(out: dict[str, torch.Tensor], scale: float, size: tuple[int, int]) -> Detections:
    """One image's batched outputs (input pixels) as its people in image pixels."""
    extended = out.get("extended_boxes")
    extended = unletterbox_boxes(extended, scale) if extended is not None else None
    keypoints = out.get("keypoints")
    if keypoints is not None:
        keypoints = unletterbox_keypoints(keypoints, scale, size)
    rles = None
    if "masks" in out:  # pasted at the unclipped extended boxes in image pixels
        rles = masks_to_rle(paste_roi_masks(out["masks"], extended, size) >= 0.5)
    boxes = unletterbox_boxes(out["boxes"], scale, size)
    return Detections(boxes, out["scores"], keypoints, extended, rles)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _convert(image: ImageInput, label: str) -> torch.Tensor:
    """``to_rgb_tensor(image)``, its errors prefixed with ``label`` (the input's index)."""
    return _labelled(to_rgb_tensor, image, label)


def _labelled(fn, image, label: str):
    """``fn(image)``, its errors prefixed with ``label`` (the input's index, in a list)."""
    try:
        return fn(image)
    except (FileNotFoundError, IsADirectoryError, ValueError, TypeError) as err:
        if not label:
            raise
        kinds = (FileNotFoundError, IsADirectoryError, ValueError, TypeError)
        kind = next(k for k in kinds if isinstance(err, k))
        raise kind(f"{label}{err}") from err


@contextlib.contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    """Eval mode for the block; then every submodule back in the mode it was in."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training


def _check_float32(model: nn.Module) -> None:
    """Refuse weights that are not float32 (``model.half()``) with one line."""
    tensors = itertools.chain(model.parameters(), model.buffers())
    found = {t.dtype for t in tensors if t.is_floating_point()} - {torch.float32}
    if found:
        names = ", ".join(sorted(str(d) for d in found))
        raise ValueError(
            f"the weights of {type(model).__name__} are {names} (model.half()?), but the "
            "Predictor runs float32 weights: pass model.float(), and precision='fp16' (or "
            "'bf16') for half-precision arithmetic"
        )


def _as_detections(boxes: BoxesInput, index: int) -> torch.Tensor:
    """Boxes of image ``index`` as a float `(N, 5)` tensor (score 1 where not given)."""
    b = torch.as_tensor(boxes, dtype=torch.float32).cpu()
    if b.numel() == 0:
        return b.reshape(0, 5)
    if b.dim() != 2 or b.shape[1] not in (4, 5):
        raise ValueError(
            f"boxes of image {index} must be (N, 4) xyxy or (N, 5) xyxy and score, got "
            f"{tuple(b.shape)}"
        )
    if not torch.isfinite(b).all():
        raise ValueError(f"boxes of image {index} hold non-finite values")
    if b.shape[1] == 4:
        b = torch.cat([b, torch.ones(len(b), 1)], 1)
    return b
