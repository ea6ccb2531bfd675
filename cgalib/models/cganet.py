"""CGANet: the single-model pose estimator (paper Fig. 2), composed from its parts.

Data flow:

    images (B,3,H,W) in 0..1 --preprocess--> backbone --> L0..L3
    L0 --> dense_heads: heatmap, wh, offset, line_x, line_y
    train: criterion(dense outputs, targets, keypoint_head on the training ROIs) --> losses
    infer: postprocess.detect (sigmoid, AA, top-k, box extension) --> extended boxes
           --> keypoint_head --> postprocess.decode_keypoints --> keypoints
           --> mask_head (segmentation models) --> per-box mask probabilities
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any, Literal

import torch
from torch import nn

from cgalib.backbones.features import FeatureInfo
from cgalib.backbones.tnet import TNet
from cgalib.codecs import RoiHeatmapDecoder
from cgalib.heads import DenseHeads, ROIGuider, RoiHead, ROIPointer
from cgalib.layers import ImageNormalize
from cgalib.losses import LOSS_WEIGHTS, CGANetCriterion
from cgalib.models.contract import InputRule, PoseModel, check_outputs
from cgalib.ops import hflip_boxes
from cgalib.postprocess import (
    CGANET_KEYPOINT_DECODING,
    AmbiguityAlleviation,
    BoxExtension,
    CGANetPostprocess,
    DichotomyExtendArea,
    FixedExtendArea,
    NoExtension,
    average_flipped_heatmaps,
    average_flipped_outputs,
)
from cgalib.registry import register_model
from cgalib.utils.keypoint_set import KeypointSet
from cgalib.utils.profiling import stage

__all__ = [
    "CGANet",
    "LOSS_WEIGHTS",
    "cganet_tnet_d1w16",
    "cganet_tnet_d1w16_seg",
    "cganet_tnet_d1w64",
    "cganet_tnet_d1w64_cascade",
    "cganet_tnet_d1w64_roipointer",
    "cganet_tnet_d1w64_seg",
    "cganet_tnet_d3w96",
]

class CGANet(PoseModel):
    """Context-Guided Adaptive Network for single-model multi-person pose estimation.

    A short composition of parts, torchvision-style; the registered builders
    (``cganet_tnet_d1w64``, ...) fill in the paper's parts and defaults, and a variant
    (another box extension, Ambiguity Alleviation off, flip test on) is built, never
    patched: [`cgalib.create_variant()`][cgalib.create_variant] for a registered model, or ``CGANet(...)``
    with other parts (sharing the trained ones). Every setting is fixed at construction
    (the read-only facts of the [model contract][cgalib.models.PoseModel]). It finds the
    people in whole images on its own (``needs_boxes`` is false).

    Args:
        backbone: a multi-level backbone exposing ``feature_info``
            ([`FeatureInfo`][cgalib.FeatureInfo], or timm's); level 0 must have stride 4, and
            input sides must be multiples of its largest stride.
        dense_heads: maps level 0 to the dense outputs ``heatmap``, ``wh``, ``offset``,
            ``line_x``, ``line_y`` ([`DenseHeads`][cgalib.heads.DenseHeads]).
        keypoint_head: a [`RoiHead`][cgalib.heads.RoiHead] ([`ROIGuider`][cgalib.ROIGuider] or
            [`ROIPointer`][cgalib.ROIPointer]) with ``num_outputs = K`` keypoints; ``None`` for a
            segmentation-only model (then ``mask_head`` is needed).
        postprocess: the inference post-processing
            ([`CGANetPostprocess`][cgalib.postprocess.CGANetPostprocess]).
        criterion: the training objective ([`CGANetCriterion`][cgalib.losses.CGANetCriterion]);
            ``None`` makes an inference-only model.
        flip_test: at inference, also run the mirrored image and average the dense maps
            and the keypoint heatmaps (the keypoint set's flip map swaps left and right;
            about twice the cost).
        input_size: the training input side the keypoint head's ROI sizes were made for;
            the default input size of evaluation and prediction (``input_rule``).
        preprocess: the input normalisation (default [`ImageNormalize`][cgalib.layers.ImageNormalize],
            ImageNet statistics, float images in 0..1 only).
        mask_head: a [`RoiHead`][cgalib.heads.RoiHead] with ``num_outputs = 1`` that reads the
            same extended boxes and predicts one mask logit map per box (person instance
            segmentation, paper Table 6); ``None``: no masks.
        keypoint_set: the keypoints the model predicts (a
            [`KeypointSet`][cgalib.utils.keypoint_set.KeypointSet], or its ``to_dict()``), with
            ``K`` equal to the keypoint head's outputs; default COCO's 17. A
            segmentation-only model keeps the set of the data it was trained on.

    Raises:
        ValueError: for a backbone without a stride-4 level 0, no head, a keypoint head
            without ``num_outputs``, a mask head of more than one output, a
            ``keypoint_set`` of another ``K`` than the keypoint head, or an ``input_size``
            that is not a multiple of the backbone's largest stride.

    Shape:
        - images: `(B, 3, H, W)`, RGB in 0..1, ``H`` and ``W`` multiples of 32
        - targets (train): list of B dicts with ``boxes`` `(N, 4)` xyxy and ``keypoints``
          `(N, K, 3)` (x, y, visibility) in input pixels; with a mask head also ``masks``
          `(N, H, W)` bool
        - output (eval): list of B dicts with ``boxes`` `(k, 4)`, ``extended_boxes``
          `(k, 4)`, ``scores`` `(k,)` in [0, 1] sorted descending and ``keypoints``
          `(k, K, 3)` as (x, y, score) in input pixels; with a mask head ``masks``
          `(k, h, w)`, the mask probability over each extended box (paste it into the
          image with `decode_roi_masks()`)
        - output (train): dict of weighted losses ``det, wh, offset, line_x, line_y`` and
          ``km`` (keypoints) and/or ``mask``

    Examples:
        >>> from cgalib import create_model
        >>> net = create_model("cganet_tnet_d1w16", input_size=128).eval()
        >>> out = net(torch.rand(1, 3, 128, 128))[0]
        >>> {k: tuple(v.shape) for k, v in out.items()}["keypoints"]
        (20, 17, 3)
        >>> net.needs_boxes, net.input_rule.side, net.outputs
        (False, 128, ('keypoints',))
    """

    output_stride = 4
    needs_boxes = False

    def __init__(
        self,
        backbone: nn.Module,
        dense_heads: nn.Module,
        keypoint_head: RoiHead | None,
        postprocess: CGANetPostprocess,
        criterion: CGANetCriterion | None = None,
        flip_test: bool = False,
        input_size: int = 512,
        preprocess: nn.Module | None = None,
        mask_head: RoiHead | None = None,
        keypoint_set: KeypointSet | Mapping | None = None,
    ) -> None:
        info = FeatureInfo.of(backbone)
        if info.reduction(0) != self.output_stride:
            raise ValueError(f"CGANet needs a stride-4 level 0, got strides {info.reduction()}")
        if not isinstance(postprocess, CGANetPostprocess):
            raise TypeError(f"postprocess must be a CGANetPostprocess, got {type(postprocess)}")
        if postprocess.output_stride != self.output_stride:
            raise ValueError(f"postprocess.output_stride must be {self.output_stride}")
        heads = (("keypoints", keypoint_head), ("masks", mask_head))
        outputs = tuple(name for name, head in heads if head is not None)
        if not outputs:
            raise ValueError("CGANet needs a keypoint_head, a mask_head or both")
        if mask_head is not None and _num_outputs(mask_head) != 1:
            raise ValueError(
                "mask_head must predict one mask per box (num_outputs=1), got num_outputs="
                f"{_num_outputs(mask_head)}"
            )
        rule = InputRule.square_side(input_size, multiple=info.reduction()[-1])
        super().__init__(keypoint_set, rule, outputs, flip_test)
        if keypoint_head is not None:
            k = _num_outputs(keypoint_head)
            if not isinstance(k, int) or k < 1:
                raise ValueError("keypoint_head must have num_outputs (the number of keypoints)")
            if k != len(self.keypoint_set):
                raise ValueError(
                    f"the keypoint head outputs {k} keypoints but the keypoint_set has "
                    f"{self.keypoint_set.describe()}; build the head for the set "
                    f"(num_outputs={len(self.keypoint_set)})"
                )
        self.preprocess = preprocess if preprocess is not None else ImageNormalize()
        self.backbone = backbone
        self.dense_heads = dense_heads
        self.keypoint_head = keypoint_head
        self.mask_head = mask_head
        self.postprocess = postprocess
        self.criterion = criterion

    @property
    def max_detections(self) -> int:
        """People decoded per image (``postprocess.max_detections``)."""
        return self.postprocess.max_detections

    # --------------------------------------------------------------------------- passes
    def forward_dense(self, images: torch.Tensor) -> tuple[list[torch.Tensor], dict]:
        """Preprocessing, backbone and dense heads.

        Args:
            images: `(B, 3, H, W)` RGB in 0..1.

        Returns:
            The pyramid ``[L0..L3]`` and the dense outputs on ``L0``: ``heatmap``
            `(B,1,H/4,W/4)`, ``wh`` `(B,2,..)`, ``offset`` `(B,2,..)`, ``line_x`` and
            ``line_y`` `(B,1,..)`.
        """
        features = self.backbone(self.preprocess(images))
        return features, self.dense_heads(features[0])

    def forward(
        self, images: torch.Tensor, targets: Sequence[dict[str, torch.Tensor]] | None = None
    ):
        if not self.training:
            out = self.predict_batch(images)
            return [{key: value[b] for key, value in out.items()} for b in range(len(images))]
        if targets is None:
            raise ValueError("CGANet in train mode needs targets (call model.eval() to infer)")
        if len(targets) != images.shape[0]:
            raise ValueError(f"got {len(targets)} targets for {images.shape[0]} images")
        if self.criterion is None:
            raise ValueError("this CGANet has no criterion: pass criterion=CGANetCriterion(...)")
        features, outputs = self.forward_dense(images)
        logits, masks = (
            None if head is None else partial(head, features, return_all=True)
            for head in (self.keypoint_head, self.mask_head)
        )
        return self.criterion(outputs, targets, tuple(images.shape[-2:]), logits, masks)

    def prediction_names(self) -> tuple[str, ...]:
        """The keys of [`predict_batch()`][predict_batch], in order: ``boxes``,
        ``extended_boxes``, ``scores``, then the ``outputs`` (``keypoints``, ``masks``)."""
        return ("boxes", "extended_boxes", "scores", *self.outputs)

    def check_exportable(self) -> None:
        """Refuse, with one line, what the traced end-to-end graph cannot express: the flip
        test, a mask head, and a keypoint head whose RoIAlign grouping depends on the boxes
        (ROIPointer, or an adaptive sampling ratio).

        Raises:
            ValueError: naming the setting and what to export instead.
        """
        if self.flip_test:
            raise ValueError(
                "flip test is not exported: export cgalib.create_variant(model, flip_test=False) "
                "for the single pass (or export end_to_end=False and flip outside the graph)"
            )
        if self.mask_head is not None:
            raise ValueError(
                f"end-to-end export covers the keypoint head; this model predicts "
                f"{', '.join(self.outputs)} (its masks are not in the graph): export "
                "end_to_end=False for the dense outputs"
            )
        head = self.keypoint_head
        if not isinstance(head, ROIGuider):
            raise ValueError(
                f"end-to-end export supports the ROIGuider keypoint head, got "
                f"{type(head).__name__} (it picks a pyramid level per box from the box size, a "
                "data-dependent grouping); export end_to_end=False for the dense outputs"
            )
        if head.sampling_ratio <= 0:
            raise ValueError(
                "end-to-end export needs a fixed RoIAlign sampling ratio (> 0); the adaptive "
                f"grid (sampling_ratio={head.sampling_ratio}) depends on the box sizes"
            )

    def predict_batch(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Inference as batched tensors: what ``forward`` returns in eval mode, unsplit.

        Every image gets exactly ``k = min(max_detections, H/4 * W/4)`` detections, so the
        batch stays one tensor per output; this is the form that tracing exporters
        ([`cgalib.export.export_onnx()`][cgalib.export.export_onnx]) follow.

        Args:
            images: `(B, 3, H, W)` RGB in 0..1, ``H`` and ``W`` multiples of 32.

        Returns:
            dict with ``boxes``, ``extended_boxes``, ``scores`` (sorted descending) and
            ``keypoints`` as (x, y, score), in input pixels; with a mask head ``masks``,
            each extended box's mask probabilities (the ROI frame of
            `cgalib.codecs.roi_masks`).

        Shape:
            - images: `(B, 3, H, W)`
            - boxes, extended_boxes: `(B, k, 4)`
            - scores: `(B, k)`
            - keypoints: `(B, k, K, 3)`
            - masks: `(B, k, h, w)`, ``(h, w)`` the mask head's ``output_size``

        The work is labelled in stages for a profile
        ([`stage_seconds()`][cgalib.utils.profiling.stage_seconds]): ``dense`` (preprocessing,
        backbone, dense heads), ``detect`` (sigmoid, Ambiguity Alleviation, top-k, box
        extension), ``keypoint_head`` (the ROI head on the extended boxes),
        ``decode_keypoints``, ``mask_head`` (with the sigmoid) and, with the flip test,
        ``flip`` (the mirrored passes and the averaging).
        """
        with stage("dense"):
            features, outputs = self.forward_dense(images)
        if self._flip_test:
            with stage("flip"):
                features_m, outputs_m = self.forward_dense(images.flip(-1))
                outputs = average_flipped_outputs(outputs, outputs_m)
        with stage("detect"):
            detections = self.postprocess.detect(outputs)
        rois = detections["extended_boxes"]
        if self._flip_test:
            with stage("flip"):
                mirrored = list(hflip_boxes(rois, images.shape[-1]).unbind(0))
        if self.keypoint_head is not None:
            with stage("keypoint_head"):
                logits = self.keypoint_head(features, list(rois.unbind(0)))
            if self._flip_test:
                with stage("flip"):
                    logits_m = self.keypoint_head(features_m, mirrored)
                    flip_index = self.keypoint_set.flip_index
                    logits = average_flipped_heatmaps(logits, logits_m, flip_index)
            with stage("decode_keypoints"):
                detections["keypoints"] = self.postprocess.decode_keypoints(logits, rois)
        if self.mask_head is not None:
            with stage("mask_head"):
                masks = self.mask_head(features, list(rois.unbind(0))).float().sigmoid()
            if self._flip_test:
                with stage("flip"):
                    masks_m = self.mask_head(features_m, mirrored).float().sigmoid().flip(-1)
                    masks = (masks + masks_m) / 2
            detections["masks"] = masks.view(*rois.shape[:2], *masks.shape[-2:])
        return detections


def _num_outputs(head: nn.Module) -> object:
    """A head's ``num_outputs`` (``None`` when it has none: refused by the caller)."""
    return head.num_outputs if hasattr(head, "num_outputs") else None


def _box_extension(kind: str, ratio: float, thre: float, iters: int) -> BoxExtension:
    if kind == "dichotomy":
        return DichotomyExtendArea(ratio, thre, iters)
    if kind == "fixed":
        return FixedExtendArea(ratio)
    if kind == "none":
        return NoExtension()
    raise ValueError(f"box_extension must be dichotomy, fixed or none, got {kind!r}")


def _create_cganet(
    depth: int,
    width: int,
    input_size: int = 512,
    keypoint_head: Literal["roi_guider", "roi_pointer"] = "roi_guider",
    cascade: int = 1,
    backbone_kwargs: dict | None = None,
    head_kwargs: dict | None = None,
    head_channels: int = 64,
    max_detections: int = 20,
    ambiguity_alleviation: bool = True,
    aa_alpha: float = 1.0,
    aa_beta: float = 0.5,
    box_extension: Literal["dichotomy", "fixed", "none"] = "dichotomy",
    extend_ratio: float = 0.09,
    extend_thre: float = 0.08,
    extend_iters: int = 10,
    loss_weights: dict[str, float] | None = None,
    jitter_scale: float = 0.15,
    jitter_shift: float = 0.1,
    max_train_rois: int = 32,
    keypoint_sigma: float = 2.0,
    flip_test: bool = False,
    keypoint_set: KeypointSet | Mapping | None = None,
    outputs: Sequence[str] = ("keypoints",),
    mask_dice: float = 0.0,
    keypoint_decoder: RoiHeatmapDecoder | Mapping | None = None,
) -> CGANet:
    outputs = check_outputs(outputs)
    input_size = InputRule.square_side(input_size).side  # checked before the heads use it
    keypoint_set = KeypointSet.of(keypoint_set)
    backbone = TNet(depth=depth, width=width, **(backbone_kwargs or {}))
    info = FeatureInfo.of(backbone)

    def roi_head(**fixed: Any) -> RoiHead:
        kwargs = {"input_size": input_size, "num_outputs": len(keypoint_set), **(head_kwargs or {})}
        kwargs.update(fixed)
        if keypoint_head == "roi_guider":
            return ROIGuider(info.channels(), info.reduction(), cascade=cascade, **kwargs)
        if keypoint_head == "roi_pointer":
            if cascade != 1:
                raise ValueError("ROIPointer has no cascade")
            return ROIPointer(info.channels(), info.reduction(), **kwargs)
        raise ValueError(f"keypoint_head must be roi_guider or roi_pointer, got {keypoint_head!r}")

    # the paper's segmentation model changes only the output channels: the mask head is
    # the same kind of head, with one output
    kp_head = roi_head() if "keypoints" in outputs else None
    mask_head = roi_head(num_outputs=1) if "masks" in outputs else None
    extension = _box_extension(box_extension, extend_ratio, extend_thre, extend_iters)
    ambiguity = AmbiguityAlleviation(aa_alpha, aa_beta) if ambiguity_alleviation else None
    criterion = CGANetCriterion(
        extension,
        loss_weights,
        jitter_scale,
        jitter_shift,
        max_train_rois,
        keypoint_sigma,
        mask_dice=mask_dice,
    )
    return CGANet(
        backbone,
        DenseHeads(info.channels(0), head_channels),
        kp_head,
        CGANetPostprocess(
            extension,
            ambiguity,
            max_detections,
            keypoint_decoder=RoiHeatmapDecoder.of(keypoint_decoder, CGANET_KEYPOINT_DECODING),
        ),
        criterion,
        flip_test=flip_test,
        input_size=input_size,
        mask_head=mask_head,
        keypoint_set=keypoint_set,
    )


@register_model
def cganet_tnet_d1w64(**kwargs: Any) -> CGANet:
    """CGANet with TNet-D1W64 and one ROIGuider stage (paper Table 1 e, 20.2M parameters).

    Args:
        **kwargs: ``input_size`` (training input side, sets the ROI sizes; default 512),
            ``backbone_kwargs``/``head_kwargs`` (overrides for
            [`TNet`][cgalib.TNet] and the keypoint head), ``head_channels`` (dense heads),
            the post-processing (``max_detections``, ``ambiguity_alleviation``,
            ``aa_alpha``, ``aa_beta``, ``box_extension`` = ``"dichotomy"``, ``"fixed"`` or
            ``"none"``, ``extend_ratio``, ``extend_thre``, ``extend_iters``,
            ``keypoint_decoder``: a [`RoiHeatmapDecoder`][cgalib.codecs.RoiHeatmapDecoder] or a dict
            of its settings, e.g. ``{"blur_kernel": 11, "stencil": 2}``, the keys left out
            taking [`CGANET_KEYPOINT_DECODING`][cgalib.postprocess.CGANET_KEYPOINT_DECODING]), the training
            objective (``loss_weights``, ``jitter_scale``, ``jitter_shift``,
            ``max_train_rois``, ``keypoint_sigma``), ``flip_test`` and ``keypoint_set`` (a
            [`KeypointSet`][cgalib.utils.keypoint_set.KeypointSet] or its ``to_dict()``: ``K``
            and the flip map are the set's, and checkpoints store it; default COCO's 17
            keypoints).
    """
    return _create_cganet(1, 64, **kwargs)


@register_model
def cganet_tnet_d1w64_cascade(**kwargs: Any) -> CGANet:
    """CGANet with TNet-D1W64 and the two-stage cascade ROIGuider (Table 1 f, 26.9M).

    Args:
        **kwargs: as for [`cganet_tnet_d1w64()`][cganet_tnet_d1w64].
    """
    return _create_cganet(1, 64, cascade=2, **kwargs)


@register_model
def cganet_tnet_d1w64_roipointer(**kwargs: Any) -> CGANet:
    """CGANet with TNet-D1W64 and the Mask R-CNN-style ROIPointer (ablation baseline).

    Args:
        **kwargs: as for [`cganet_tnet_d1w64()`][cganet_tnet_d1w64].
    """
    return _create_cganet(1, 64, keypoint_head="roi_pointer", **kwargs)


@register_model
def cganet_tnet_d3w96(**kwargs: Any) -> CGANet:
    """CGANet with TNet-D3W96, the paper's most accurate single model (Table 5).

    Args:
        **kwargs: as for [`cganet_tnet_d1w64()`][cganet_tnet_d1w64].
    """
    return _create_cganet(3, 96, **kwargs)


@register_model
def cganet_tnet_d1w64_seg(**kwargs: Any) -> CGANet:
    """CGANet with TNet-D1W64 for person instance segmentation (paper Table 6).

    The model of [`cganet_tnet_d1w64()`][cganet_tnet_d1w64] with the ROIGuider's output layer predicting
    one mask logit map per box instead of ``K`` keypoint heatmaps: the same backbone,
    dense heads, Center Line Branch and box extension (20.2M parameters in the paper).
    ``outputs=("keypoints", "masks")`` adds the keypoint head back (two ROIGuiders on the
    same boxes).

    Args:
        **kwargs: as for [`cganet_tnet_d1w64()`][cganet_tnet_d1w64], plus ``outputs`` (default
            ``("masks",)``) and ``mask_dice`` (weight of the Dice term of the mask loss).
    """
    kwargs.setdefault("outputs", ("masks",))
    return _create_cganet(1, 64, **kwargs)


def _small(kwargs: dict[str, Any]) -> CGANet:
    """TNet-D1W16 with narrow heads (the demo model's settings) from builder kwargs."""
    kwargs.setdefault("input_size", 256)
    kwargs.setdefault("head_channels", 32)
    if kwargs.get("keypoint_head", "roi_guider") == "roi_pointer":
        narrow = {"channels": 96}
    else:
        narrow = {"channels": (32, 64, 128), "head_channels": 32}
    return _create_cganet(1, 16, head_kwargs={**narrow, **kwargs.pop("head_kwargs", {})}, **kwargs)


@register_model
def cganet_tnet_d1w16(**kwargs: Any) -> CGANet:
    """A small CGANet (TNet-D1W16, narrow ROIGuider) that trains on a CPU in minutes.

    Not a paper configuration: the demo model for the synthetic set (dense heads of 32
    channels, a ROIGuider of widths 32/64/128).

    Args:
        **kwargs: as for [`cganet_tnet_d1w64()`][cganet_tnet_d1w64] (``input_size`` defaults to 256).
    """
    return _small(kwargs)


@register_model
def cganet_tnet_d1w16_seg(**kwargs: Any) -> CGANet:
    """The small CGANet of [`cganet_tnet_d1w16()`][cganet_tnet_d1w16] for person instance segmentation.

    Not a paper configuration: the CPU demo counterpart of [`cganet_tnet_d1w64_seg()`][cganet_tnet_d1w64_seg]
    (one mask logit map per box from the narrow ROIGuider).

    Args:
        **kwargs: as for [`cganet_tnet_d1w64_seg()`][cganet_tnet_d1w64_seg] (``input_size`` defaults to 256).
    """
    kwargs.setdefault("outputs", ("masks",))
    return _small(kwargs)
