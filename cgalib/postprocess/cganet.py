"""CGANet's inference post-processing as one module: dense outputs to scored, extended boxes,
and per-box heatmaps to keypoints."""

from __future__ import annotations

from types import MappingProxyType

import torch
from torch import nn

from cgalib.codecs.center import decode_centers
from cgalib.codecs.roi_keypoints import RoiHeatmapDecoder
from cgalib.postprocess.ambiguity import AmbiguityAlleviation
from cgalib.postprocess.extend_area import BoxExtension, NoExtension

__all__ = ["CGANET_KEYPOINT_DECODING", "CGANetPostprocess", "average_flipped_outputs"]

CGANET_KEYPOINT_DECODING = MappingProxyType(
    {"refine": "dark", "blur_kernel": 3, "stencil": 1, "border": "skip", "max_shift": 0.5}
)
"""How CGANet reads its per-box keypoint heatmaps by default: DARK after a 3x3 Gaussian
blur of the probabilities (the [`RoiHeatmapDecoder`][cgalib.codecs.RoiHeatmapDecoder]
settings). Chosen by keypoint AP on the shipped checkpoint (``benchmarks/decoding.py``, the
``decoding`` table of ``docs/benchmarks.md``): the blur gained on every third of the
held-out images; the +-2 stencil and reading the edge cell at the border changed AP less
than its spread, so the simpler +-1 stencil and skipping the border stay."""


class CGANetPostprocess(nn.Module):
    """Sigmoid, Ambiguity Alleviation (eq. 4), top-k center decode, box extension; keypoints.

    [`detect()`][detect] turns the dense outputs of one forward pass into ``k`` scored boxes
    per image and their extended boxes (the ROIs the keypoint head reads);
    [`decode_keypoints()`][decode_keypoints] turns the keypoint head's per-box heatmaps into keypoints.
    The parts are modules fixed at construction; a variant (say, the fixed extension of
    Table 1 d*) is another ``CGANetPostprocess``, or another builder argument of the
    registered models ([`cgalib.create_variant()`][cgalib.create_variant]).

    Args:
        box_extension: the [`BoxExtension`][cgalib.postprocess.BoxExtension] applied to the
            decoded boxes ([`DichotomyExtendArea`][cgalib.postprocess.DichotomyExtendArea], the paper's;
            [`FixedExtendArea`][cgalib.postprocess.FixedExtendArea];
            [`NoExtension`][cgalib.postprocess.NoExtension]); ``None`` means no extension.
            Training reuses the same module for its ROIs (see
            [`CGANetCriterion`][cgalib.losses.CGANetCriterion]).
        ambiguity: the [`AmbiguityAlleviation`][cgalib.postprocess.AmbiguityAlleviation] re-scoring of
            the center heatmap, or ``None`` to decode the raw heatmap.
        max_detections: ``k`` of the top-k decode (COCO's maxDets = 20).
        output_stride: input pixels per heatmap pixel (4).

    Shape:
        - outputs (detect): dict with ``heatmap``, ``line_x``, ``line_y`` `(B, 1, h, w)`
          logits and ``wh``, ``offset`` `(B, 2, h, w)` in heatmap cells
        - detections: ``boxes``, ``extended_boxes`` `(B, k, 4)` xyxy in input pixels and
          ``scores`` `(B, k)` in [0, 1], sorted descending, with ``k = min(max_detections,
          h * w)``
        - logits (decode_keypoints): `(B * k, K, h', w')`; rois `(B, k, 4)`
        - keypoints: `(B, k, K, 3)` as (x, y, score) in input pixels

    Examples:
        >>> from cgalib.postprocess import DichotomyExtendArea
        >>> post = CGANetPostprocess(DichotomyExtendArea(), AmbiguityAlleviation())
        >>> maps = {k: torch.randn(1, 2 if k in ("wh", "offset") else 1, 16, 16)
        ...         for k in ("heatmap", "wh", "offset", "line_x", "line_y")}
        >>> {k: tuple(v.shape) for k, v in post.detect(maps).items()}
        {'boxes': (1, 20, 4), 'extended_boxes': (1, 20, 4), 'scores': (1, 20)}
    """

    def __init__(
        self,
        box_extension: BoxExtension | None,
        ambiguity: AmbiguityAlleviation | None,
        max_detections: int = 20,
        output_stride: int = 4,
        keypoint_decoder: RoiHeatmapDecoder | None = None,
    ) -> None:
        super().__init__()
        if box_extension is not None and not isinstance(box_extension, BoxExtension):
            raise TypeError(
                "box_extension must be a BoxExtension (DichotomyExtendArea, FixedExtendArea, "
                f"NoExtension) or None, got {type(box_extension).__name__}"
            )
        if ambiguity is not None and not isinstance(ambiguity, AmbiguityAlleviation):
            raise TypeError(
                f"ambiguity must be an AmbiguityAlleviation or None, got {type(ambiguity).__name__}"
            )
        if isinstance(max_detections, bool) or int(max_detections) != max_detections or (
            max_detections < 1
        ):
            raise ValueError(f"max_detections must be a positive int, got {max_detections!r}")
        if output_stride < 1:
            raise ValueError(f"output_stride must be positive, got {output_stride}")
        if keypoint_decoder is not None and not isinstance(keypoint_decoder, RoiHeatmapDecoder):
            raise TypeError(
                "keypoint_decoder must be a RoiHeatmapDecoder or None, got "
                f"{type(keypoint_decoder).__name__}"
            )
        self.keypoint_decoder = RoiHeatmapDecoder.of(keypoint_decoder, CGANET_KEYPOINT_DECODING)
        self.box_extension = box_extension if box_extension is not None else NoExtension()
        self.ambiguity = ambiguity
        self._max_detections = int(max_detections)
        self._output_stride = int(output_stride)

    @property
    def max_detections(self) -> int:
        """``k`` of the top-k center decode."""
        return self._max_detections

    @property
    def output_stride(self) -> int:
        """Input pixels per heatmap pixel."""
        return self._output_stride

    def detect(self, outputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Centers to boxes: sigmoid, Ambiguity Alleviation, top-k decode, box extension.

        Args:
            outputs: the dense outputs (logits and regressions, heatmap frame).

        Returns:
            dict with ``boxes`` and ``extended_boxes`` `(B, k, 4)` in input pixels and
            ``scores`` `(B, k)` in [0, 1], sorted descending.
        """
        heat = outputs["heatmap"].float().sigmoid()
        line_x = outputs["line_x"].float().sigmoid()
        line_y = outputs["line_y"].float().sigmoid()
        if self.ambiguity is not None:
            heat = self.ambiguity(heat, line_x, line_y)
        boxes, scores = decode_centers(
            heat, outputs["wh"].float(), outputs["offset"].float(), k=self._max_detections
        )
        extended = self.box_extension(boxes, line_x[:, 0], line_y[:, 0])
        s = self._output_stride
        return {"boxes": boxes * s, "extended_boxes": extended * s, "scores": scores}

    def forward(self, outputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The same as [`detect()`][detect]."""
        return self.detect(outputs)

    def decode_keypoints(self, logits: torch.Tensor, rois: torch.Tensor) -> torch.Tensor:
        """Per-box heatmap logits to keypoints in input pixels (argmax, DARK refinement: the
        ``keypoint_decoder``, [`decode_roi_heatmaps()`][cgalib.codecs.decode_roi_heatmaps]).

        Args:
            logits: `(B * k, K, h, w)` keypoint heatmap logits, boxes in ``rois`` order.
            rois: `(B, k, 4)` the boxes the heatmaps were read from (input pixels).

        Returns:
            `(B, k, K, 3)` as (x, y, score), ``score`` the peak probability.
        """
        b, k = rois.shape[:2]
        keypoints = self.keypoint_decoder(logits.float(), rois.reshape(-1, 4).float())
        return keypoints.view(b, k, logits.shape[1], 3)

    def extra_repr(self) -> str:
        return f"max_detections={self._max_detections}, output_stride={self._output_stride}"


def average_flipped_outputs(
    outputs: dict[str, torch.Tensor], mirrored: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Average dense outputs with those of the mirrored image (CenterNet's flip test).

    ``mirrored`` are the outputs of the horizontally flipped image; they are flipped back
    and averaged: heatmaps (``heatmap``, ``line_x``, ``line_y``) as probabilities
    (returned as logits again), sizes (``wh``) as values; the sub-pixel ``offset`` keeps
    the unflipped prediction (a mirrored offset points the other way).

    Args:
        outputs: the dense outputs of the image.
        mirrored: the dense outputs of the mirrored image.

    Returns:
        A new dict of the averaged outputs.

    Examples:
        >>> a = {k: torch.randn(1, 1, 2, 3) for k in ("heatmap", "line_x", "line_y")}
        >>> a["wh"], a["offset"] = torch.rand(1, 2, 2, 3), torch.rand(1, 2, 2, 3)
        >>> avg = average_flipped_outputs(a, {k: v.flip(-1) for k, v in a.items()})
        >>> torch.allclose(avg["heatmap"], a["heatmap"], atol=1e-5)
        True
    """
    out = dict(outputs)
    for key in ("heatmap", "line_x", "line_y"):
        prob = (outputs[key].float().sigmoid() + mirrored[key].float().flip(-1).sigmoid()) / 2
        out[key] = torch.logit(prob, eps=1e-6)
    out["wh"] = (outputs["wh"].float() + mirrored["wh"].float().flip(-1)) / 2
    return out
