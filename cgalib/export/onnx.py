"""ONNX export of a pose model for a fixed input size, end to end or CGANet's dense network only.

**What is in the end-to-end graph.** Everything [`CGANet.predict_batch()`][cgalib.CGANet.predict_batch] does without
flip test: ImageNet normalisation, backbone, dense heads, sigmoid, Ambiguity Alleviation
(eq. 4, when enabled), the 3x3 max-pool NMS and top-``k`` center decode
(``k = model.max_detections``, fixed), box extension as configured (DEA's fixed number of
bisection steps, the fixed ratio, or none), RoIAlign of the extended boxes (pure PyTorch:
``GridSample``, hence opset 16 or newer), the ROIGuider keypoint head and the keypoint
decode (argmax, DARK refinement, back to input pixels). No step depends on the data
for its shapes: every image yields exactly ``k`` detections, so thresholding the scores is
left to the caller.

The graph is traced with PyTorch's TorchScript-based exporter (``dynamo=False``), which
needs no package beyond torch; running the file needs a runtime such as ``onnxruntime``
(``pip install cgalib[dev]`` installs ``onnx`` and ``onnxruntime``).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from cgalib.export.adapters import DenseOutputs, EndToEnd
from cgalib.models.contract import check_pose_model
from cgalib.utils.files import atomic_open

__all__ = ["export_onnx"]

INPUT_NAME = "images"
"""Name of the graph input."""

MIN_OPSET_END_TO_END = 16
"""``GridSample`` (RoIAlign) entered the ONNX standard in opset 16."""


def _check_exportable(
    model: nn.Module, batch_size: int, opset: int, end_to_end: bool
) -> None:
    """Fail clearly, before tracing, on anything the fixed-shape graph cannot express."""
    check_pose_model(model, "export_onnx")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if not end_to_end:
        return
    if opset < MIN_OPSET_END_TO_END:
        raise ValueError(
            f"the end-to-end graph needs opset >= {MIN_OPSET_END_TO_END} (GridSample, used by "
            f"RoIAlign), got {opset}"
        )
    model.check_exportable()


def export_onnx(
    model: nn.Module,
    path: str | os.PathLike,
    input_size: int | Sequence[int] | None = None,
    batch_size: int = 1,
    opset: int = 17,
    end_to_end: bool = True,
) -> Path:
    """Write a pose model as an ONNX graph for a fixed `(batch_size, 3, H, W)` input.

    The model is traced with a dummy input, in eval mode (its training mode is restored
    afterwards) and on its own device; the file is written atomically. The graph input is
    named ``images``; the outputs are named after the adapters' ``output_names``.

    With ``end_to_end=True`` the graph is [`EndToEnd`][cgalib.export.EndToEnd]: the model's
    whole ``predict_batch``, for CGANet from normalisation to keypoints in input pixels
    (see the module notes for what is in the graph; the model refuses what the graph
    cannot hold: ``model.check_exportable()``), for a top-down model from person crops
    to keypoints. Detections with tied scores (typically the zero scores past the last
    heatmap peak) may come out in another order than in PyTorch, as top-k ties are ordered
    differently by runtimes. With ``end_to_end=False`` it is
    [`DenseOutputs`][cgalib.export.DenseOutputs]: CGANet's backbone and dense heads, raw
    logits and regressions, for post-processing outside the graph.

    Args:
        model: a pose model in float32 (a [`CGANet`][cgalib.CGANet]: with ``end_to_end`` its
            keypoint head must be a [`ROIGuider`][cgalib.ROIGuider] with a fixed sampling
            ratio, and ``flip_test`` must be off; or a [`TopDownPose`][cgalib.TopDownPose]).
        path: the ``.onnx`` file to write; its folder is created if missing.
        input_size: the graph's input, one side (a square) or ``(H, W)``, checked by the
            model's ``input_rule``; default the model's own. The ROI sizes of CGANet's
            keypoint head stay those it was built with.
        batch_size: images per run, fixed in the graph.
        opset: ONNX opset version (16 or newer for the end-to-end graph).
        end_to_end: export the whole inference (``True``) or the dense outputs only.

    Returns:
        ``path`` as a `Path`.

    Raises:
        TypeError: if ``model`` is not a pose model (or, dense only, has no dense outputs).
        ValueError: if ``path`` is a folder (before any tracing), on a size the model's
            ``input_rule`` refuses, a bad batch size, or (end to end) an opset below 16 or
            a setting the model cannot export (flip test, masks, a keypoint head whose
            grouping depends on the boxes).
        OutputError: (an ``OSError``) if the file cannot be written (see
            [`atomic_open()`][cgalib.utils.atomic_open]).

    Shape:
        - images (graph input): `(batch_size, 3, H, W)` float RGB in 0..1
        - end to end: ``boxes`` and ``extended_boxes`` `(B, k, 4)`, ``scores`` `(B, k)`,
          ``keypoints`` `(B, k, K, 3)` as (x, y, score), in input pixels, with
          ``k = min(max_detections, (size/4)**2)``
        - dense only: ``heatmap``, ``line_x``, ``line_y`` `(B, 1, size/4, size/4)` logits,
          ``wh``, ``offset`` `(B, 2, size/4, size/4)`

    Examples:
        >>> import tempfile, onnx
        >>> from cgalib import create_model
        >>> net = create_model("cganet_tnet_d1w16", input_size=128)
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     graph = onnx.load(export_onnx(net, f"{tmp}/net.onnx")).graph
        >>> [(o.name, [d.dim_value for d in o.type.tensor_type.shape.dim]) for o in graph.output]
        [('boxes', [1, 20, 4]), ('extended_boxes', [1, 20, 4]), ('scores', [1, 20]),
         ('keypoints', [1, 20, 17, 3])]
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(
            f"{path} is a folder; give the .onnx file to write, e.g. {path / 'model.onnx'}"
        )
    _check_exportable(model, batch_size, opset, end_to_end)
    size = model.input_rule.resized(input_size).size
    adapter = EndToEnd(model) if end_to_end else DenseOutputs(model)
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(0)  # any values: the graph has fixed shapes
    dummy = torch.rand(batch_size, 3, *size, generator=generator).to(device)

    was_training = model.training
    adapter.eval()
    try:
        with warnings.catch_warnings(), torch.no_grad(), atomic_open(path, "wb") as file:
            # Input validation in the library reads shapes as Python values; with fixed
            # shapes those are constants of the graph, as intended.
            warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
            # The TorchScript-based exporter is chosen on purpose (no onnxscript needed);
            # its deprecation notices are not the caller's concern.
            warnings.filterwarnings(
                "ignore", message="You are using the legacy TorchScript-based ONNX export"
            )
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.onnx")
            # DEA reads its profiles with clamped, non-negative indices only.
            warnings.filterwarnings("ignore", message="Exporting aten::index operator")
            torch.onnx.export(
                adapter,
                (dummy,),
                file,
                dynamo=False,
                opset_version=opset,
                input_names=[INPUT_NAME],
                output_names=list(adapter.output_names),
                do_constant_folding=True,
            )
    finally:
        model.train(was_training)
    return path
