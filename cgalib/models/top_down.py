"""TopDownPose: the separated (top-down) TNet model of the paper's Table 4.

Data flow::

    person crops (B,3,H,W) in 0..1 --normalise--> backbone --> L0 (stride 4)
    L0 --> head (1x1 conv) --> K heatmap logits (B,K,H/4,W/4)
    train: Gaussian targets of the crop keypoints (roi_keypoint_targets) --> focal loss
    infer: argmax + quarter-cell refinement (decode_roi_heatmaps) --> (B,K,3) crop pixels

The crop plays the role of one ROI box ``(0, 0, W, H)``, so targets and decoding share
the ROI-heatmap convention of CGANet's keypoint head (:mod:`cgalib.codecs.roi_keypoints`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from cgalib.backbones.features import FeatureInfo
from cgalib.backbones.tnet import TNet
from cgalib.codecs import decode_roi_heatmaps, roi_keypoint_targets
from cgalib.heads.prediction_head import HEATMAP_PRIOR_BIAS
from cgalib.layers import ImageNormalize
from cgalib.losses import focal_loss
from cgalib.registry import register_model

__all__ = ["TopDownPose", "topdown_tnet_d3w64", "topdown_tnet_d3w96"]


class TopDownPose(nn.Module):
    """Single-person pose from a person crop: backbone, stride-4 heatmaps, argmax decode.

    The head reads the backbone's finest level, which must have stride 4; its channels
    come from the backbone's ``feature_info``. The default head is a 1x1 convolution to
    ``num_keypoints`` logits (bias ``-2.19``, CenterNet's prior) — the paper's top-down
    model adds nothing else to TNet.

    Args:
        backbone: a multi-level backbone with ``feature_info`` (channels and strides per
            level, e.g. :class:`~cgalib.TNet`); level 0 must have stride 4.
        head: maps level 0 `(B, C_0, H/4, W/4)` to `(B, K, H/4, W/4)` logits; default
            a 1x1 convolution sized from the backbone.
        num_keypoints: ``K``.
        keypoint_sigma: Gaussian sigma of the heatmap targets, in heatmap cells.
        input_size: ``(H, W)`` of the crops the model is trained on (the paper's 256x192);
            informational (benchmarks, predictors): any size with sides that are multiples
            of 32 is accepted.

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
    """

    output_stride = 4

    def __init__(
        self,
        backbone: nn.Module,
        head: nn.Module | None = None,
        num_keypoints: int = 17,
        keypoint_sigma: float = 2.0,
        input_size: tuple[int, int] = (256, 192),
    ) -> None:
        super().__init__()
        info = FeatureInfo.of(backbone)
        if info.reduction(0) != self.output_stride:
            raise ValueError(
                f"TopDownPose needs a stride-4 level 0, got strides {info.reduction()}"
            )
        if num_keypoints < 1:
            raise ValueError(f"num_keypoints must be >= 1, got {num_keypoints}")
        if keypoint_sigma <= 0:
            raise ValueError(f"keypoint_sigma must be positive, got {keypoint_sigma}")
        if len(input_size) != 2 or any(s <= 0 or s % 32 for s in input_size):
            raise ValueError(f"input_size must be (H, W), multiples of 32, got {input_size}")
        self.backbone = backbone
        if head is None:
            head = nn.Conv2d(info.channels(0), num_keypoints, 1)
            nn.init.normal_(head.weight, std=0.001)
            nn.init.constant_(head.bias, HEATMAP_PRIOR_BIAS)
        self.head = head
        self.num_keypoints = num_keypoints
        self.keypoint_sigma = keypoint_sigma
        self.input_size = tuple(int(s) for s in input_size)
        self.preprocess = ImageNormalize()

    def heatmaps(self, images: torch.Tensor) -> torch.Tensor:
        """Keypoint heatmap logits of the crops.

        Args:
            images: `(B, 3, H, W)` RGB in 0..1, ``H`` and ``W`` multiples of 32.

        Returns:
            `(B, K, H/4, W/4)` logits.
        """
        _check_crops(images)
        features = self.backbone(self.preprocess(images))
        return self.head(features[0])

    def crop_boxes(self, images: torch.Tensor) -> torch.Tensor:
        """Each crop as one ROI box ``(0, 0, W, H)``: `(B, 4)` in crop pixels."""
        h, w = images.shape[-2:]
        boxes = images.new_zeros(images.shape[0], 4, dtype=torch.float32)
        boxes[:, 2], boxes[:, 3] = w, h  # scalar fills: no host-to-device copy
        return boxes

    def forward(
        self, images: torch.Tensor, keypoints: torch.Tensor | None = None
    ) -> torch.Tensor | dict[str, torch.Tensor]:
        if self.training:
            if keypoints is None:
                raise ValueError(
                    "TopDownPose in train mode needs keypoints (call model.eval() to infer)"
                )
            return {"km": self.loss(images, keypoints)}
        logits = self.heatmaps(images)
        return decode_roi_heatmaps(logits.float(), self.crop_boxes(images))

    def loss(self, images: torch.Tensor, keypoints: torch.Tensor) -> torch.Tensor:
        """Focal loss of the predicted heatmaps against the Gaussian keypoint targets.

        Unlabelled keypoints (visibility 0) and keypoints outside the crop weigh 0.

        Args:
            images: `(B, 3, H, W)` crops in 0..1.
            keypoints: `(B, K, 3)` as (x, y, visibility) in crop pixels.

        Returns:
            The scalar loss.
        """
        _check_crops(images)
        if (
            not isinstance(keypoints, torch.Tensor)
            or keypoints.dim() != 3
            or keypoints.shape != (images.shape[0], self.num_keypoints, 3)
        ):
            shape = tuple(keypoints.shape) if isinstance(keypoints, torch.Tensor) else keypoints
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

    def extra_repr(self) -> str:
        return f"num_keypoints={self.num_keypoints}, input_size={self.input_size}"


def _check_crops(images: torch.Tensor) -> None:
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[1] != 3:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"TopDownPose expects person crops (B, 3, H, W), got {shape}")
    if not images.is_floating_point():
        raise ValueError(
            f"TopDownPose expects float crops in 0..1, got {images.dtype} (divide by 255)"
        )
    h, w = images.shape[-2:]
    if h % 32 or w % 32:
        raise ValueError(
            f"TopDownPose needs crop sides that are multiples of 32 (e.g. 256x192), got {h}x{w}"
        )


def _create_topdown(
    depth: int,
    width: int,
    backbone_kwargs: dict | None = None,
    **kwargs: Any,
) -> TopDownPose:
    return TopDownPose(TNet(depth=depth, width=width, **(backbone_kwargs or {})), **kwargs)


@register_model
def topdown_tnet_d3w64(**kwargs: Any) -> TopDownPose:
    """Top-down TNet-D3W64 (paper Table 4: 24.7M parameters, 7.2 GFLOPs at 256x192).

    Args:
        **kwargs: ``backbone_kwargs`` (overrides for :class:`~cgalib.TNet`) and any
            :class:`TopDownPose` argument.
    """
    return _create_topdown(3, 64, **kwargs)


@register_model
def topdown_tnet_d3w96(**kwargs: Any) -> TopDownPose:
    """Top-down TNet-D3W96 (paper Table 5, at 384x288).

    Args:
        **kwargs: as for :func:`topdown_tnet_d3w64`.
    """
    return _create_topdown(3, 96, **kwargs)
