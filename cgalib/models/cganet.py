"""CGANet: the single-model pose estimator (paper Fig. 2).

Data flow::

    images (B,3,H,W) in 0..1 --normalise--> backbone --> L0..L3
    L0 --> CenterHeads (heatmap, wh, offset) + CenterLineBranch (line_x, line_y)
    train: dense targets + jittered, extended ground-truth ROIs --> weighted losses (eq. 9)
    infer: sigmoid --> Ambiguity Alleviation --> top-k centers --> box extension (DEA)
           --> keypoint head (ROIGuider) on the extended boxes --> per-box keypoint decode
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import nn

from cgalib.backbones.tnet import TNet
from cgalib.data.coco_meta import FLIP_INDEX
from cgalib.heads.center import CenterHeads
from cgalib.heads.center_line import CenterLineBranch
from cgalib.heads.roi_guider import ROIGuider
from cgalib.heads.roi_pointer import ROIPointer
from cgalib.losses import center_line_loss, focal_loss, reg_l1_loss
from cgalib.models.checkpoint import save_model
from cgalib.postprocess import (
    alleviate_ambiguity,
    decode_centers,
    dichotomy_extend_area,
    fixed_extend_area,
)
from cgalib.registry import register_model
from cgalib.targets import build_targets, decode_roi_heatmaps, roi_keypoint_targets

__all__ = [
    "CGANet",
    "LOSS_WEIGHTS",
    "cganet_tnet_d1w16",
    "cganet_tnet_d1w64",
    "cganet_tnet_d1w64_cascade",
    "cganet_tnet_d1w64_roipointer",
    "cganet_tnet_d3w96",
]

LOSS_WEIGHTS = {"det": 1.0, "wh": 0.1, "offset": 1.0, "line_x": 1.0, "line_y": 1.0, "km": 3.0}
"""Loss weights of paper eq. 9."""

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

BoxExtension = Literal["dichotomy", "fixed", "none"]


class CGANet(nn.Module):
    """Context-Guided Adaptive Network for single-model multi-person pose estimation.

    Every post-processing switch is a constructor argument so that the ablation of the
    paper's Table 1 flips them without code changes.

    Args:
        backbone: a multi-level backbone with ``out_channels`` and ``strides`` (e.g.
            :class:`~cgalib.TNet`); level 0 must have stride 4.
        keypoint_head: a per-box head called as ``head(features, boxes)`` with ``boxes``
            a list of `(N_i, 4)` tensors in input pixels, returning `(sum N_i, K, h, w)`
            logits (:class:`~cgalib.ROIGuider` or :class:`~cgalib.ROIPointer`); it must
            accept ``return_all=True`` to return the logits of every cascade stage.
        num_keypoints: ``K``.
        head_channels: hidden channels of the dense heads.
        max_detections: ``k`` of the top-k center decode (COCO's maxDets = 20).
        ambiguity_alleviation: apply paper eq. 4 before decoding.
        aa_alpha: ``alpha`` of eq. 4 (exponent of the center heatmap).
        aa_beta: ``beta`` of eq. 4 (exponent of the center-line product).
        box_extension: ``"dichotomy"`` (DEA, Algorithm 1), ``"fixed"`` (Table 1 d*) or
            ``"none"``.
        extend_ratio: DEA's maximum extension ``ratio`` (and the fixed ratio).
        extend_thre: DEA's center-line threshold ``thre``.
        extend_iters: DEA's ``max_iters``.
        loss_weights: overrides of :data:`LOSS_WEIGHTS`.
        jitter_scale: training ROI jitter: each side length is scaled by a factor drawn in
            ``[1 - jitter_scale, 1 + jitter_scale]``.
        jitter_shift: training ROI jitter: the center moves by up to this fraction of the
            box size.
        max_train_rois: ground-truth people used per image for the keypoint loss.
        keypoint_sigma: Gaussian sigma of the ROI keypoint targets, in ROI heatmap pixels.
        flip_test: at inference, also run the horizontally flipped image and average the
            dense maps and the keypoint logits (about twice the cost).
        flip_index: keypoint permutation of a horizontal flip (COCO's by default).
        input_size: the training input side the keypoint head's ROI sizes were made for;
            the default input size of evaluation and prediction.

    Shape:
        - images: `(B, 3, H, W)`, RGB in 0..1, ``H`` and ``W`` multiples of 32
        - targets (train): list of B dicts with ``boxes`` `(N, 4)` xyxy and ``keypoints``
          `(N, K, 3)` (x, y, visibility) in input pixels
        - output (eval): list of B dicts with ``boxes`` `(k, 4)`, ``extended_boxes``
          `(k, 4)`, ``scores`` `(k,)` in [0, 1] sorted descending and ``keypoints``
          `(k, K, 3)` as (x, y, score) in input pixels
        - output (train): dict of weighted losses ``det, wh, offset, line_x, line_y, km``
    """

    output_stride = 4

    def __init__(
        self,
        backbone: nn.Module,
        keypoint_head: nn.Module,
        num_keypoints: int = 17,
        head_channels: int = 64,
        max_detections: int = 20,
        ambiguity_alleviation: bool = True,
        aa_alpha: float = 1.0,
        aa_beta: float = 0.5,
        box_extension: BoxExtension = "dichotomy",
        extend_ratio: float = 0.09,
        extend_thre: float = 0.08,
        extend_iters: int = 10,
        loss_weights: dict[str, float] | None = None,
        jitter_scale: float = 0.15,
        jitter_shift: float = 0.1,
        max_train_rois: int = 32,
        keypoint_sigma: float = 2.0,
        flip_test: bool = False,
        flip_index: Sequence[int] = FLIP_INDEX,
        input_size: int = 512,
    ) -> None:
        super().__init__()
        if backbone.strides[0] != self.output_stride:
            raise ValueError(f"CGANet needs a stride-4 level 0, got strides {backbone.strides}")
        if box_extension not in ("dichotomy", "fixed", "none"):
            raise ValueError(f"box_extension must be dichotomy, fixed or none: {box_extension!r}")
        unknown = set(loss_weights or {}) - set(LOSS_WEIGHTS)
        if unknown:
            raise ValueError(f"unknown loss weights {sorted(unknown)}; known: {list(LOSS_WEIGHTS)}")
        self.backbone = backbone
        self.center_heads = CenterHeads(backbone.out_channels[0], head_channels)
        self.center_line = CenterLineBranch(backbone.out_channels[0], head_channels)
        self.keypoint_head = keypoint_head
        self.num_keypoints = num_keypoints
        self.max_detections = max_detections
        self.ambiguity_alleviation = ambiguity_alleviation
        self.aa_alpha = aa_alpha
        self.aa_beta = aa_beta
        self.box_extension = box_extension
        self.extend_ratio = extend_ratio
        self.extend_thre = extend_thre
        self.extend_iters = extend_iters
        self.loss_weights = {**LOSS_WEIGHTS, **(loss_weights or {})}
        self.jitter_scale = jitter_scale
        self.jitter_shift = jitter_shift
        self.max_train_rois = max_train_rois
        self.keypoint_sigma = keypoint_sigma
        self.flip_test = flip_test
        self.input_size = input_size
        self.flip_index = list(flip_index)
        if sorted(self.flip_index) != list(range(num_keypoints)):
            raise ValueError(f"flip_index must permute range({num_keypoints})")
        self.register_buffer("pixel_mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), False)
        self.register_buffer("pixel_std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), False)

    def save(self, path: str | os.PathLike, **extra: Any) -> None:
        """Save weights with the builder name and kwargs (see :func:`cgalib.save_model`).

        Args:
            path: the checkpoint file, written atomically.
            **extra: JSON metadata stored alongside (e.g. ``epoch``).
        """
        save_model(self, path, **extra)

    # ----------------------------------------------------------------------------- dense
    def forward_dense(self, images: torch.Tensor) -> tuple[list[torch.Tensor], dict]:
        """Backbone and dense heads.

        Args:
            images: `(B, 3, H, W)` RGB in 0..1.

        Returns:
            The pyramid ``[L0..L3]`` and a dict of logits/regressions on ``L0``:
            ``heatmap`` `(B,1,H/4,W/4)`, ``wh`` `(B,2,..)`, ``offset`` `(B,2,..)`,
            ``line_x`` and ``line_y`` `(B,1,..)`.
        """
        if images.dtype == torch.uint8:
            raise ValueError("CGANet expects float images in 0..1, got uint8 (divide by 255)")
        features = self.backbone((images - self.pixel_mean) / self.pixel_std)
        outputs = self.center_heads(features[0])
        outputs.update(self.center_line(features[0]))
        return features, outputs

    def detect(self, outputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Centers to boxes: sigmoid, Ambiguity Alleviation, top-k decode, box extension.

        Args:
            outputs: the dense outputs of :meth:`forward_dense`.

        Returns:
            dict with ``boxes`` and ``extended_boxes`` `(B, k, 4)` in input pixels and
            ``scores`` `(B, k)` in [0, 1], sorted descending.
        """
        heat = outputs["heatmap"].float().sigmoid()
        line_x = outputs["line_x"].float().sigmoid()
        line_y = outputs["line_y"].float().sigmoid()
        if self.ambiguity_alleviation:
            heat = alleviate_ambiguity(heat, line_x, line_y, self.aa_alpha, self.aa_beta)
        boxes, scores = decode_centers(
            heat, outputs["wh"].float(), outputs["offset"].float(), k=self.max_detections
        )
        if self.box_extension == "dichotomy":
            extended = dichotomy_extend_area(
                boxes,
                line_x[:, 0],
                line_y[:, 0],
                ratio=self.extend_ratio,
                thre=self.extend_thre,
                max_iters=self.extend_iters,
            )
        elif self.box_extension == "fixed":
            extended = fixed_extend_area(boxes, self.extend_ratio)
        else:
            extended = boxes
        s = self.output_stride
        return {"boxes": boxes * s, "extended_boxes": extended * s, "scores": scores}

    # ------------------------------------------------------------------------- forward
    def forward(
        self, images: torch.Tensor, targets: Sequence[dict[str, torch.Tensor]] | None = None
    ):
        if self.training:
            if targets is None:
                raise ValueError("CGANet in train mode needs targets (call model.eval() to infer)")
            if len(targets) != images.shape[0]:
                raise ValueError(f"got {len(targets)} targets for {images.shape[0]} images")
            return self._losses(images, targets)
        return self._infer(images)

    def _infer(self, images: torch.Tensor) -> list[dict[str, torch.Tensor]]:
        out = self.predict_batch(images)
        return [{key: value[b] for key, value in out.items()} for b in range(images.shape[0])]

    def predict_batch(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Inference as batched tensors: what ``forward`` returns in eval mode, unsplit.

        Every image gets exactly ``k = min(max_detections, H/4 * W/4)`` detections, so the
        batch stays one tensor per output; this is the form that tracing exporters
        (:func:`cgalib.export.export_onnx`) follow.

        Args:
            images: `(B, 3, H, W)` RGB in 0..1, ``H`` and ``W`` multiples of 32.

        Returns:
            dict with ``boxes``, ``extended_boxes``, ``scores`` (sorted descending) and
            ``keypoints`` as (x, y, score), in input pixels.

        Shape:
            - images: `(B, 3, H, W)`
            - boxes, extended_boxes: `(B, k, 4)`
            - scores: `(B, k)`
            - keypoints: `(B, k, K, 3)`
        """
        features, outputs = self.forward_dense(images)
        if self.flip_test:
            features_f, outputs_f = self.forward_dense(images.flip(-1))
            outputs = _average_flipped(outputs, outputs_f)
        det = self.detect(outputs)
        rois = list(det["extended_boxes"].unbind(0))
        logits = self.keypoint_head(features, rois)
        if self.flip_test:
            width = images.shape[-1]
            mirrored = [
                torch.stack([width - r[:, 2], r[:, 1], width - r[:, 0], r[:, 3]], 1) for r in rois
            ]
            logits_f = self.keypoint_head(features_f, mirrored).flip(-1)[:, self.flip_index]
            logits = (logits + logits_f) / 2
        keypoints = decode_roi_heatmaps(logits.float(), torch.cat(rois))
        keypoints = keypoints.view(images.shape[0], -1, self.num_keypoints, 3)
        return {
            "boxes": det["boxes"],
            "extended_boxes": det["extended_boxes"],
            "scores": det["scores"],
            "keypoints": keypoints,
        }

    # -------------------------------------------------------------------------- losses
    def _losses(self, images, targets) -> dict[str, torch.Tensor]:
        features, outputs = self.forward_dense(images)
        dense = build_targets(targets, tuple(images.shape[-2:]), self.output_stride)
        heat = outputs["heatmap"].float().sigmoid()
        losses = {
            "det": focal_loss(heat, dense["heatmap"]),
            "wh": reg_l1_loss(outputs["wh"].float(), dense["index"], dense["mask"], dense["wh"]),
            "offset": reg_l1_loss(
                outputs["offset"].float(), dense["index"], dense["mask"], dense["offset"]
            ),
            "line_x": center_line_loss(outputs["line_x"].float().sigmoid(), dense["line_x"]),
            "line_y": center_line_loss(outputs["line_y"].float().sigmoid(), dense["line_y"]),
            "km": self._keypoint_loss(features, targets, dense),
        }
        return {k: v * self.loss_weights[k] for k, v in losses.items()}

    def _training_rois(self, targets, dense, device) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Jittered ground-truth boxes, extended as at inference, and their keypoints."""
        rois, keypoints = [], []
        s = float(self.output_stride)
        for b, t in enumerate(targets):
            kps = t["keypoints"].to(device=device, dtype=torch.float32)
            boxes = t["boxes"].to(device=device, dtype=torch.float32)
            keep = (
                (kps[..., 2] > 0).any(-1)
                & (boxes[:, 2] > boxes[:, 0])
                & (boxes[:, 3] > boxes[:, 1])
            )
            boxes, kps = boxes[keep][: self.max_train_rois], kps[keep][: self.max_train_rois]
            boxes = self._jitter(boxes)
            if self.box_extension == "dichotomy":
                # extension driven by the ground-truth center lines that the branch learns
                boxes = (
                    dichotomy_extend_area(
                        boxes / s,
                        dense["line_x"][b, 0],
                        dense["line_y"][b, 0],
                        ratio=self.extend_ratio,
                        thre=self.extend_thre,
                        max_iters=self.extend_iters,
                    )
                    * s
                )
            elif self.box_extension == "fixed":
                boxes = fixed_extend_area(boxes, self.extend_ratio)
            rois.append(boxes)
            keypoints.append(kps)
        return rois, torch.cat(keypoints)

    def _jitter(self, boxes: torch.Tensor) -> torch.Tensor:
        if boxes.numel() == 0 or (self.jitter_scale == 0 and self.jitter_shift == 0):
            return boxes
        size = (boxes[:, 2:] - boxes[:, :2]).clamp(min=1.0)
        center = (boxes[:, 2:] + boxes[:, :2]) / 2
        scale = 1 + (torch.rand_like(size) * 2 - 1) * self.jitter_scale
        shift = (torch.rand_like(size) * 2 - 1) * self.jitter_shift * size
        center, size = center + shift, size * scale
        return torch.cat([center - size / 2, center + size / 2], dim=1)

    def _keypoint_loss(self, features, targets, dense) -> torch.Tensor:
        rois, keypoints = self._training_rois(targets, dense, features[0].device)
        stages = self.keypoint_head(features, rois, return_all=True)
        if keypoints.shape[0] == 0:  # no labelled person in the batch: keep the graph alive
            return sum(s.sum() for s in stages) * 0.0
        heat_size = tuple(stages[-1].shape[-2:])
        gt, weight = roi_keypoint_targets(
            keypoints, torch.cat(rois), heat_size, sigma=self.keypoint_sigma
        )
        # unlabelled keypoints weigh 0: no boolean indexing, so no host synchronisation
        weight = weight[..., None, None]
        losses = [focal_loss(s.float().sigmoid(), gt, weight=weight) for s in stages]
        return sum(losses) / len(losses)


def _average_flipped(outputs: dict, flipped: dict) -> dict:
    """Average dense outputs with those of the mirrored image (CenterNet's flip test).

    Heatmaps are averaged as probabilities (returned as logits again), sizes as values;
    the offset keeps the unflipped prediction.
    """
    out = dict(outputs)
    for key in ("heatmap", "line_x", "line_y"):
        prob = (outputs[key].float().sigmoid() + flipped[key].float().flip(-1).sigmoid()) / 2
        out[key] = torch.logit(prob, eps=1e-6)
    out["wh"] = (outputs["wh"].float() + flipped["wh"].float().flip(-1)) / 2
    return out


def _create_cganet(
    depth: int,
    width: int,
    input_size: int = 512,
    keypoint_head: Literal["roi_guider", "roi_pointer"] = "roi_guider",
    cascade: int = 1,
    num_keypoints: int = 17,
    backbone_kwargs: dict | None = None,
    head_kwargs: dict | None = None,
    **kwargs: Any,
) -> CGANet:
    backbone = TNet(depth=depth, width=width, **(backbone_kwargs or {}))
    head_kwargs = dict(head_kwargs or {})
    if keypoint_head == "roi_guider":
        head: nn.Module = ROIGuider(
            backbone.out_channels,
            backbone.strides,
            input_size=input_size,
            num_outputs=num_keypoints,
            cascade=cascade,
            **head_kwargs,
        )
    elif keypoint_head == "roi_pointer":
        if cascade != 1:
            raise ValueError("ROIPointer has no cascade")
        head = ROIPointer(
            backbone.out_channels,
            backbone.strides,
            input_size=input_size,
            num_outputs=num_keypoints,
            **head_kwargs,
        )
    else:
        raise ValueError(f"keypoint_head must be roi_guider or roi_pointer, got {keypoint_head!r}")
    return CGANet(backbone, head, num_keypoints=num_keypoints, input_size=input_size, **kwargs)


@register_model
def cganet_tnet_d1w64(**kwargs: Any) -> CGANet:
    """CGANet with TNet-D1W64 and one ROIGuider stage (paper Table 1 e, 20.2M parameters).

    Args:
        **kwargs: ``input_size`` (training input side, sets the ROI sizes; default 512),
            ``backbone_kwargs``/``head_kwargs`` (overrides for :class:`~cgalib.TNet` and the
            keypoint head) and any :class:`CGANet` argument (post-processing switches).
    """
    return _create_cganet(1, 64, **kwargs)


@register_model
def cganet_tnet_d1w64_cascade(**kwargs: Any) -> CGANet:
    """CGANet with TNet-D1W64 and the two-stage cascade ROIGuider (Table 1 f, 26.9M).

    Args:
        **kwargs: as for :func:`cganet_tnet_d1w64`.
    """
    return _create_cganet(1, 64, cascade=2, **kwargs)


@register_model
def cganet_tnet_d1w64_roipointer(**kwargs: Any) -> CGANet:
    """CGANet with TNet-D1W64 and the Mask R-CNN-style ROIPointer (ablation baseline).

    Args:
        **kwargs: as for :func:`cganet_tnet_d1w64`.
    """
    return _create_cganet(1, 64, keypoint_head="roi_pointer", **kwargs)


@register_model
def cganet_tnet_d3w96(**kwargs: Any) -> CGANet:
    """CGANet with TNet-D3W96, the paper's most accurate single model (Table 5).

    Args:
        **kwargs: as for :func:`cganet_tnet_d1w64`.
    """
    return _create_cganet(3, 96, **kwargs)


@register_model
def cganet_tnet_d1w16(**kwargs: Any) -> CGANet:
    """A small CGANet (TNet-D1W16, narrow ROIGuider) that trains on a CPU in minutes.

    Not a paper configuration: the demo model for the synthetic set at 256 px input.

    Args:
        **kwargs: as for :func:`cganet_tnet_d1w64` (``input_size`` defaults to 256).
    """
    kwargs.setdefault("input_size", 256)
    kwargs.setdefault("head_channels", 32)
    if kwargs.get("keypoint_head", "roi_guider") == "roi_pointer":
        narrow = {"channels": 96}
    else:
        narrow = {"channels": (32, 64, 128), "head_channels": 32}
    return _create_cganet(1, 16, head_kwargs={**narrow, **kwargs.pop("head_kwargs", {})}, **kwargs)
