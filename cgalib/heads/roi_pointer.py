"""ROIPointer: the Mask R-CNN keypoint head, the single-level baseline of the ROIguider ablation."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial

import torch
from torch import nn

from cgalib.heads.prediction_head import HEATMAP_PRIOR_BIAS
from cgalib.heads.roi_head import RoiHead, roi_sizes_for_input
from cgalib.layers import ActLayer, ConvNormAct, NormLayer
from cgalib.ops import boxes_to_rois, roi_align

__all__ = ["ROIPointer"]


class ROIPointer(RoiHead):
    """Per-box heatmaps from one pyramid level chosen by box size (Mask R-CNN style).

    Each box is RoIAligned from a single level of L0..L2 to the level-0 ROI size ``s``
    (32 at 512, 24 at 384, as for [`ROIGuider`][cgalib.heads.roi_guider.ROIGuider]), projected
    to ``channels`` by that level's 1x1 ``ConvNormAct``, then passes ``num_convs`` 3x3
    ``ConvNormAct`` layers (Mask R-CNN's keypoint head: 8) and a 4x4 stride-2
    deconvolution to ``num_outputs`` logits of size ``2s`` (last bias ``-2.19``). Output
    size, cell convention (see ``ROIGuider``) and call signature are those of
    ``ROIGuider``, so the two are interchangeable in a model.

    **Level mapping** (FPN's eq. 1, ``k = floor(k0 + log2(sqrt(wh) / 224))``, adapted):
    ``k = clamp(floor(k0 + log2(sqrt(wh) / canonical_size)), 0, 2)`` with ``k0 = 2`` (L2)
    and ``canonical_size = strides[2] * s`` (512 at a 512 input with strides 4/8/16,
    384 at 384). A box thus goes to the coarsest level on which it still spans ``s``
    cells, so aligning never upsamples: at 512, ``sqrt(wh) < 256`` uses L0,
    ``256 <= sqrt(wh) < 512`` L1 and larger boxes L2. Boxes are aligned in one
    `roi_align()` call per level (grouped with ``index_select``), never
    in a loop over boxes.

    **Size.** ``channels=416`` makes 12.83M parameters with ``in_channels=(96, 192, 320)``,
    as large as the single-stage ROIGuider (12.85M); Mask R-CNN uses 512 on a 256-channel
    FPN.

    Args:
        in_channels: channels of the backbone levels, finest first (first three used).
        strides: strides of those levels.
        input_size: training input side (or ``(H, W)``) setting ``s = input_size / 16``;
            ignored when ``roi_size`` is given.
        roi_size: the aligned size ``s`` (int or ``(h, w)``).
        num_outputs: heatmaps per box (17 keypoints; 1 for a mask).
        channels: width of the convolution stack.
        num_convs: number of 3x3 convolutions.
        canonical_size: box size mapped to ``canonical_level`` (default ``strides[2] * s``).
        canonical_level: ``k0`` (default 2, the coarsest of L0..L2).
        sampling_ratio: RoIAlign samples per bin and axis.
        norm_layer: normalisation constructor, or ``None`` (Mask R-CNN has none).
        act_layer: activation constructor.

    Attributes:
        roi_size: ``(h, w)`` aligned from every level.
        output_size: ``(h, w)`` of the logits, ``2 * roi_size``.

    Shape:
        - features: sequence of `(B, C_i, H / stride_i, W / stride_i)`, at least 3 levels
        - boxes: B tensors `(N_i, 4)` xyxy in input pixels, or rois `(N, 5)`
        - output: `(N, num_outputs, 2s, 2s)` logits (a one-element list with
          ``return_all=True``)

    Examples:
        >>> pointer = ROIPointer((8, 16, 24), (4, 8, 16), input_size=128, channels=16)
        >>> pointer.roi_levels(torch.tensor([[0.0, 0.0, 40.0, 40.0], [0.0, 0.0, 80.0, 100.0]]))
        tensor([0, 1])
        >>> feats = [torch.rand(1, c, 128 // s, 128 // s) for c, s in ((8, 4), (16, 8), (24, 16))]
        >>> pointer(feats, [torch.tensor([[10.0, 20.0, 60.0, 120.0]])]).shape
        torch.Size([1, 17, 16, 16])
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        strides: Sequence[int],
        input_size: int | Sequence[int] = 512,
        roi_size: int | Sequence[int] | None = None,
        num_outputs: int = 17,
        channels: int = 416,
        num_convs: int = 8,
        canonical_size: float | None = None,
        canonical_level: int = 2,
        sampling_ratio: int = 2,
        norm_layer: NormLayer | None = nn.BatchNorm2d,
        act_layer: ActLayer = nn.ReLU,
    ) -> None:
        if roi_size is None:
            side = roi_sizes_for_input(input_size, 1)[0]
        else:
            side = (roi_size, roi_size) if isinstance(roi_size, int) else tuple(roi_size)
            if len(side) != 2 or any(s <= 0 for s in side):
                raise ValueError(f"roi_size must be a positive int or (h, w), got {roi_size}")
        super().__init__(in_channels, strides, side, num_outputs, sampling_ratio)
        if canonical_size is None:
            canonical_size = self.strides[-1] * math.sqrt(self.roi_size[0] * self.roi_size[1])
        self.canonical_size = float(canonical_size)
        self.canonical_level = canonical_level
        cna = partial(ConvNormAct, norm_layer=norm_layer, act_layer=act_layer)
        self.project = nn.ModuleList(cna(c, channels, 1) for c in self.in_channels)
        self.convs = nn.Sequential(*(cna(channels, channels, 3) for _ in range(num_convs)))
        self.deconv = nn.ConvTranspose2d(channels, num_outputs, 4, stride=2, padding=1)
        nn.init.kaiming_normal_(self.deconv.weight, mode="fan_out", nonlinearity="relu")
        nn.init.constant_(self.deconv.bias, HEATMAP_PRIOR_BIAS)

    def roi_levels(self, boxes: torch.Tensor) -> torch.Tensor:
        """The level each box is aligned from (see the class docstring).

        Args:
            boxes: xyxy boxes in input pixels `(N, 4)` (or rois `(N, 5)`).

        Returns:
            Level indices in ``0..2``, `(N,)` int64.
        """
        xyxy = boxes[:, -4:].float()
        scale = torch.sqrt(
            (xyxy[:, 2] - xyxy[:, 0]).clamp(min=0) * (xyxy[:, 3] - xyxy[:, 1]).clamp(min=0)
        )
        level = torch.floor(self.canonical_level + torch.log2(scale / self.canonical_size + 1e-6))
        return level.clamp(0, self.num_levels - 1).long()

    def stage_logits(
        self,
        features: Sequence[torch.Tensor],
        boxes: torch.Tensor | Sequence[torch.Tensor],
        all_stages: bool,
    ) -> list[torch.Tensor]:
        rois = boxes_to_rois(boxes).to(features[0].device)
        levels = self.roi_levels(rois)
        x = None
        for i in range(self.num_levels):
            index = torch.nonzero(levels == i).squeeze(1)
            aligned = roi_align(
                features[i],
                rois.index_select(0, index),
                self.roi_size,
                1.0 / self.strides[i],
                self.sampling_ratio,
                aligned=True,
            )
            projected = self.project[i](aligned)
            if x is None:
                x = projected.new_zeros(rois.shape[0], *projected.shape[1:])
            x = x.index_copy(0, index, projected)
        return [self.deconv(self.convs(x))]

    def extra_repr(self) -> str:
        return (
            super().extra_repr()
            + f", canonical_size={self.canonical_size}, canonical_level={self.canonical_level}"
        )
