"""Top-down inference: person boxes (given, or from a detector) -> crops -> poses in image pixels."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from cgalib.codecs.affine import crop_affine, crop_images, person_crop_boxes, uncrop_keypoints
from cgalib.inference.predictor import Predictor
from cgalib.postprocess.oks_nms import oks_nms
from cgalib.utils.image import ImageInput, to_float_image, to_rgb_tensor
from cgalib.utils.keypoint_set import KeypointSet
from cgalib.utils.precision import Precision, autocast, precision_dtype

__all__ = ["TopDownPredictor"]

BoxesInput = torch.Tensor | Sequence[Sequence[float]]


class TopDownPredictor:
    """Run a top-down pose model on the people found by a detector, or in given boxes.

    For each image, every person box (continuous xyxy, image pixels) becomes a crop region
    of the model's aspect ratio padded by 1.25 ([`person_crop_boxes()`][cgalib.codecs.person_crop_boxes]),
    is cut to the model's ``input_size`` by one kornia warp
    ([`crop_images()`][cgalib.codecs.crop_images], zeros outside the image), the model's eval forward
    decodes each crop's keypoints (with the flip test if the model was built with
    ``flip_test=True``), and the inverse affine maps them back to the image
    ([`uncrop_keypoints()`][cgalib.codecs.uncrop_keypoints], clipped to the image).

    Boxes come from the ``boxes`` argument of [`predict()`][predict] (ground truth, a detections
    file: see [`load_detections()`][cgalib.data.load_detections]) or, when it is left out, from
    ``detector``: a multi-person model such as a [`CGANet`][cgalib.CGANet] (run by a
    [`Predictor`][cgalib.Predictor]; its people's boxes and ``box_score`` are used), or a
    ``Predictor`` itself.

    Each person is a dict like the [`Predictor`][cgalib.Predictor]'s: ``bbox`` ``[x, y, w, h]``
    (the person box), ``keypoints`` (flat ``[x1, y1, s1, ...]`` in the order of the model's
    [`keypoint_set`][keypoint_set], every keypoint located, ``s`` its probability), ``score`` (the box score times the mean keypoint probability),
    ``box_score`` and ``category_id`` 1, sorted by ``score``.

    Args:
        model: a top-down model (e.g. [`TopDownPose`][cgalib.TopDownPose]) with ``input_size``
            ``(H, W)`` and an eval ``forward(crops)`` returning `(N, K, 3)` keypoints
            ``(x, y, score)`` in crop pixels.
        detector: where boxes come from when [`predict()`][predict] gets none: a multi-person
            model or a [`Predictor`][cgalib.Predictor].
        device: where to run; defaults to CUDA when available, else CPU.
        batch_size: crops per forward pass of ``model`` (and images per detector pass).
        precision: ``"fp32"``, or ``"bf16"``/``"fp16"`` autocast (model and detector).
        detector_input_size: the detector's letterbox size (default its ``input_size``,
            else 512).
        box_score_threshold: boxes scored lower are not cropped.
        score_threshold: people with a lower ``score`` are dropped.
        oks_nms_threshold: with a value, OKS-NMS (`oks_nms()`)
            drops a pose whose OKS (with the OKS sigmas of the model's
            [`keypoint_set`][keypoint_set]) to a higher-scored one of the image exceeds it (HRNet:
            0.9); ``None`` keeps every pose.

    Raises:
        ValueError: if ``model`` has no ``(H, W)`` ``input_size`` with multiples of 32, or
            ``detector`` is itself a single-person model.

    Examples:
        >>> from cgalib import create_model
        >>> model = create_model("topdown_tnet_d1w16")
        >>> predictor = TopDownPredictor(model, device="cpu")
        >>> people = predictor.predict(torch.zeros(3, 120, 160, dtype=torch.uint8),
        ...                            boxes=torch.tensor([[10.0, 20.0, 60.0, 110.0, 0.9]]))
        >>> len(people), len(people[0]["keypoints"]), people[0]["bbox"]
        (1, 51, [10.0, 20.0, 50.0, 90.0])
    """

    def __init__(
        self,
        model: nn.Module,
        detector: nn.Module | Predictor | None = None,
        device: str | torch.device | None = None,
        batch_size: int = 32,
        precision: Precision = "fp32",
        detector_input_size: int | None = None,
        box_score_threshold: float = 0.0,
        score_threshold: float = 0.0,
        oks_nms_threshold: float | None = None,
    ) -> None:
        precision_dtype(precision)  # validates the name
        size = getattr(model, "input_size", None)
        if (
            not isinstance(size, (tuple, list))
            or len(size) != 2
            or any(int(s) <= 0 or int(s) % 32 for s in size)
        ):
            raise ValueError(
                f"TopDownPredictor needs a top-down model with input_size (H, W), multiples of "
                f"32 (e.g. TopDownPose); {type(model).__name__} has input_size {size!r}"
            )
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if oks_nms_threshold is not None and not 0 < oks_nms_threshold <= 1:
            raise ValueError(f"oks_nms_threshold must be in (0, 1], got {oks_nms_threshold}")
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model = model.to(self.device).eval()
        self.crop_size = (int(size[0]), int(size[1]))
        self.batch_size = int(batch_size)
        self.precision = precision
        self.box_score_threshold = float(box_score_threshold)
        self.score_threshold = float(score_threshold)
        self.oks_nms_threshold = oks_nms_threshold
        self.detector = _detector(detector, self.device, detector_input_size, precision, batch_size)

    @property
    def input_size(self) -> tuple[int, int]:
        """``(H, W)`` of the crops, the model's ``input_size`` (what video results record)."""
        return self.crop_size

    @property
    def keypoint_set(self) -> KeypointSet:
        """The keypoints each person has, in order: the model's ``keypoint_set`` (names,
        skeleton, flip map, OKS sigmas), COCO's for a model without one."""
        return getattr(self.model, "keypoint_set", None) or KeypointSet.coco()

    @torch.inference_mode()
    def predict(
        self,
        inputs: ImageInput | Sequence[ImageInput],
        boxes: BoxesInput | Sequence[BoxesInput] | None = None,
    ) -> list[dict] | list[list[dict]]:
        """Estimate the pose of every person in one image or a list of images.

        Args:
            inputs: one image (path, PIL image, HWC ``uint8`` numpy array, CHW tensor) or a
                list of them.
            boxes: the person boxes, `(N, 4)` xyxy or `(N, 5)` xyxy and score (score 1
                when left out), in image pixels: one tensor for one image, one per image
                for a list. ``None`` runs the ``detector``.

        Returns:
            For one image, the list of its people (see the class docstring); for a list of
            images, one such list per image.

        Raises:
            ValueError: if neither ``boxes`` nor a ``detector`` is given, the number of box
                tensors differs from the number of images, or a box tensor has the wrong
                shape or non-finite values (naming the image).
            FileNotFoundError / ValueError: for a missing or unreadable image file.
        """
        single = not isinstance(inputs, (list, tuple))
        items = [inputs] if single else list(inputs)
        if boxes is not None:
            given = [boxes] if single else list(boxes)
            if len(given) != len(items):
                raise ValueError(f"got {len(given)} box tensors for {len(items)} images")
        elif self.detector is None:
            raise ValueError(
                "TopDownPredictor needs person boxes: pass detector=... (e.g. a CGANet) when "
                "building it, or predict(images, boxes=...)"
            )
        results: list[list[dict]] = []
        for start in range(0, len(items), self.batch_size):
            images = [to_rgb_tensor(x) for x in items[start : start + self.batch_size]]
            if boxes is None:
                detections = self._detect(images)
            else:
                detections = [
                    _as_detections(b, start + i)
                    for i, b in enumerate(given[start : start + len(images)])
                ]
            results.extend(self._estimate(images, detections))
        return results[0] if single else results

    def _detect(self, images: list[torch.Tensor]) -> list[torch.Tensor]:
        """`(N, 5)` boxes and scores of each image from the detector's people."""
        out = []
        for people in self.detector.predict(images):
            rows = [
                [p["bbox"][0], p["bbox"][1], p["bbox"][0] + p["bbox"][2],
                 p["bbox"][1] + p["bbox"][3], p.get("box_score", p["score"])]
                for p in people
            ]  # fmt: skip
            out.append(torch.tensor(rows, dtype=torch.float32).reshape(-1, 5))
        return out

    def _estimate(self, images: list[torch.Tensor], detections: list[torch.Tensor]) -> list:
        crops, matrices, owners = [], [], []
        kept = [d[d[:, 4] >= self.box_score_threshold] for d in detections]
        for i, (image, det) in enumerate(zip(images, kept)):
            if len(det) == 0:
                continue
            regions = person_crop_boxes(det[:, :4].double(), self.crop_size)
            m = crop_affine(regions, self.crop_size)
            pixels = to_float_image(image.to(self.device))[None].expand(len(det), -1, -1, -1)
            crops.append(crop_images(pixels, m.float(), self.crop_size))
            matrices.append(m)
            owners += [i] * len(det)
        keypoints = []
        if crops:
            batch = torch.cat(crops)
            for start in range(0, len(batch), self.batch_size):
                with autocast(self.device, self.precision):
                    out = self.model(batch[start : start + self.batch_size])
                keypoints.append(out.float().cpu())
        keypoints = torch.cat(keypoints) if keypoints else torch.zeros(0, 0, 3)
        matrices = torch.cat(matrices) if matrices else torch.zeros(0, 2, 3)
        owners_t = torch.tensor(owners, dtype=torch.long)
        results = []
        for i, (image, det) in enumerate(zip(images, kept)):
            rows = owners_t == i
            kps = uncrop_keypoints(
                keypoints[rows].double(), matrices[rows].cpu(), tuple(image.shape[-2:])
            ).float()
            results.append(self._people(det, kps))
        return results

    def _people(self, det: torch.Tensor, kps: torch.Tensor) -> list[dict]:
        box_scores = det[:, 4]
        scores = box_scores * kps[..., 2].mean(-1) if len(det) else box_scores
        order = torch.argsort(scores, descending=True)
        if self.oks_nms_threshold is not None and len(det):
            areas = (det[:, 2] - det[:, 0]) * (det[:, 3] - det[:, 1])
            order = oks_nms(kps, scores, areas, self.oks_nms_threshold, self.keypoint_set.sigmas)
        people = []
        for j in order.tolist():
            if scores[j] < self.score_threshold:
                continue
            x1, y1, x2, y2 = det[j, :4].tolist()
            people.append(
                {
                    "category_id": 1,
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "keypoints": kps[j].flatten().tolist(),
                    "score": float(scores[j]),
                    "box_score": float(box_scores[j]),
                }
            )
        return people


def _detector(
    detector: nn.Module | Predictor | None,
    device: torch.device,
    input_size: int | None,
    precision: Precision,
    batch_size: int,
) -> Predictor | None:
    if detector is None or isinstance(detector, Predictor):
        return detector
    if not isinstance(detector, nn.Module):
        raise ValueError(
            f"detector must be a multi-person model (e.g. CGANet) or a Predictor, got "
            f"{type(detector).__name__}"
        )
    if isinstance(getattr(detector, "input_size", None), (tuple, list)):
        raise ValueError(
            f"detector must be a multi-person model (e.g. CGANet); {type(detector).__name__} "
            "with a crop input_size is a single-person (top-down) model"
        )
    size = input_size or int(getattr(detector, "input_size", 512))
    return Predictor(detector, device=device, input_size=size, precision=precision,
                     batch_size=min(batch_size, 8))  # fmt: skip


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
