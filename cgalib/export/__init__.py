"""Export pose models to other runtimes: tensor-only adapters and ONNX.

The adapters ([`EndToEnd`][EndToEnd], [`DenseOutputs`][DenseOutputs]) give a model the
tuple-of-tensors signature that tracing exporters need; [`export_onnx()`][export_onnx] writes either
of them as an ONNX graph for a fixed input size.
"""

from cgalib.export.adapters import DenseOutputs, EndToEnd
from cgalib.export.onnx import export_onnx

__all__ = ["DenseOutputs", "EndToEnd", "export_onnx"]
