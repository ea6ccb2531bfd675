"""Loss of per-box mask logits: binary cross-entropy (Mask R-CNN's), optionally plus Dice."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MaskLoss", "mask_loss"]


def mask_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    weight: torch.Tensor | None = None,
    dice: float = 0.0,
) -> torch.Tensor:
    """Mean per-pixel BCE of mask logits against binary targets, plus ``dice`` times the
    Dice loss ``1 - 2|P∩T| / (|P| + |T|)`` of the probabilities.

    Args:
        logits: per-box mask logits.
        targets: binary (0/1) targets of the same shape.
        weight: per-box weight in ``{0, 1}`` (0: the box has no mask label); boxes of
            weight 0 count in neither term. ``None`` weighs every box 1.
        dice: weight of the Dice term (0: BCE only).

    Returns:
        A scalar, 0 (still tied to ``logits``) when no box has weight.

    Shape:
        - logits, targets: `(N, h, w)`
        - weight: `(N,)`
        - output: `()`

    Examples:
        >>> t = torch.zeros(2, 4, 4); t[:, 1:3, 1:3] = 1
        >>> good, bad = (t * 2 - 1) * 20, (1 - t * 2) * 20
        >>> mask_loss(good, t).item() < 1e-6 < mask_loss(bad, t).item()
        True
    """
    if logits.shape != targets.shape or logits.dim() != 3:
        raise ValueError(
            f"mask_loss expects logits and targets (N, h, w) of one shape, got "
            f"{tuple(logits.shape)} and {tuple(targets.shape)}"
        )
    if dice < 0:
        raise ValueError(f"dice must be >= 0, got {dice}")
    logits, targets = logits.float(), targets.float()
    if weight is None:
        weight = logits.new_ones(logits.shape[0])
    weight = weight.float()
    count = weight.sum()
    denominator = count.clamp(min=1.0)
    bce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none").mean((1, 2))
    loss = (bce * weight).sum() / denominator
    if dice:
        prob = logits.sigmoid()
        inter = (prob * targets).sum((1, 2))
        total = prob.sum((1, 2)) + targets.sum((1, 2))
        dice_loss = 1 - (2 * inter + 1) / (total + 1)
        loss = loss + dice * (dice_loss * weight).sum() / denominator
    return loss


class MaskLoss(nn.Module):
    """Module form of [`mask_loss()`][mask_loss].

    Args:
        dice: weight of the Dice term (0: BCE only).

    Examples:
        >>> MaskLoss(dice=1.0)(torch.zeros(1, 2, 2), torch.ones(1, 2, 2)).item() > 0
        True
    """

    def __init__(self, dice: float = 0.0) -> None:
        super().__init__()
        if dice < 0:
            raise ValueError(f"dice must be >= 0, got {dice}")
        self.dice = float(dice)

    def forward(
        self, logits: torch.Tensor, targets: torch.Tensor, weight: torch.Tensor | None = None
    ) -> torch.Tensor:
        return mask_loss(logits, targets, weight, self.dice)

    def extra_repr(self) -> str:
        return f"dice={self.dice}"
