"""The ROI keypoint codec (box frame): image-pixel keypoints <-> per-box heatmaps.

A ROI box ``(x1, y1, x2, y2)`` is covered by a ``(h, w)`` heatmap whose cell ``(u, v)``
spans ``[x1 + u * bw / w, x1 + (u + 1) * bw / w)`` horizontally (``bw = x2 - x1``), and
likewise vertically: pixel-center convention, as RoIAlign samples it. Hence:

    x_heat = (x - x1) / (x2 - x1) * w - 0.5        (image -> heatmap)
    x      = x1 + (x_heat + 0.5) * (x2 - x1) / w   (heatmap -> image)

and the same with ``y``, ``y1``, ``y2`` and ``h``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from cgalib.codecs.dark import _at, _check_step, blur_heatmaps, dark_offsets

__all__ = [
    "DARK_DEFAULTS",
    "REFINEMENTS",
    "RoiHeatmapDecoder",
    "decode_roi_heatmaps",
    "image_to_roi_heatmap",
    "roi_heatmap_to_image",
    "roi_keypoint_targets",
]


def _check_boxes(coords: torch.Tensor, boxes: torch.Tensor, name: str) -> None:
    if boxes.dim() != 2 or boxes.shape[-1] != 4:
        raise ValueError(f"{name} expects boxes (N, 4), got {tuple(boxes.shape)}")
    if coords.dim() != 3 or coords.shape[0] != boxes.shape[0] or coords.shape[-1] < 2:
        raise ValueError(
            f"{name} expects coordinates (N, K, 2+) with the boxes' N={boxes.shape[0]}, "
            f"got {tuple(coords.shape)}"
        )


def _box_scale(boxes: torch.Tensor, heatmap_size: tuple[int, int]) -> tuple[torch.Tensor, ...]:
    """Top-left corners `(N, 1, 2)` and heatmap cells per image pixel `(N, 1, 2)`."""
    h, w = int(heatmap_size[0]), int(heatmap_size[1])
    if h <= 0 or w <= 0:
        raise ValueError(f"heatmap_size must be a positive (h, w), got {tuple(heatmap_size)}")
    origin = boxes[:, None, :2]
    extent = (boxes[:, None, 2:] - origin).clamp(min=torch.finfo(boxes.dtype).eps)
    # heatmap cells per pixel, from Python scalars (a host tensor would cost a GPU sync)
    return origin, torch.stack([w / extent[..., 0], h / extent[..., 1]], -1)


def image_to_roi_heatmap(
    coords: torch.Tensor, boxes: torch.Tensor, heatmap_size: tuple[int, int]
) -> torch.Tensor:
    """Map image-pixel points into their ROI's heatmap frame (``x_heat``, ``y_heat``).

    Args:
        coords: points ``(x, y, ...)`` in image pixels; extra trailing columns are ignored.
        boxes: xyxy ROI boxes in image pixels, one per row of ``coords``.
        heatmap_size: ``(h, w)`` of the ROI heatmaps.

    Returns:
        ``(x_heat, y_heat)`` with ``x_heat = (x - x1) / (x2 - x1) * w - 0.5``.

    Shape:
        - coords: `(N, K, 2+)`
        - boxes: `(N, 4)`
        - output: `(N, K, 2)`

    Examples:
        >>> box = torch.tensor([[10.0, 20.0, 50.0, 100.0]])
        >>> image_to_roi_heatmap(torch.tensor([[[30.0, 60.0]]]), box, (64, 48)).tolist()
        [[[23.5, 31.5]]]
    """
    _check_boxes(coords, boxes, "image_to_roi_heatmap")
    origin, scale = _box_scale(boxes, heatmap_size)
    return (coords[..., :2] - origin) * scale - 0.5


def roi_heatmap_to_image(
    coords_heat: torch.Tensor, boxes: torch.Tensor, heatmap_size: tuple[int, int]
) -> torch.Tensor:
    """Map ROI-heatmap points ``(x_heat, y_heat)`` back to image pixels; inverse of
    [`image_to_roi_heatmap()`][image_to_roi_heatmap].

    Args:
        coords_heat: points in heatmap coordinates; extra trailing columns are ignored.
        boxes: xyxy ROI boxes in image pixels, one per row of ``coords_heat``.
        heatmap_size: ``(h, w)`` of the ROI heatmaps.

    Returns:
        Points ``x = x1 + (x_heat + 0.5) * (x2 - x1) / w`` (and likewise ``y``).

    Shape:
        - coords_heat: `(N, K, 2+)`
        - boxes: `(N, 4)`
        - output: `(N, K, 2)`

    Examples:
        >>> box = torch.tensor([[10.0, 20.0, 50.0, 100.0]])
        >>> roi_heatmap_to_image(torch.tensor([[[23.5, 31.5]]]), box, (64, 48)).tolist()
        [[[30.0, 60.0]]]
    """
    _check_boxes(coords_heat, boxes, "roi_heatmap_to_image")
    origin, scale = _box_scale(boxes, heatmap_size)
    return origin + (coords_heat[..., :2] + 0.5) / scale


def roi_keypoint_targets(
    keypoints: torch.Tensor,
    boxes: torch.Tensor,
    heatmap_size: tuple[int, int],
    sigma: float = 2.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian keypoint heatmaps of ROI crops, with per-keypoint weights.

    Each keypoint is mapped into its ROI's heatmap frame by [`image_to_roi_heatmap()`][image_to_roi_heatmap]
    and its peak is the nearest cell ``(floor(x_heat + 0.5), floor(y_heat + 0.5))``; the
    heatmap is ``exp(-((u - px)**2 + (v - py)**2) / (2 sigma**2))``, exactly 1 at the peak
    (what the focal loss counts as a positive). [`decode_roi_heatmaps()`][decode_roi_heatmaps] inverts this.

    Args:
        keypoints: ``(x, y, v)`` in image pixels; ``v = 0`` means unlabelled.
        boxes: xyxy ROI boxes in image pixels (e.g. the jittered, extended boxes).
        heatmap_size: ``(h, w)`` of the ROI heatmaps.
        sigma: Gaussian sigma in heatmap cells (default 2.0, mmpose's MSRA default).

    Returns:
        ``(heatmaps, weights)``: heatmaps in ``[0, 1]`` and weights in ``{0, 1}``. A weight
        is 0, and its heatmap all zeros, when the keypoint is unlabelled, its peak cell
        falls outside the heatmap (the keypoint is outside the ROI) or the ROI is empty.

    Shape:
        - keypoints: `(N, K, 3)`
        - boxes: `(N, 4)`
        - heatmaps: `(N, K, h, w)`
        - weights: `(N, K)`

    Examples:
        >>> kps = torch.tensor([[[30.0, 60.0, 2.0], [0.0, 0.0, 0.0]]])
        >>> box = torch.tensor([[10.0, 20.0, 50.0, 100.0]])
        >>> heat, weight = roi_keypoint_targets(kps, box, (64, 48))
        >>> heat.shape, weight.tolist(), heat[0, 0, 32, 24].item()
        (torch.Size([1, 2, 64, 48]), [[1.0, 0.0]], 1.0)
    """
    if keypoints.dim() != 3 or keypoints.shape[-1] != 3:
        raise ValueError(
            f"roi_keypoint_targets expects keypoints (N, K, 3), got {tuple(keypoints.shape)}"
        )
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    dtype = boxes.dtype if boxes.is_floating_point() else torch.float32
    boxes, keypoints = boxes.to(dtype), keypoints.to(device=boxes.device, dtype=dtype)
    _check_boxes(keypoints, boxes, "roi_keypoint_targets")
    h, w = int(heatmap_size[0]), int(heatmap_size[1])
    peak = torch.floor(image_to_roi_heatmap(keypoints, boxes, heatmap_size) + 0.5)  # (N, K, 2)
    px, py = peak.unbind(-1)
    nonempty = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    visible = (
        (keypoints[..., 2] > 0) & nonempty[:, None] & (px >= 0) & (px < w) & (py >= 0) & (py < h)
    )
    inv = 1.0 / (2.0 * sigma * sigma)
    us = torch.arange(w, device=boxes.device, dtype=dtype)
    vs = torch.arange(h, device=boxes.device, dtype=dtype)
    gx = torch.exp(-((us - px[..., None]) ** 2) * inv)  # (N, K, w)
    gy = torch.exp(-((vs - py[..., None]) ** 2) * inv) * visible[..., None]  # (N, K, h)
    heatmaps = gy[..., :, None] * gx[..., None, :]
    return heatmaps, visible.to(dtype)


REFINEMENTS = ("dark", "quarter")
"""Sub-cell refinements of [`decode_roi_heatmaps()`][decode_roi_heatmaps]."""

DARK_DEFAULTS = MappingProxyType(
    {"blur_kernel": 0, "stencil": 1, "border": "skip", "max_shift": 0.5}
)
"""The DARK settings of [`decode_roi_heatmaps()`][decode_roi_heatmaps] and
[`RoiHeatmapDecoder`][RoiHeatmapDecoder] by default: no blur, the +-1 stencil, no shift where
it leaves the map, at most half a cell. Measured by keypoint AP on trained models
(``benchmarks/decoding.py``, the ``decoding`` table of ``docs/benchmarks.md``), they are
the best for the top-down models' crop heatmaps, where every blur and the +-2 stencil
lowered AP; CGANet's per-box heatmaps decode best with a 3x3 blur, its own default
([`CGANET_KEYPOINT_DECODING`][cgalib.postprocess.CGANET_KEYPOINT_DECODING])."""


def decode_roi_heatmaps(
    heatmaps: torch.Tensor,
    boxes: torch.Tensor,
    logits: bool = True,
    refine: Literal["dark", "quarter"] = "dark",
    *,
    blur_kernel: int = DARK_DEFAULTS["blur_kernel"],
    stencil: int = DARK_DEFAULTS["stencil"],
    border: Literal["skip", "clamp"] = DARK_DEFAULTS["border"],
    max_shift: float | None = DARK_DEFAULTS["max_shift"],
) -> torch.Tensor:
    """Keypoints from ROI heatmaps: argmax, sub-cell refinement, back to image pixels.

    Refinements of the peak cell ``(px, py)`` (the argmax of the heatmap as given):

    - ``"dark"`` (default; DARK, Zhang et al. 2020): one Newton step on the
      log-probability ``L`` around the peak ([`dark_offsets()`][cgalib.codecs.dark_offsets]),
      ``L`` taken after an optional Gaussian blur of the probabilities
      ([`blur_heatmaps()`][cgalib.codecs.blur_heatmaps]). ``L`` of a Gaussian is a
      quadratic, so a Gaussian peak decodes to its center exactly wherever it lies
      between cells (the targets of [`roi_keypoint_targets()`][roi_keypoint_targets],
      centred on a cell, decode to that cell's center). The settings ``blur_kernel``,
      ``stencil``, ``border`` and ``max_shift`` are those of ``cgalib.codecs.dark``
      ([`dark_offsets()`][cgalib.codecs.dark_offsets]); their defaults
      ([`DARK_DEFAULTS`][DARK_DEFAULTS]) were chosen by measurement.
    - ``"quarter"``: a shift of 0.25 cell towards the higher of the two neighbours along
      each axis (no shift at the border or on a tie), the SimpleBaseline/HRNet rule.

    The refined peak is mapped to image pixels with
    [`roi_heatmap_to_image()`][roi_heatmap_to_image].

    Args:
        heatmaps: per-ROI keypoint heatmaps (logits by default).
        boxes: xyxy ROI boxes in image pixels, one per heatmap row.
        logits: whether ``heatmaps`` are logits (``L = log sigmoid``, score
            ``sigmoid(peak)``) or probabilities (``L = log``, score the peak value).
        refine: ``"dark"`` or ``"quarter"``.
        blur_kernel: DARK's blur size before the log (odd; 0: no blur).
        stencil: DARK's Hessian stencil, 1 or 2 cells.
        border: DARK where the stencil leaves the map: ``"skip"`` or ``"clamp"``.
        max_shift: DARK's offset limit per axis in cells, or ``None``.

    Returns:
        ``(x, y, score)`` per keypoint, ``x``/``y`` in image pixels; the score is the
        unblurred peak.

    Shape:
        - heatmaps: `(N, K, h, w)`
        - boxes: `(N, 4)`
        - output: `(N, K, 3)`

    Examples:
        >>> u, v = torch.arange(24.0), torch.arange(16.0)[:, None]
        >>> heat = torch.exp(-((u - 10.3) ** 2 + (v - 6.6) ** 2) / 8)[None, None]  # (1, 1, 16, 24)
        >>> box = torch.tensor([[0.0, 0.0, 24.0, 16.0]])  # one pixel per cell: x = u + 0.5
        >>> [round(c, 3) for c in decode_roi_heatmaps(heat, box, logits=False)[0, 0, :2].tolist()]
        [10.8, 7.1]
        >>> decode_roi_heatmaps(heat, box, logits=False, refine="quarter")[0, 0, :2].tolist()
        [10.75, 7.25]
    """
    if heatmaps.dim() != 4:
        raise ValueError(
            f"decode_roi_heatmaps expects heatmaps (N, K, h, w), got {tuple(heatmaps.shape)}"
        )
    if boxes.dim() != 2 or boxes.shape != (heatmaps.shape[0], 4):
        raise ValueError(
            f"decode_roi_heatmaps expects boxes ({heatmaps.shape[0]}, 4), got {tuple(boxes.shape)}"
        )
    if refine not in REFINEMENTS:
        raise ValueError(f"refine must be one of {REFINEMENTS}, got {refine!r}")
    _check_dark(blur_kernel, stencil, border, max_shift)
    n, k, h, w = heatmaps.shape
    dtype = heatmaps.dtype if heatmaps.is_floating_point() else torch.float32
    if n == 0 or k == 0:
        return heatmaps.new_zeros(n, k, 3, dtype=dtype)
    maps = heatmaps.to(dtype)
    flat = maps.reshape(n, k, h * w)
    peak_val, peak_idx = flat.max(-1)
    px, py = peak_idx % w, torch.div(peak_idx, w, rounding_mode="floor")
    if refine == "dark":
        if blur_kernel > 1:
            probs = maps.sigmoid() if logits else maps
            log_p = blur_heatmaps(probs, blur_kernel).clamp_min(1e-12).log()
        else:
            log_p = -F.softplus(-maps) if logits else maps.clamp_min(1e-12).log()
        shift_x, shift_y = dark_offsets(log_p, px, py, stencil, border, max_shift).unbind(-1)
    else:
        inner_x, inner_y = (px > 0) & (px < w - 1), (py > 0) & (py < h - 1)
        right, left = _at(flat, px, py, 1, 0, w, h), _at(flat, px, py, -1, 0, w, h)
        down, up = _at(flat, px, py, 0, 1, w, h), _at(flat, px, py, 0, -1, w, h)
        shift_x = torch.sign(right - left) * inner_x * 0.25
        shift_y = torch.sign(down - up) * inner_y * 0.25
    coords_heat = torch.stack([px.to(dtype) + shift_x, py.to(dtype) + shift_y], -1)
    coords = roi_heatmap_to_image(coords_heat, boxes.to(dtype), (h, w))
    score = peak_val.sigmoid() if logits else peak_val
    return torch.cat([coords, score[..., None]], -1)


def _check_dark(blur_kernel: int, stencil: int, border: str, max_shift: float | None) -> None:
    """Refuse DARK settings [`dark_offsets()`][cgalib.codecs.dark_offsets] would refuse,
    before any work."""
    if isinstance(blur_kernel, bool) or not isinstance(blur_kernel, int) or blur_kernel < 0 or (
        blur_kernel > 1 and blur_kernel % 2 == 0
    ):
        raise ValueError(f"blur_kernel must be 0 (no blur) or an odd size, got {blur_kernel!r}")
    _check_step(stencil, border, max_shift)


class RoiHeatmapDecoder(nn.Module):
    """[`decode_roi_heatmaps()`][decode_roi_heatmaps] with its refinement settings fixed: the
    keypoint decode a model is built with.

    A part of [`CGANetPostprocess`][cgalib.postprocess.CGANetPostprocess] and of
    [`TopDownPose`][cgalib.TopDownPose]; the builders take one as ``keypoint_decoder`` (or its
    [`to_dict()`][to_dict], which checkpoints store), so a model decoded another way is a
    variant: ``create_variant(model, keypoint_decoder={"blur_kernel": 11, "stencil": 2})``.
    It holds no weights.

    Args:
        refine: ``"dark"`` or ``"quarter"``.
        blur_kernel: DARK's Gaussian blur size before the log (odd; 0: none).
        stencil: DARK's Hessian stencil, 1 or 2 cells.
        border: DARK where its stencil leaves the map: ``"skip"`` or ``"clamp"``.
        max_shift: DARK's offset limit per axis in cells, or ``None``.

    Shape:
        - heatmaps: `(N, K, h, w)`
        - boxes: `(N, 4)`
        - output: `(N, K, 3)`

    Examples:
        >>> decoder = RoiHeatmapDecoder(blur_kernel=11, stencil=2, max_shift=None)
        >>> decoder(torch.randn(2, 17, 16, 12), torch.tensor([[0.0, 0.0, 48.0, 64.0]] * 2)).shape
        torch.Size([2, 17, 3])
        >>> RoiHeatmapDecoder.of(decoder.to_dict()).to_dict() == decoder.to_dict()
        True
    """

    def __init__(
        self,
        refine: Literal["dark", "quarter"] = "dark",
        blur_kernel: int = DARK_DEFAULTS["blur_kernel"],
        stencil: int = DARK_DEFAULTS["stencil"],
        border: Literal["skip", "clamp"] = DARK_DEFAULTS["border"],
        max_shift: float | None = DARK_DEFAULTS["max_shift"],
    ) -> None:
        super().__init__()
        if refine not in REFINEMENTS:
            raise ValueError(f"refine must be one of {REFINEMENTS}, got {refine!r}")
        _check_dark(blur_kernel, stencil, border, max_shift)
        self._refine = refine
        self._blur_kernel = int(blur_kernel)
        self._stencil = int(stencil)
        self._border = border
        self._max_shift = None if max_shift is None else float(max_shift)

    @classmethod
    def of(
        cls,
        value: RoiHeatmapDecoder | Mapping[str, Any] | None,
        defaults: Mapping[str, Any] | None = None,
    ) -> RoiHeatmapDecoder:
        """A decoder from itself, its [`to_dict()`][to_dict] or ``None``.

        Args:
            value: a decoder (returned as it is), a dict of settings or ``None``.
            defaults: the settings that ``None`` and the keys a dict leaves out take (a
                model family's defaults); default the constructor's.
        """
        if isinstance(value, RoiHeatmapDecoder):
            return value
        if value is None or isinstance(value, Mapping):
            settings = {**(defaults or {}), **(value or {})}
            unknown = set(settings) - {"refine", *DARK_DEFAULTS}
            if unknown:
                raise ValueError(
                    f"unknown keypoint decoder settings {sorted(unknown)}; known: refine, "
                    f"{', '.join(DARK_DEFAULTS)}"
                )
            return cls(**settings)
        raise TypeError(
            f"keypoint_decoder must be a RoiHeatmapDecoder, a dict of its settings or None, "
            f"got {type(value).__name__}"
        )

    @property
    def refine(self) -> str:
        """``"dark"`` or ``"quarter"``."""
        return self._refine

    @property
    def blur_kernel(self) -> int:
        """DARK's blur size (0: none)."""
        return self._blur_kernel

    @property
    def stencil(self) -> int:
        """DARK's Hessian stencil in cells."""
        return self._stencil

    @property
    def border(self) -> str:
        """DARK's border rule."""
        return self._border

    @property
    def max_shift(self) -> float | None:
        """DARK's offset limit per axis in cells (``None``: none)."""
        return self._max_shift

    def to_dict(self) -> dict[str, Any]:
        """The settings, as the builders' ``keypoint_decoder`` takes them (and checkpoints
        store them)."""
        return {
            "refine": self._refine,
            "blur_kernel": self._blur_kernel,
            "stencil": self._stencil,
            "border": self._border,
            "max_shift": self._max_shift,
        }

    def forward(
        self, heatmaps: torch.Tensor, boxes: torch.Tensor, logits: bool = True
    ) -> torch.Tensor:
        """Keypoints ``(x, y, score)`` in image pixels of `(N, K, h, w)` heatmaps over `(N, 4)`
        boxes (``logits``: whether the heatmaps are logits or probabilities)."""
        return decode_roi_heatmaps(heatmaps, boxes, logits, self._refine, **self._dark())

    def _dark(self) -> dict[str, Any]:
        return {k: v for k, v in self.to_dict().items() if k != "refine"}

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items())
