"""Orderings whose ties are decided: equal values keep their index order.

``torch.topk`` and an unstable ``torch.sort`` may order equal values differently from run
to run, device to device and version to version; where the order decides a result (which
detections are kept, which pose survives OKS-NMS) cgalib sorts stably.
"""

from __future__ import annotations

import torch

__all__ = ["stable_topk"]


def stable_topk(values: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` largest values along the last dimension, descending, equal values in
    index order (a stable descending sort, cut at ``k``).

    In an ONNX export (``torch.onnx.is_in_onnx_export()``) this is ``topk``: the exporter
    has no stable sort, and the runtime then orders ties.

    Args:
        values: the values; the last dimension is sorted.
        k: how many to keep, ``1 <= k <= values.shape[-1]``.

    Returns:
        ``(values, indices)`` of the ``k`` largest.

    Shape:
        - values: `(..., n)`
        - output: `(..., k)` each

    Examples:
        >>> stable_topk(torch.tensor([0.0, 0.5, 0.0, 0.5, 0.0]), 4)[1].tolist()
        [1, 3, 0, 2]
    """
    if torch.onnx.is_in_onnx_export():
        return values.topk(k)
    top, index = torch.sort(values, dim=-1, descending=True, stable=True)
    return top[..., :k], index[..., :k]
