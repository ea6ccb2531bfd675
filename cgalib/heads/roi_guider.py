"""ROIguider (paper "ROIguider", Fig. 2-3): per-box keypoint heatmaps from three fused levels.

Data flow for ``N`` boxes at a 512 input (TNet-D1W64, ROI sizes 32/16/8):

    A_i = RoIAlign(L_i, boxes) at 1/16, 1/32, 1/64 of the input     # (N, C_i, 32|16|8)
    forward path   M_0 = RB^n0(P_0(A_0))
                   M_1 = RB^n1(RB_s2(M_0) + P_1(A_1))               # P_i: 1x1 projection
                   M_2 = RB^n2(RB_s2(M_1) + P_2(A_2))
    reverse path   R_2 = M_2
                   R_i = conv3x3(GFM(R_{i+1}, concat(shuffle(R_{i+1}), M_i)))   # eq. 2
    head           logits = shuffle_x2(conv1x1(relu(conv3x3(R_0))))   # (N, K, 64, 64)

A cascade stage (Table 1 f) repeats the two paths on ``(R_0, R_1, R_2)`` and ends with
its own head.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import torch
from torch import nn

from cgalib.heads.prediction_head import HEATMAP_PRIOR_BIAS, PredictionHead
from cgalib.heads.roi_head import RoiHead, roi_sizes_for_input
from cgalib.layers import (
    ActLayer,
    ConvNormAct,
    GuidedFusionModule,
    NormLayer,
    ResidualBlock,
    ShuffleFusion,
    pixel_shuffle,
)
from cgalib.ops import roi_align

__all__ = ["ROIGuider", "ROIGuiderStage", "RoiHeatmapHead"]

class RoiHeatmapHead(nn.Module):
    """Per-box heatmap logits at twice the resolution of its input, by pixel shuffle.

    ``conv3x3 -> ReLU -> conv1x1 (r^2 * num_outputs)`` (a [`PredictionHead`][PredictionHead]) then
    ``pixel_shuffle(r)``; the last bias starts at ``-2.19`` (CenterNet's prior, sigmoid
    0.1), the shuffle replacing a deconvolution as in the paper's reverse path. Output
    cell ``(u, v)`` covers the ``1/r x 1/r`` sub-cells of input cell ``(u // r, v // r)``.

    Args:
        in_channels: channels of the finest fused ROI features.
        num_outputs: heatmaps per box (``K`` keypoints, or 1 for a mask).
        hidden_channels: channels of the 3x3 convolution.
        upscale: resolution factor ``r`` of the output over the input.

    Shape:
        - input: `(N, C, h, w)`
        - output: `(N, num_outputs, r * h, r * w)` logits

    Examples:
        >>> RoiHeatmapHead(32, 17, 16)(torch.rand(2, 32, 8, 6)).shape
        torch.Size([2, 17, 16, 12])
    """

    def __init__(
        self, in_channels: int, num_outputs: int, hidden_channels: int = 128, upscale: int = 2
    ) -> None:
        super().__init__()
        self.num_outputs = num_outputs
        self.upscale = upscale
        self.predict = PredictionHead(
            in_channels, num_outputs * upscale**2, hidden_channels, HEATMAP_PRIOR_BIAS
        )
        self.upscale = upscale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return pixel_shuffle(self.predict(x), self.upscale)


class ROIGuiderStage(nn.Module):
    """One ROIguider stage: forward path merging three aligned levels, reverse GFM path.

    Forward path: ``M_0 = RB^n0(P_0(A_0))``, ``M_i = RB^ni(RB_s2(M_{i-1}) + P_i(A_i))``
    where ``P_i`` is a 1x1 ``ConvNormAct`` projection to ``channels[i]`` (identity when
    the widths already agree, as in cascade stages). Reverse path, coarse to fine:
    ``R_2 = M_2`` and ``R_i = conv3x3(GFM(R_{i+1}, ShuffleFusion(R_{i+1}, M_i)))`` -- the
    coarser result is pixel-shuffled, concatenated with the finer level, re-weighted by
    the coarser level's global context (paper eq. 2) and brought back to ``channels[i]``.

    Args:
        in_channels: channels of the three aligned inputs, finest first.
        channels: internal widths ``w_i`` (``w_1`` and ``w_2`` divisible by 4).
        num_blocks: residual blocks applied at each level after merging.
        norm_layer: normalisation constructor.
        act_layer: activation constructor.

    Attributes:
        out_channels: ``channels``: the widths of ``(R_0, R_1, R_2)``.

    Shape:
        - input: three maps `(N, C_in_i, h / 2^i, w / 2^i)` with ``h``, ``w`` multiples of 4
        - output: list ``[R_0, R_1, R_2]`` of `(N, w_i, h / 2^i, w / 2^i)`

    Examples:
        >>> stage = ROIGuiderStage((8, 16, 24), (16, 32, 64), (1, 1, 1))
        >>> aligned = [torch.rand(3, c, 16 >> i, 12 >> i) for i, c in enumerate((8, 16, 24))]
        >>> [tuple(r.shape) for r in stage(aligned)]
        [(3, 16, 16, 12), (3, 32, 8, 6), (3, 64, 4, 3)]
    """

    num_levels = 3

    def __init__(
        self,
        in_channels: Sequence[int],
        channels: Sequence[int],
        num_blocks: Sequence[int] = (1, 1, 1),
        norm_layer: NormLayer = nn.BatchNorm2d,
        act_layer: ActLayer = nn.ReLU,
    ) -> None:
        super().__init__()
        if not len(in_channels) == len(channels) == len(num_blocks) == self.num_levels:
            raise ValueError(
                "ROIGuiderStage needs three in_channels, channels and num_blocks, got "
                f"{tuple(in_channels)}, {tuple(channels)}, {tuple(num_blocks)}"
            )
        cna = partial(ConvNormAct, norm_layer=norm_layer, act_layer=act_layer)
        rb = partial(ResidualBlock, norm_layer=norm_layer, act_layer=act_layer)
        self.in_channels = tuple(in_channels)
        self.out_channels = tuple(channels)
        self.project = nn.ModuleList(
            nn.Identity() if c == w else cna(c, w, 1) for c, w in zip(in_channels, channels)
        )
        self.down = nn.ModuleList(rb(channels[i], channels[i + 1], stride=2) for i in range(2))
        self.blocks = nn.ModuleList(
            nn.Sequential(*(rb(w, w) for _ in range(n))) for w, n in zip(channels, num_blocks)
        )
        self.shuffle = nn.ModuleList(ShuffleFusion(channels[i + 1], channels[i]) for i in range(2))
        self.gfm = nn.ModuleList(
            GuidedFusionModule(channels[i + 1], s.out_channels) for i, s in enumerate(self.shuffle)
        )
        self.fuse = nn.ModuleList(
            cna(s.out_channels, channels[i], 3) for i, s in enumerate(self.shuffle)
        )

    def forward(self, aligned: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        merged: list[torch.Tensor] = []
        for i in range(self.num_levels):
            level = self.project[i](aligned[i])
            if i > 0:
                level = self.down[i - 1](merged[-1]) + level
            merged.append(self.blocks[i](level))
        fused = [merged[-1]]
        for i in reversed(range(self.num_levels - 1)):
            coarse = fused[0]
            guided = self.gfm[i](coarse, self.shuffle[i](coarse, merged[i]))
            fused.insert(0, self.fuse[i](guided))
        return fused


class ROIGuider(RoiHead):
    """Per-box keypoint (or mask) heatmaps from the context-guided fusion of L0..L2.

    Every box is RoIAligned (``aligned=True``) from the backbone levels L0, L1, L2 at
    ROI sizes ``s, s/2, s/4`` -- the paper's 1/16, 1/32, 1/64 of the training input
    (32/16/8 at 512, 24/12/6 at 384) -- and the three maps go through
    ``cascade`` [`ROIGuiderStage`][ROIGuiderStage] s, each followed by its own
    [`RoiHeatmapHead`][RoiHeatmapHead]. Stage ``t > 1`` takes the fused pyramid
    ``(R_0, R_1, R_2)`` of stage ``t - 1`` as its aligned inputs (Table 1 f).

    **Output convention** (that of every [`RoiHead`][cgalib.heads.RoiHead]). The logits
    have twice the level-0 ROI size, ``(2s, 2s)`` (64x64 at 512, 48x48 at 384;
    `output_size`); a keypoint at ``x`` in its box ``(x1, y1, x2, y2)`` is at
    heatmap column ``(x - x1) / (x2 - x1) * w - 0.5`` (the pixel-center convention of
    `cgalib.codecs.roi_keypoints`).

    **Size.** With ``in_channels=(96, 192, 320)`` (TNet-D1W64) and the defaults,
    ``ROIGuider`` has 12.85M parameters with ``cascade=1`` and 19.58M with ``cascade=2``
    (6.73M per extra stage); with the 7.29M backbone and 0.28M of dense heads CGANet
    totals 20.4M and 27.1M, the paper's 20.2M and 26.9M (Table 1 e, f) within 1%.

    Args:
        in_channels: channels of the backbone levels, finest first; only the first three
            (L0..L2) are used, so a backbone's ``out_channels`` can be passed as is.
        strides: strides of those levels (e.g. ``(4, 8, 16)``); ``1 / stride`` is the
            RoIAlign ``spatial_scale``.
        input_size: training input side (or ``(H, W)``) that sets the ROI sizes by
            [`roi_sizes_for_input()`][roi_sizes_for_input]; ignored when ``roi_size`` is given.
        roi_size: level-0 ROI size ``s`` (int or ``(h, w)``, multiples of 4); levels 1 and
            2 use ``s/2`` and ``s/4``.
        num_outputs: heatmaps per box (17 COCO keypoints; 1 for a mask).
        channels: internal widths ``w_0, w_1, w_2`` of every stage.
        num_blocks: residual blocks per level in the first stage.
        cascade: number of stages (1, or 2 for the paper's cascade ROIguider).
        cascade_blocks: residual blocks per level in each later stage (default one at
            level 0, where the heatmaps are read; the stride-2 merges, the reverse path
            and the head make up the rest of a stage).
        head_channels: hidden channels of each heatmap head.
        sampling_ratio: RoIAlign samples per bin and axis.
        norm_layer: normalisation constructor.
        act_layer: activation constructor.

    Attributes:
        roi_sizes: ``(h, w)`` aligned at each level, finest first.
        output_size: ``(h, w)`` of the logits, ``2 * roi_sizes[0]``.

    Shape:
        - features: sequence of `(B, C_i, H / stride_i, W / stride_i)`, at least 3 levels
        - boxes: B tensors `(N_i, 4)` xyxy in input pixels, or rois `(N, 5)`
          ``(batch_index, x1, y1, x2, y2)``; ``N = sum N_i``, may be 0
        - output: `(N, num_outputs, 2s, 2s)` logits of the last stage, or with
          ``return_all=True`` a list of one such tensor per stage

    Examples:
        >>> guider = ROIGuider((8, 16, 24), (4, 8, 16), input_size=128, channels=(8, 16, 32),
        ...                    head_channels=8)
        >>> guider.roi_sizes, guider.output_size
        (((8, 8), (4, 4), (2, 2)), (16, 16))
        >>> feats = [torch.rand(2, c, 128 // s, 128 // s) for c, s in ((8, 4), (16, 8), (24, 16))]
        >>> boxes = [torch.tensor([[10.0, 20.0, 60.0, 120.0]]), torch.zeros(0, 4)]
        >>> guider(feats, boxes).shape
        torch.Size([1, 17, 16, 16])
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        strides: Sequence[int],
        input_size: int | Sequence[int] = 512,
        roi_size: int | Sequence[int] | None = None,
        num_outputs: int = 17,
        channels: Sequence[int] = (128, 256, 512),
        num_blocks: Sequence[int] = (1, 1, 1),
        cascade: int = 1,
        cascade_blocks: Sequence[int] = (1, 0, 0),
        head_channels: int = 128,
        sampling_ratio: int = 2,
        norm_layer: NormLayer = nn.BatchNorm2d,
        act_layer: ActLayer = nn.ReLU,
    ) -> None:
        if roi_size is None:
            roi_sizes = roi_sizes_for_input(input_size, self.num_levels)
        else:
            side = (roi_size, roi_size) if isinstance(roi_size, int) else tuple(roi_size)
            if len(side) != 2 or any(s <= 0 or s % 4 for s in side):
                raise ValueError(f"roi_size must be positive multiples of 4, got {roi_size}")
            roi_sizes = tuple((side[0] >> i, side[1] >> i) for i in range(self.num_levels))
        super().__init__(in_channels, strides, roi_sizes[0], num_outputs, sampling_ratio)
        if cascade < 1:
            raise ValueError(f"ROIGuider needs cascade >= 1, got {cascade}")
        self.roi_sizes = roi_sizes
        self.cascade = cascade
        self.num_stages = cascade
        stages = [ROIGuiderStage(self.in_channels, channels, num_blocks, norm_layer, act_layer)]
        for _ in range(cascade - 1):
            stages.append(ROIGuiderStage(channels, channels, cascade_blocks, norm_layer, act_layer))
        self.stages = nn.ModuleList(stages)
        self.heads = nn.ModuleList(
            RoiHeatmapHead(channels[0], num_outputs, head_channels) for _ in range(cascade)
        )

    def align(
        self, features: Sequence[torch.Tensor], boxes: torch.Tensor | Sequence[torch.Tensor]
    ) -> list[torch.Tensor]:
        """RoIAlign every box from L0..L2 at `roi_sizes` (validating the inputs).

        Args:
            features: the backbone levels (at least three).
            boxes: B `(N_i, 4)` xyxy tensors in input pixels, or `(N, 5)` rois.

        Returns:
            Three maps `(N, C_i, *roi_sizes[i])`.
        """
        self.check_inputs(features, boxes)
        if not isinstance(boxes, torch.Tensor):
            boxes = list(boxes)  # per-image lists keep roi_align's static per-image layout
        return [
            roi_align(
                features[i],
                boxes,
                self.roi_sizes[i],
                1.0 / self.strides[i],
                self.sampling_ratio,
                aligned=True,
            )
            for i in range(self.num_levels)
        ]

    def stage_logits(
        self,
        features: Sequence[torch.Tensor],
        boxes: torch.Tensor | Sequence[torch.Tensor],
        all_stages: bool,
    ) -> list[torch.Tensor]:
        x = self.align(features, boxes)
        outputs = []
        for t, (stage, head) in enumerate(zip(self.stages, self.heads)):
            x = stage(x)
            if all_stages or t == self.cascade - 1:
                outputs.append(head(x[0]))
        return outputs

    def extra_repr(self) -> str:
        return f"roi_sizes={self.roi_sizes}, cascade={self.cascade}, " + super().extra_repr()
