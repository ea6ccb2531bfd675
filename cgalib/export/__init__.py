"""Export CGANet to other runtimes: tensor-only adapters and ONNX.

The adapters ([`CGANetEndToEnd`][CGANetEndToEnd], [`CGANetDense`][CGANetDense]) give a CGANet the
tuple-of-tensors signature that tracing exporters need; [`export_onnx()`][export_onnx] writes either
of them as an ONNX graph for a fixed input size.
"""

from cgalib.export.adapters import CGANetDense, CGANetEndToEnd
from cgalib.export.onnx import export_onnx

__all__ = ["CGANetDense", "CGANetEndToEnd", "export_onnx"]
