"""TopDownPose: the separated (top-down) TNet model of the paper's Table 4.

Data flow:

    person crops (B,3,H,W) in 0..1 --normalise--> backbone --> L0..L3 (strides 4..32)
    L0..L3 --> head (PyramidHeatmapHead: per-level 1x1 conv, upsample, sum)
           --> K heatmap logits (B,K,H/4,W/4)
    train: Gaussian targets of the crop keypoints (roi_keypoint_targets) --> focal loss
    infer: sigmoid (flip test: averaged with the mirrored crop's) --> argmax + DARK
           refinement (keypoint_decoder, a RoiHeatmapDecoder) --> (B,K,3) crop pixels

The crop plays the role of one ROI box (its whole extent, in pixel indices
``(-0.5, -0.5, W - 0.5, H - 0.5)``), so targets and decoding share
the ROI-heatmap convention of CGANet's keypoint head (`cgalib.codecs.roi_keypoints`);
person crops are cut and mapped back by [`cgalib.codecs.affine`][cgalib.codecs.affine].
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from cgalib.backbones.features import FeatureInfo
from cgalib.backbones.tnet import TNet
from cgalib.codecs import RoiHeatmapDecoder, roi_keypoint_targets, whole_crop_boxes
from cgalib.heads.pyramid_heatmap import PyramidHeatmapHead
from cgalib.layers import ImageNormalize
from cgalib.losses import focal_loss
from cgalib.models.contract import InputRule, PoseModel
from cgalib.postprocess.flip_heatmaps import average_flipped_heatmaps
from cgalib.registry import register_model
from cgalib.utils.keypoint_set import KeypointSet

__all__ = ["TopDownPose", "topdown_tnet_d1w16", "topdown_tnet_d3w64", "topdown_tnet_d3w96"]


class TopDownPose(PoseModel):
    """Single-person pose from a person crop: backbone, stride-4 heatmaps, argmax decode.

    The default head, [`PyramidHeatmapHead`][cgalib.heads.PyramidHeatmapHead], reads every level of
    the backbone (sized from its ``feature_info``): a 1x1 convolution per level to ``K``
    logits, the coarser ones upsampled to level 0 and summed (bias ``-2.19``, CenterNet's
    prior). Reading every level lets all of TNet's last stage reach the output, so every
    parameter trains (see ``docs/architecture.md``).

    It estimates one pose per given person box (``needs_boxes`` is true): a
    [`Predictor`][cgalib.Predictor] cuts the crops from boxes that a detector or a file gives,
    and training cuts them around the annotated people. Every setting is fixed at
    construction (read-only properties); a variant with the same weights is built, e.g.
    ``cgalib.create_variant(model, flip_test=True)`` or ``load_model(path, flip_test=True)``.

    Args:
        backbone: a multi-level backbone with ``feature_info`` (channels and strides per
            level, e.g. [`TNet`][cgalib.TNet]); level 0 must have stride 4.
        head: maps the backbone's levels ``[L0, ...]`` to `(B, K, H/4, W/4)` logits;
            default a [`PyramidHeatmapHead`][cgalib.heads.PyramidHeatmapHead] sized from the
            backbone and the keypoint set.
        keypoint_sigma: Gaussian sigma of the heatmap targets, in heatmap cells.
        input_size: ``(H, W)`` of the crops the model is trained on (the paper's 256x192),
            or one int for square crops; the crop size that predictors cut
            (``input_rule``). The model itself accepts any crop whose sides are multiples
            of the backbone's largest stride.
        flip_test: at inference, also run the mirrored crops and average the heatmap
            probabilities ([`average_flipped_heatmaps()`][cgalib.postprocess.average_flipped_heatmaps], with
            the keypoint set's flip map; twice the cost).
        flip_shift: heatmap cells the mirrored pass is shifted right; 0 is exact for
            cgalib's pixel-centred heatmaps (1 is SimpleBaseline/HRNet's convention, see
            [`average_flipped_heatmaps()`][cgalib.postprocess.average_flipped_heatmaps]).
        keypoint_set: the keypoints the model predicts (a
            [`KeypointSet`][cgalib.utils.keypoint_set.KeypointSet], or its ``to_dict()``); ``K``
            is its length. Default COCO's 17.
        keypoint_decoder: how the heatmap probabilities become keypoints (a
            [`RoiHeatmapDecoder`][cgalib.codecs.RoiHeatmapDecoder] or a dict of its settings,
            the keys left out taking [`DARK_DEFAULTS`][cgalib.codecs.DARK_DEFAULTS]; default
            argmax and DARK without blur, the best on top-down heatmaps in
            ``docs/benchmarks.md``).

    Raises:
        ValueError: for a backbone without a stride-4 level 0, a bad ``keypoint_sigma``,
            ``input_size`` or ``flip_shift``, or a ``keypoint_set`` that is not a valid
            set.

    Shape:
        - images: `(B, 3, H, W)`, RGB in 0..1, ``H`` and ``W`` multiples of 32
        - keypoints (train): `(B, K, 3)` as (x, y, visibility) in crop pixels; visibility
          0 means unlabelled
        - output (train): dict ``{"km": loss}``, the focal loss of the heatmaps (paper eq. 8)
        - output (eval): `(B, K, 3)` as (x, y, score) in crop pixels, ``score`` the peak
          probability in [0, 1]

    Examples:
        >>> net = TopDownPose(TNet(depth=1, width=16, num_blocks=1, stem_blocks=1))
        >>> net.heatmaps(torch.rand(2, 3, 256, 192)).shape
        torch.Size([2, 17, 64, 48])
        >>> net.eval()(torch.rand(2, 3, 256, 192)).shape
        torch.Size([2, 17, 3])
        >>> net.needs_boxes, net.input_rule.size
        (True, (256, 192))
    """

    output_stride = 4
    needs_boxes = True

    def __init__(
        self,
        backbone: nn.Module,
        head: nn.Module | None = None,
        keypoint_sigma: float = 2.0,
        input_size: int | Sequence[int] = (256, 192),
        flip_test: bool = False,
        flip_shift: int = 0,
        keypoint_set: KeypointSet | Mapping | None = None,
        keypoint_decoder: RoiHeatmapDecoder | Mapping | None = None,
    ) -> None:
        info = FeatureInfo.of(backbone)
        if info.reduction(0) != self.output_stride:
            raise ValueError(
                f"TopDownPose needs a stride-4 level 0, got strides {info.reduction()}"
            )
        if keypoint_sigma <= 0:
            raise ValueError(f"keypoint_sigma must be positive, got {keypoint_sigma}")
        if flip_shift < 0:
            raise ValueError(f"flip_shift must be >= 0, got {flip_shift}")
        rule = InputRule(input_size, info.reduction()[-1])
        super().__init__(keypoint_set, rule, ("keypoints",), flip_test)
        k = len(self.keypoint_set)
        self.backbone = backbone
        self.head = head if head is not None else PyramidHeatmapHead(info.channels(), k)
        self.preprocess = ImageNormalize()
        self.keypoint_decoder = RoiHeatmapDecoder.of(keypoint_decoder)
        self._keypoint_sigma = float(keypoint_sigma)
        self._flip_shift = int(flip_shift)

    @property
    def keypoint_sigma(self) -> float:
        """Gaussian sigma of the training targets, in heatmap cells."""
        return self._keypoint_sigma

    @property
    def flip_shift(self) -> int:
        """Heatmap cells the mirrored pass of the flip test is shifted right."""
        return self._flip_shift

    def heatmaps(self, images: torch.Tensor) -> torch.Tensor:
        """Keypoint heatmap logits of the crops (one pass, no flip test).

        Args:
            images: `(B, 3, H, W)` RGB in 0..1, ``H`` and ``W`` multiples of 32.

        Returns:
            `(B, K, H/4, W/4)` logits.
        """
        self.check_images(images, "person crops")
        return self.head(self.backbone(self.preprocess(images)))

    def probabilities(self, images: torch.Tensor) -> torch.Tensor:
        """Keypoint heatmap probabilities; with ``flip_test``, averaged with the mirror's.

        Args:
            images: `(B, 3, H, W)` RGB in 0..1, ``H`` and ``W`` multiples of 32.

        Returns:
            `(B, K, H/4, W/4)` probabilities in [0, 1].
        """
        probs = self.heatmaps(images).float().sigmoid()
        if not self._flip_test:
            return probs
        mirrored = self.heatmaps(images.flip(-1)).float().sigmoid()
        flip_index = self.keypoint_set.flip_index
        return average_flipped_heatmaps(probs, mirrored, flip_index, self._flip_shift)

    def crop_boxes(self, images: torch.Tensor) -> torch.Tensor:
        """Each crop as one ROI box in crop pixel indices, `(B, 4)`: ``(-0.5, -0.5, W - 0.5,
        H - 0.5)`` ([`whole_crop_boxes()`][cgalib.codecs.whole_crop_boxes]), so heatmaps are pixel-centred."""
        return whole_crop_boxes(images.shape[0], images.shape[-2:], images.device)

    def forward(
        self, images: torch.Tensor, keypoints: torch.Tensor | None = None
    ) -> torch.Tensor | dict[str, torch.Tensor]:
        if self.training:
            if keypoints is None:
                raise ValueError(
                    "TopDownPose in train mode needs keypoints (call model.eval() to infer)"
                )
            return {"km": self.loss(images, keypoints)}
        return self.predict_batch(images)["keypoints"]

    def prediction_names(self) -> tuple[str, ...]:
        """``("keypoints",)``: what [`predict_batch()`][predict_batch] returns."""
        return ("keypoints",)

    def predict_batch(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Inference as batched tensors: each crop's keypoints (the contract's call).

        Args:
            images: `(B, 3, H, W)` person crops in 0..1, sides multiples of 32.

        Returns:
            ``{"keypoints": (B, K, 3)}`` as (x, y, probability) in crop pixels.
        """
        probs = self.probabilities(images)
        boxes = self.crop_boxes(images)
        return {"keypoints": self.keypoint_decoder(probs, boxes, logits=False)}

    def loss(self, images: torch.Tensor, keypoints: torch.Tensor) -> torch.Tensor:
        """Focal loss of the predicted heatmaps against the Gaussian keypoint targets.

        Unlabelled keypoints (visibility 0) and keypoints outside the crop weigh 0.

        Args:
            images: `(B, 3, H, W)` crops in 0..1.
            keypoints: `(B, K, 3)` as (x, y, visibility) in crop pixels.

        Returns:
            The scalar loss.
        """
        self.check_images(images, "person crops")
        if not isinstance(keypoints, torch.Tensor):
            raise ValueError(
                f"TopDownPose trains on person crops and their keypoints, a ({images.shape[0]}, "
                f"{self.num_keypoints}, 3) tensor, got a {type(keypoints).__name__}; whole-image "
                "targets need cropping first: train with PersonCrops, collate_person_crops and "
                "TopDownAugmentation (docs/top-down.md)"
            )
        if keypoints.dim() != 3 or keypoints.shape != (images.shape[0], self.num_keypoints, 3):
            shape = tuple(keypoints.shape)
            raise ValueError(
                f"TopDownPose expects keypoints ({images.shape[0]}, {self.num_keypoints}, 3) "
                f"in crop pixels, got {shape}"
            )
        logits = self.heatmaps(images)
        gt, weight = roi_keypoint_targets(
            keypoints.to(logits.device),
            self.crop_boxes(images),
            tuple(logits.shape[-2:]),
            sigma=self.keypoint_sigma,
        )
        return focal_loss(logits.float().sigmoid(), gt, weight=weight[..., None, None])


def _create_topdown(
    depth: int, width: int, backbone_kwargs: dict | None = None, **kwargs: Any
) -> TopDownPose:
    backbone = TNet(depth=depth, width=width, **(backbone_kwargs or {}))
    return TopDownPose(backbone, **kwargs)


@register_model
def topdown_tnet_d3w64(**kwargs: Any) -> TopDownPose:
    """Top-down TNet-D3W64 (paper Table 4: 24.7M parameters, 7.2 GFLOPs at 256x192).

    Args:
        **kwargs: ``backbone_kwargs`` (overrides for [`TNet`][cgalib.TNet]) and any
            [`TopDownPose`][TopDownPose] argument (``input_size``, ``flip_test``,
            ``keypoint_decoder``, ``keypoint_set``: ``K`` and the flip map are the set's, and
            checkpoints store it; default COCO's 17 keypoints, ...).
    """
    return _create_topdown(3, 64, **kwargs)


@register_model
def topdown_tnet_d3w96(**kwargs: Any) -> TopDownPose:
    """Top-down TNet-D3W96 (paper Table 5, at 384x288).

    Args:
        **kwargs: as for [`topdown_tnet_d3w64()`][topdown_tnet_d3w64]; ``input_size`` defaults to
            ``(384, 288)``.
    """
    kwargs.setdefault("input_size", (384, 288))
    return _create_topdown(3, 96, **kwargs)


@register_model
def topdown_tnet_d1w16(**kwargs: Any) -> TopDownPose:
    """A small top-down model (TNet-D1W16, 128x96 crops) that trains on a CPU in minutes.

    Not a paper configuration: the top-down counterpart of the demo's
    ``cganet_tnet_d1w16`` (the same backbone), for the CPU comparison of
    ``docs/top-down.md``.

    Args:
        **kwargs: as for [`topdown_tnet_d3w64()`][topdown_tnet_d3w64]; ``input_size`` defaults to
            ``(128, 96)``.
    """
    kwargs.setdefault("input_size", (128, 96))
    return _create_topdown(1, 16, **kwargs)
