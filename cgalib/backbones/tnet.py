"""TNet, the Trapezoidal Network backbone (paper "Efficient Trapezoidal Network", eqs. 5-7).

Data flow of one stage (depth ``d``), for levels ``i = 0..3`` at strides 4, 8, 16, 32:

    inputs X_0 .. X_{n-1}          (n = 1 for the first stage: the stem output L_I)
    L_i  = conv1x1(X_i) + conv3x3_s2(X_{i-1}) + RB_s2(L_{i-1})     # yields + eq. 5
    L_i  = RB(...RB(L_i))                                        # num_blocks residual blocks
    C_i  = concat(pixel_shuffle(L_{i+1}), L_i)                   # eq. 6, i < 3
    O_i  = GFM(L_{i+1}, C_i) = F_g * C_i + C_i                   # eq. 7, i < 3
    O_3  = L_3

Terms whose input does not exist (``X_i`` for ``i >= n``) are left out, so the first
stage grows the single stem map into a four-level trapezoid. The outputs of one stage
are the inputs of the next. See ``docs/architecture.md`` for the design reasoning and
the parameter calibration against the paper.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import torch
from torch import nn

from cgalib.backbones.features import FeatureInfo
from cgalib.layers import (
    ActLayer,
    ConvNormAct,
    GuidedFusionModule,
    NormLayer,
    ResidualBlock,
    ShuffleFusion,
)
from cgalib.registry import register_model

__all__ = ["TNet", "TrapezoidStage", "tnet_d1w64", "tnet_d3w64", "tnet_d3w96"]


class TrapezoidStage(nn.Module):
    """One depth of TNet: per-level yields, eq. 5 merges, residual blocks, shuffle + GFM fusion.

    Args:
        in_channels: channels of the input levels, finest first (1 to ``len(widths)`` levels).
        widths: channels ``w_i`` of the internal levels ``L_i``, finest first.
        num_blocks: residual blocks applied to each level after merging (an int for all
            levels, or one count per level).
        norm_layer: normalisation constructor.
        act_layer: activation constructor.

    Attributes:
        out_channels: channels of each output ``O_i``: ``w_{i+1} / 4 + w_i`` for every
            level but the last, ``w_last`` for the last.

    Shape:
        - input: a sequence of `(B, C_in_i, H / 2^i, W / 2^i)`
        - output: a list of `(B, out_channels[i], H / 2^i, W / 2^i)`, one per width
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        widths: Sequence[int],
        num_blocks: int | Sequence[int] = 1,
        norm_layer: NormLayer = nn.BatchNorm2d,
        act_layer: ActLayer = nn.ReLU,
    ) -> None:
        super().__init__()
        if isinstance(num_blocks, int):
            num_blocks = (num_blocks,) * len(widths)
        if len(num_blocks) != len(widths):
            raise ValueError("TrapezoidStage needs one block count per level")
        if not 1 <= len(in_channels) <= len(widths):
            raise ValueError("TrapezoidStage needs between 1 and len(widths) input levels")
        self.num_inputs = len(in_channels)
        self.num_levels = len(widths)
        cna = partial(ConvNormAct, norm_layer=norm_layer, act_layer=act_layer)
        rb = partial(ResidualBlock, norm_layer=norm_layer, act_layer=act_layer)
        self.lateral = nn.ModuleList(cna(c, w, 1) for c, w in zip(in_channels, widths))
        self.down = nn.ModuleList(
            cna(in_channels[i - 1], widths[i], 3, stride=2)
            for i in range(1, min(self.num_inputs + 1, self.num_levels))
        )
        self.merge = nn.ModuleList(
            rb(widths[i - 1], widths[i], stride=2) for i in range(1, self.num_levels)
        )
        self.blocks = nn.ModuleList(
            nn.Sequential(*(rb(w, w) for _ in range(n))) for w, n in zip(widths, num_blocks)
        )
        self.fuse = nn.ModuleList(
            ShuffleFusion(widths[i + 1], widths[i]) for i in range(self.num_levels - 1)
        )
        self.gfm = nn.ModuleList(
            GuidedFusionModule(widths[i + 1], f.out_channels) for i, f in enumerate(self.fuse)
        )
        self.out_channels = tuple(f.out_channels for f in self.fuse) + (widths[-1],)

    def forward(self, inputs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        levels: list[torch.Tensor] = []
        for i in range(self.num_levels):
            terms = []
            if i < self.num_inputs:
                terms.append(self.lateral[i](inputs[i]))
            if 1 <= i <= self.num_inputs:
                terms.append(self.down[i - 1](inputs[i - 1]))
            if i >= 1:
                terms.append(self.merge[i - 1](levels[i - 1]))  # eq. 5
            level = terms[0]
            for t in terms[1:]:
                level = level + t
            levels.append(self.blocks[i](level))
        outputs = []
        for i in range(self.num_levels - 1):
            fused = self.fuse[i](levels[i + 1], levels[i])  # eq. 6
            outputs.append(self.gfm[i](levels[i + 1], fused))  # eq. 7 (identity inside GFM)
        outputs.append(levels[-1])
        return outputs


class TNet(nn.Module):
    """Trapezoidal Network: a residual stem, then ``depth`` trapezoid stages.

    Returns four maps ``L0..L3`` at strides 4, 8, 16, 32. Level ``i`` has internal width
    ``w_i = width * width_multipliers[i]`` (default ``W, 2W, 4W, 4W``); the fused outputs
    ``O_i`` carry ``w_{i+1} / 4 + w_i`` channels (the pixel-shuffled coarser level adds a
    quarter of its channels), the last level ``w_3``. ``out_channels``/``strides``/
    ``feature_info`` describe them so that heads are sized from the backbone. The defaults
    are calibrated so that TNet-D3W64 has the paper's top-down size (24.7M parameters,
    7.2 GFLOPs at 256x192); see ``docs/architecture.md``.

    Args:
        depth: number of trapezoid stages ``D``.
        width: base width ``W`` (channels of level 0).
        width_multipliers: ``w_i / W`` for the four levels.
        num_blocks: residual blocks per level in each stage (an int for all levels, or one
            count per level).
        stem_blocks: residual blocks at stride 4 in the stem (``f_RB`` of the paper).
        in_channels: image channels.
        norm_layer: normalisation constructor (e.g. ``nn.BatchNorm2d``, ``partial(nn.GroupNorm, 8)``).
        act_layer: activation constructor.

    Shape:
        - input: `(B, in_channels, H, W)` with ``H`` and ``W`` multiples of 32
        - output: list of 4 maps `(B, out_channels[i], H / strides[i], W / strides[i])`

    Raises:
        ValueError: if the input is not 4-D with the expected channels, or its height or
            width is not a multiple of 32.

    Examples:
        >>> import torch
        >>> net = TNet(depth=1, width=16, num_blocks=1, stem_blocks=1)
        >>> net.out_channels, net.strides
        ((24, 48, 80, 64), (4, 8, 16, 32))
        >>> [tuple(f.shape) for f in net(torch.rand(1, 3, 64, 96))]
        [(1, 24, 16, 24), (1, 48, 8, 12), (1, 80, 4, 6), (1, 64, 2, 3)]
    """

    num_levels = 4
    size_multiple = 32

    def __init__(
        self,
        depth: int = 1,
        width: int = 64,
        width_multipliers: Sequence[int] = (1, 2, 4, 4),
        num_blocks: int | Sequence[int] = (3, 2, 2, 1),
        stem_blocks: int = 2,
        in_channels: int = 3,
        norm_layer: NormLayer = nn.BatchNorm2d,
        act_layer: ActLayer = nn.ReLU,
    ) -> None:
        super().__init__()
        if depth < 1 or width < 2 or width % 2:
            raise ValueError(f"TNet needs depth >= 1 and an even width, got {depth}, {width}")
        if len(width_multipliers) != self.num_levels:
            raise ValueError(f"TNet needs {self.num_levels} width multipliers")
        self.depth = depth
        self.width = width
        self.in_channels = in_channels
        widths = tuple(width * m for m in width_multipliers)
        cna = partial(ConvNormAct, norm_layer=norm_layer, act_layer=act_layer)
        self.stem = nn.Sequential(
            cna(in_channels, width // 2, 3, stride=2),
            cna(width // 2, width, 3, stride=2),
            *(ResidualBlock(width, width, 1, norm_layer, act_layer) for _ in range(stem_blocks)),
        )
        stages = []
        stage_in: tuple[int, ...] = (width,)
        for _ in range(depth):
            stage = TrapezoidStage(stage_in, widths, num_blocks, norm_layer, act_layer)
            stages.append(stage)
            stage_in = stage.out_channels
        self.stages = nn.ModuleList(stages)
        self.feature_info = FeatureInfo(channels=stage_in, strides=(4, 8, 16, 32))
        self._init_weights()

    @property
    def out_channels(self) -> tuple[int, ...]:
        """Channels of ``L0..L3``."""
        return tuple(self.feature_info.channels())

    @property
    def strides(self) -> tuple[int, ...]:
        """Strides of ``L0..L3`` relative to the input: ``(4, 8, 16, 32)``."""
        return tuple(self.feature_info.reduction())

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        # Start every residual branch near zero so deep stacks begin close to the identity.
        for m in self.modules():
            if isinstance(m, ResidualBlock):
                norm = m.conv2[-1]
                if isinstance(norm, (nn.BatchNorm2d, nn.GroupNorm)):
                    nn.init.zeros_(norm.weight)
            if isinstance(m, GuidedFusionModule):
                nn.init.zeros_(m.f.weight)  # F_g starts at the bias: GFM starts as identity

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        _check_image_batch(x, self.in_channels, self.size_multiple, type(self).__name__)
        features: list[torch.Tensor] = [self.stem(x)]
        for stage in self.stages:
            features = stage(features)
        return features


def _check_image_batch(x: torch.Tensor, channels: int, multiple: int, who: str) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != 4 or x.shape[1] != channels:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{who} expects a (B, {channels}, H, W) tensor, got {shape}")
    h, w = x.shape[-2:]
    if h % multiple or w % multiple:
        raise ValueError(
            f"{who} needs height and width that are multiples of {multiple}, got {h}x{w}; "
            f"pad the image (the Predictor letterboxes automatically)"
        )


def _create_tnet(depth: int, width: int, **kwargs: Any) -> TNet:
    return TNet(depth=depth, width=width, **kwargs)


@register_model
def tnet_d1w64(**kwargs: Any) -> TNet:
    """TNet-D1W64: one trapezoid stage, base width 64 (the single-model CGANet backbone).

    Args:
        **kwargs: overrides for [`TNet`][TNet] (e.g. ``num_blocks``, ``norm_layer``).
    """
    return _create_tnet(1, 64, **kwargs)


@register_model
def tnet_d3w64(**kwargs: Any) -> TNet:
    """TNet-D3W64: three trapezoid stages, base width 64 (the paper's top-down backbone).

    Args:
        **kwargs: overrides for [`TNet`][TNet].
    """
    return _create_tnet(3, 64, **kwargs)


@register_model
def tnet_d3w96(**kwargs: Any) -> TNet:
    """TNet-D3W96: three trapezoid stages, base width 96 (the paper's largest backbone).

    Args:
        **kwargs: overrides for [`TNet`][TNet].
    """
    return _create_tnet(3, 96, **kwargs)
