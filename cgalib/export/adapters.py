"""CGANet with a tuple-of-tensors signature, the form that tracing exporters need.

[`CGANet`][cgalib.CGANet] returns a list of per-image dicts at inference; the adapters here
return the same numbers as fixed-shape tensors instead, in a fixed order given by their
``output_names``. They hold the model (no copy) and add no parameters.
"""

from __future__ import annotations

import torch
from torch import nn

from cgalib.models.cganet import CGANet

__all__ = ["CGANetDense", "CGANetEndToEnd"]


def _check_cganet(model: nn.Module, name: str) -> CGANet:
    if not isinstance(model, CGANet):
        raise TypeError(f"{name} wraps a CGANet, got {type(model).__name__}")
    return model


class CGANetEndToEnd(nn.Module):
    """The whole CGANet inference as one tensor function ([`CGANet.predict_batch()`][CGANet.predict_batch]).

    Normalisation, backbone, dense heads, sigmoid, Ambiguity Alleviation, top-k center
    decode, box extension, the keypoint head on the extended boxes and the keypoint decode,
    all as the model is configured (flip test included when ``model.flip_test`` is set).

    Args:
        model: the CGANet to wrap (its weights are shared, not copied).

    Attributes:
        output_names: ``("boxes", "extended_boxes", "scores", "keypoints")``.

    Shape:
        - images: `(B, 3, H, W)` float RGB in 0..1, ``H`` and ``W`` multiples of 32
        - boxes, extended_boxes: `(B, k, 4)` xyxy in input pixels,
          ``k = min(max_detections, H/4 * W/4)``
        - scores: `(B, k)` in [0, 1], sorted descending
        - keypoints: `(B, k, K, 3)` as (x, y, score), in input pixels

    Examples:
        >>> from cgalib import create_model
        >>> net = CGANetEndToEnd(create_model("cganet_tnet_d1w16", input_size=128).eval())
        >>> [tuple(t.shape) for t in net(torch.rand(1, 3, 128, 128))]
        [(1, 20, 4), (1, 20, 4), (1, 20), (1, 20, 17, 3)]
    """

    output_names = ("boxes", "extended_boxes", "scores", "keypoints")

    def __init__(self, model: CGANet) -> None:
        super().__init__()
        self.model = _check_cganet(model, type(self).__name__)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model.predict_batch(images)
        return tuple(out[name] for name in self.output_names)


class CGANetDense(nn.Module):
    """The network part of CGANet only: backbone and dense heads, raw outputs.

    No sigmoid and no post-processing: ``heatmap``, ``line_x`` and ``line_y`` are logits,
    ``wh`` and ``offset`` regressions in heatmap cells (see [`CGANet.forward_dense()`][CGANet.forward_dense]).
    The keypoint head needs the backbone pyramid and the boxes, so it is not part of the
    dense outputs.

    Args:
        model: the CGANet to wrap (its weights are shared, not copied).

    Attributes:
        output_names: ``("heatmap", "wh", "offset", "line_x", "line_y")``.

    Shape:
        - images: `(B, 3, H, W)` float RGB in 0..1, ``H`` and ``W`` multiples of 32
        - heatmap, line_x, line_y: `(B, 1, H/4, W/4)`
        - wh, offset: `(B, 2, H/4, W/4)`, channel 0 x, channel 1 y

    Examples:
        >>> from cgalib import create_model
        >>> net = CGANetDense(create_model("cganet_tnet_d1w16", input_size=128).eval())
        >>> [tuple(t.shape) for t in net(torch.rand(1, 3, 128, 128))]
        [(1, 1, 32, 32), (1, 2, 32, 32), (1, 2, 32, 32), (1, 1, 32, 32), (1, 1, 32, 32)]
    """

    output_names = ("heatmap", "wh", "offset", "line_x", "line_y")

    def __init__(self, model: CGANet) -> None:
        super().__init__()
        self.model = _check_cganet(model, type(self).__name__)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        _, outputs = self.model.forward_dense(images)
        return tuple(outputs[name] for name in self.output_names)
