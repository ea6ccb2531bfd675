"""Ambiguity Alleviation (paper eq. 4): damp center peaks that lie off the center lines."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["AmbiguityAlleviation", "alleviate_ambiguity"]


def alleviate_ambiguity(
    center_heatmap: torch.Tensor,
    center_line_x: torch.Tensor,
    center_line_y: torch.Tensor,
    alpha: float = 1.0,
    beta: float = 0.5,
) -> torch.Tensor:
    """Re-score a center heatmap with the center-line heatmaps (paper eq. 4):

        H_det = H_det**alpha * (M_x * M_y)**beta

    A duplicated center peak that is off either center line is damped, while a person's
    true center (on both lines) keeps most of its score.

    Defaults ``alpha = 1`` (scores keep their scale, so detection thresholds still mean
    the same) and ``beta = 0.5``: the line product is already close to 1 at a person's
    center, and the square root (the geometric mean of ``M_x`` and ``M_y``) keeps a single
    weak line from wiping out a real peak while still suppressing off-line peaks. The
    paper gives no values; final tuning is measured on the synthetic evaluation set.

    Args:
        center_heatmap: center probabilities in ``[0, 1]``.
        center_line_x: horizontal center-line probabilities ``M_x``.
        center_line_y: vertical center-line probabilities ``M_y``.
        alpha: exponent of the center heatmap.
        beta: exponent of the line product.

    Returns:
        The re-scored heatmap, in ``[0, 1]``.

    Shape:
        - center_heatmap, center_line_x, center_line_y: `(*)`, all the same, e.g.
          `(B, 1, H, W)`
        - output: same as the inputs

    Examples:
        >>> heat = torch.tensor([0.8, 0.8])
        >>> out = alleviate_ambiguity(heat, torch.tensor([1.0, 0.25]), torch.tensor([1.0, 1.0]))
        >>> out.tolist()  # on the lines / off the horizontal line
        [0.800000011920929, 0.4000000059604645]
    """
    if not (center_heatmap.shape == center_line_x.shape == center_line_y.shape):
        raise ValueError(
            "alleviate_ambiguity expects maps of the same shape, got "
            f"{tuple(center_heatmap.shape)}, {tuple(center_line_x.shape)} and "
            f"{tuple(center_line_y.shape)}"
        )
    if alpha < 0 or beta < 0:
        raise ValueError(f"alpha and beta must be non-negative, got {alpha} and {beta}")
    lines = (center_line_x * center_line_y).clamp(min=0)
    return center_heatmap.clamp(min=0).pow(alpha) * lines.pow(beta)


class AmbiguityAlleviation(nn.Module):
    """Module form of `alleviate_ambiguity()`.

    Args:
        alpha: exponent of the center heatmap.
        beta: exponent of the line product.

    Shape:
        - center_heatmap, center_line_x, center_line_y: `(*)`, all the same
        - output: same as the inputs

    Examples:
        >>> aa = AmbiguityAlleviation()
        >>> aa(torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 8)).shape
        torch.Size([2, 1, 8, 8])
    """

    def __init__(self, alpha: float = 1.0, beta: float = 0.5) -> None:
        super().__init__()
        if alpha < 0 or beta < 0:
            raise ValueError(f"alpha and beta must be non-negative, got {alpha} and {beta}")
        self._alpha, self._beta = float(alpha), float(beta)

    @property
    def alpha(self) -> float:
        """Exponent of the center heatmap (fixed at construction)."""
        return self._alpha

    @property
    def beta(self) -> float:
        """Exponent of the line product (fixed at construction)."""
        return self._beta

    def forward(
        self, center_heatmap: torch.Tensor, center_line_x: torch.Tensor, center_line_y: torch.Tensor
    ) -> torch.Tensor:
        return alleviate_ambiguity(
            center_heatmap, center_line_x, center_line_y, self._alpha, self._beta
        )

    def extra_repr(self) -> str:
        return f"alpha={self._alpha}, beta={self._beta}"
