"""Pose models with a tuple-of-tensors signature, the form that tracing exporters need.

Models return dicts ([`predict_batch()`][cgalib.models.PoseModel.predict_batch]); the adapters here
return the same numbers as fixed-shape tensors instead, in a fixed order given by their
``output_names``. They hold the model (no copy) and add no parameters.
"""

from __future__ import annotations

import torch
from torch import nn

from cgalib.models.contract import check_pose_model

__all__ = ["DenseOutputs", "EndToEnd"]


class EndToEnd(nn.Module):
    """A pose model's whole inference as one tensor function (its ``predict_batch``).

    For a model that finds people on its own ([`CGANet`][cgalib.CGANet]): normalisation,
    backbone, dense heads, sigmoid, Ambiguity Alleviation, top-k center decode, box
    extension, the keypoint head on the extended boxes and the keypoint decode, all as the
    model is configured. For a model that needs boxes ([`TopDownPose`][cgalib.TopDownPose]):
    person crops to keypoints (flip test included when the model has it).

    Args:
        model: the pose model to wrap (its weights are shared, not copied).

    Attributes:
        output_names: the names of ``predict_batch``'s outputs, in its order: for CGANet
            ``("boxes", "extended_boxes", "scores", "keypoints")``, for TopDownPose
            ``("keypoints",)``.

    Raises:
        TypeError: for a model that does not carry the model contract.

    Shape:
        - images: `(B, 3, H, W)` float RGB in 0..1, sides multiples of the model's
          ``input_rule.multiple``
        - CGANet: boxes, extended_boxes `(B, k, 4)` xyxy in input pixels,
          ``k = min(max_detections, H/4 * W/4)``; scores `(B, k)` in [0, 1], sorted
          descending; keypoints `(B, k, K, 3)` as (x, y, score), in input pixels
        - TopDownPose: keypoints `(B, K, 3)` in crop pixels

    Examples:
        >>> from cgalib import create_model
        >>> net = EndToEnd(create_model("cganet_tnet_d1w16", input_size=128).eval())
        >>> net.output_names, [tuple(t.shape) for t in net(torch.rand(1, 3, 128, 128))]
        (('boxes', 'extended_boxes', 'scores', 'keypoints'), [(1, 20, 4), (1, 20, 4), (1, 20), (1, 20, 17, 3)])
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        check_pose_model(model, type(self).__name__)
        self.model = model
        self.output_names = model.prediction_names()

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model.predict_batch(images)
        return tuple(out[name] for name in self.output_names)


class DenseOutputs(nn.Module):
    """The network part of a CGANet only: backbone and dense heads, raw outputs.

    No sigmoid and no post-processing: ``heatmap``, ``line_x`` and ``line_y`` are logits,
    ``wh`` and ``offset`` regressions in heatmap cells (see [`CGANet.forward_dense()`][cgalib.models.CGANet.forward_dense]).
    The keypoint head needs the backbone pyramid and the boxes, so it is not part of the
    dense outputs.

    Args:
        model: a model with dense outputs, ``forward_dense(images)`` (a
            [`CGANet`][cgalib.CGANet]); its weights are shared, not copied.

    Attributes:
        output_names: ``("heatmap", "wh", "offset", "line_x", "line_y")``.

    Raises:
        TypeError: for a model without ``forward_dense``.

    Shape:
        - images: `(B, 3, H, W)` float RGB in 0..1, ``H`` and ``W`` multiples of 32
        - heatmap, line_x, line_y: `(B, 1, H/4, W/4)`
        - wh, offset: `(B, 2, H/4, W/4)`, channel 0 x, channel 1 y

    Examples:
        >>> from cgalib import create_model
        >>> net = DenseOutputs(create_model("cganet_tnet_d1w16", input_size=128).eval())
        >>> [tuple(t.shape) for t in net(torch.rand(1, 3, 128, 128))]
        [(1, 1, 32, 32), (1, 2, 32, 32), (1, 2, 32, 32), (1, 1, 32, 32), (1, 1, 32, 32)]
    """

    output_names = ("heatmap", "wh", "offset", "line_x", "line_y")

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        if not hasattr(type(model), "forward_dense"):
            raise TypeError(
                f"{type(self).__name__} wraps a model with dense outputs (forward_dense, e.g. "
                f"a CGANet), got {type(model).__name__}"
            )
        self.model = model

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        _, outputs = self.model.forward_dense(images)
        return tuple(outputs[name] for name in self.output_names)
