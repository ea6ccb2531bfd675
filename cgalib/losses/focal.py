"""Penalty-reduced pixel-wise focal loss on Gaussian heatmaps (paper eq. 8, CornerNet)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["FocalLoss", "focal_loss"]


def _check_same_shape(pred: torch.Tensor, gt: torch.Tensor, name: str) -> None:
    if pred.shape != gt.shape:
        raise ValueError(
            f"{name} expects pred and gt of the same shape, got {tuple(pred.shape)} and "
            f"{tuple(gt.shape)}"
        )


def focal_loss(
    pred: torch.Tensor,
    gt: torch.Tensor,
    alpha: float = 2.0,
    beta: float = 4.0,
    logits: bool = False,
    eps: float = 1e-4,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Focal loss of heatmaps against Gaussian targets (paper eq. 8), as a positive number.

    With ``p`` the predicted probability and ``g`` the target:

        loss = -1/N * sum( (1 - p)**alpha * log(p)                   where g == 1
                           (1 - g)**beta * p**alpha * log(1 - p)      elsewhere )

    where ``N`` is the number of pixels with ``g == 1`` (at least 1). Sums run over every
    element, batch included.

    With a ``weight`` (e.g. the per-keypoint ``{0, 1}`` weights of
    [`roi_keypoint_targets()`][cgalib.codecs.roi_keypoint_targets], broadcast over the heatmap), each term is
    multiplied by it and only positives of non-zero weight count in ``N``: a zero weight
    removes a map from the loss exactly as boolean indexing would, without the
    data-dependent shape (so no host synchronisation on the GPU).

    Numerical safety: probabilities are clamped to ``[eps, 1 - eps]`` (CenterNet clamps its
    sigmoid the same way), so the loss and its gradient stay finite at exactly 0 or 1. With
    ``logits=True`` the logs come from ``logsigmoid`` instead and no clamp is needed.

    Args:
        pred: predicted heatmap, probabilities (or logits with ``logits=True``).
        gt: target heatmap in ``[0, 1]``, exactly 1 at the peaks.
        alpha: focusing exponent (paper: 2).
        beta: exponent of the penalty reduction near peaks (paper: 4).
        logits: whether ``pred`` holds logits.
        eps: probability clamp for ``logits=False``.
        weight: optional non-negative per-element weights, broadcastable to ``pred``.

    Returns:
        The scalar loss.

    Shape:
        - pred: `(*)`, e.g. `(B, 1, H, W)` or `(B, K, h, w)`
        - gt: same as ``pred``
        - weight: broadcastable to ``pred``, e.g. `(B, K, 1, 1)` for `(B, K, h, w)` maps
        - output: `()`

    Examples:
        >>> import math
        >>> gt = torch.tensor([1.0, 0.5])
        >>> loss = focal_loss(torch.tensor([0.5, 0.5]), gt)
        >>> expected = -(0.25 * math.log(0.5) + 0.0625 * 0.25 * math.log(0.5))
        >>> loss.shape, abs(loss.item() - expected) < 1e-6
        (torch.Size([]), True)
    """
    _check_same_shape(pred, gt, "focal_loss")
    gt = gt.to(pred.dtype)
    if logits:
        prob = pred.sigmoid()
        log_p, log_1mp = F.logsigmoid(pred), F.logsigmoid(-pred)
    else:
        prob = pred.clamp(eps, 1.0 - eps)
        log_p, log_1mp = torch.log(prob), torch.log1p(-prob)
    pos = gt.eq(1)
    pos_term = (1 - prob).pow(alpha) * log_p
    neg_term = (1 - gt).pow(beta) * prob.pow(alpha) * log_1mp
    terms = torch.where(pos, pos_term, neg_term)
    if weight is not None:
        weight = weight.to(pred.dtype)
        terms = terms * weight
        pos = pos & (weight > 0)
    total = terms.sum()
    num_pos = pos.sum().clamp(min=1).to(pred.dtype)
    return -total / num_pos


class FocalLoss(nn.Module):
    """Module form of [`focal_loss()`][focal_loss].

    Args:
        alpha: focusing exponent (paper: 2).
        beta: exponent of the penalty reduction near peaks (paper: 4).
        logits: whether predictions are logits.
        eps: probability clamp for ``logits=False``.

    Shape:
        - pred: `(*)`
        - gt: same as ``pred``
        - output: `()`

    Examples:
        >>> FocalLoss()(torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 8)).shape
        torch.Size([])
    """

    def __init__(
        self, alpha: float = 2.0, beta: float = 4.0, logits: bool = False, eps: float = 1e-4
    ) -> None:
        super().__init__()
        self.alpha, self.beta, self.logits, self.eps = alpha, beta, logits, eps

    def forward(self, pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
        return focal_loss(pred, gt, self.alpha, self.beta, self.logits, self.eps)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, beta={self.beta}, logits={self.logits}"
