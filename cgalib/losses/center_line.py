"""Center-line heatmap loss (paper eq. 3): squared error weighted against easy pixels."""

from __future__ import annotations

import torch
from torch import nn

from cgalib.losses.focal import _check_same_shape

__all__ = ["CenterLineLoss", "center_line_loss"]


def center_line_loss(
    pred: torch.Tensor,
    gt: torch.Tensor,
    thre: float = 0.1,
    alpha: float = 1.0,
    logits: bool = False,
    eps: float = 1e-4,
) -> torch.Tensor:
    """Loss of a predicted center-line heatmap (paper eq. 3), ``L_x`` or ``L_y``.

    With ``p`` the predicted probability and ``g`` the target:

        loss = 1/N * sum( p**alpha       * (p - g)**2    where g < thre
                          (1 - p)**alpha * (p - g)**2    elsewhere )

    where ``N`` is the number of pixels with ``g >= thre`` (at least 1). The weights damp
    pixels that are already right (low ``p`` off the line, high ``p`` on it).

    Numerical safety: only the weights use ``p`` clamped to ``[eps, 1 - eps]`` (so
    non-integer ``alpha < 1`` keeps a finite gradient at exactly 0 or 1); the squared error
    uses ``p`` itself and always passes its gradient. ``logits=True`` applies the sigmoid
    first, as the paper does.

    Args:
        pred: predicted line heatmap, probabilities (or logits with ``logits=True``).
        gt: target line heatmap in ``[0, 1]`` from
            [`center_line_heatmaps()`][cgalib.codecs.center_line_heatmaps].
        thre: threshold between easy negatives and the line (paper: 0.1).
        alpha: penalty exponent (paper: 1).
        logits: whether ``pred`` holds logits.
        eps: clamp of ``p`` inside the weights.

    Returns:
        The scalar loss.

    Shape:
        - pred: `(*)`, e.g. `(B, 1, H, W)`
        - gt: same as ``pred``
        - output: `()`

    Examples:
        >>> pred, gt = torch.tensor([0.2, 0.6]), torch.tensor([0.0, 1.0])
        >>> loss = center_line_loss(pred, gt)  # (0.2 * 0.2**2 + 0.4 * 0.4**2) / 1
        >>> loss.shape, round(loss.item(), 6)
        (torch.Size([]), 0.072)
    """
    _check_same_shape(pred, gt, "center_line_loss")
    gt = gt.to(pred.dtype)
    prob = pred.sigmoid() if logits else pred
    clamped = prob.clamp(eps, 1.0 - eps)
    on_line = gt >= thre
    weight = torch.where(on_line, 1 - clamped, clamped).pow(alpha)
    total = (weight * (prob - gt).pow(2)).sum()
    return total / on_line.sum().clamp(min=1).to(pred.dtype)


class CenterLineLoss(nn.Module):
    """Module form of [`center_line_loss()`][center_line_loss].

    Args:
        thre: threshold between easy negatives and the line (paper: 0.1).
        alpha: penalty exponent (paper: 1).
        logits: whether predictions are logits.
        eps: clamp of ``p`` inside the weights.

    Shape:
        - pred: `(*)`
        - gt: same as ``pred``
        - output: `()`

    Examples:
        >>> CenterLineLoss()(torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 8)).shape
        torch.Size([])
    """

    def __init__(
        self, thre: float = 0.1, alpha: float = 1.0, logits: bool = False, eps: float = 1e-4
    ) -> None:
        super().__init__()
        self.thre, self.alpha, self.logits, self.eps = thre, alpha, logits, eps

    def forward(self, pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
        return center_line_loss(pred, gt, self.thre, self.alpha, self.logits, self.eps)

    def extra_repr(self) -> str:
        return f"thre={self.thre}, alpha={self.alpha}, logits={self.logits}"
