"""L1 loss of dense regression maps read at object centers (CenterNet's ``RegL1Loss``)."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["RegL1Loss", "reg_l1_loss"]


def _gather_at(maps: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Read a `(B, C, H, W)` map at flat pixel indices ``y * W + x``.

    Args:
        maps: dense maps.
        index: flat indices into ``H * W`` (any integer dtype).

    Returns:
        The values at the indices, channels last.

    Shape:
        - maps: `(B, C, H, W)`
        - index: `(B, M)`
        - output: `(B, M, C)`

    Examples:
        >>> maps = torch.arange(8.0).view(1, 2, 2, 2)
        >>> _gather_at(maps, torch.tensor([[3, 0]])).tolist()
        [[[3.0, 7.0], [0.0, 4.0]]]
    """
    b, c, h, w = maps.shape
    idx = index.long()[:, None, :].expand(b, c, index.shape[1])
    return maps.reshape(b, c, h * w).gather(2, idx).transpose(1, 2)


def reg_l1_loss(
    pred: torch.Tensor, index: torch.Tensor, mask: torch.Tensor, target: torch.Tensor
) -> torch.Tensor:
    """L1 loss of a regression map (``wh`` or ``offset``) at the objects' centers.

    The map is gathered at ``index`` (flat ``y * W + x``, as built by
    [`center_targets()`][cgalib.codecs.center_targets]) and compared with ``target`` on the slots where
    ``mask`` is set:

        loss = sum(|pred[index] - target| over masked slots and channels)
               / (mask.sum() * C + 1e-4)

    i.e. the mean absolute error per regressed number (``C = 2`` gives CenterNet's
    ``RegL1Loss`` exactly), and 0 when no slot is masked. Masked-off slots contribute
    nothing even if their targets hold NaN.

    Args:
        pred: predicted dense regression map.
        index: flat center index per slot.
        mask: which slots hold an object (bool or 0/1).
        target: regression target per slot.

    Returns:
        The scalar loss.

    Shape:
        - pred: `(B, C, H, W)`
        - index: `(B, M)`
        - mask: `(B, M)`
        - target: `(B, M, C)`
        - output: `()`

    Examples:
        >>> pred = torch.zeros(1, 2, 4, 4)
        >>> pred[0, :, 1, 2] = torch.tensor([3.0, 5.0])
        >>> index, mask = torch.tensor([[6, 0]]), torch.tensor([[True, False]])
        >>> loss = reg_l1_loss(pred, index, mask, torch.tensor([[[4.0, 4.0], [9.0, 9.0]]]))
        >>> loss.shape, round(loss.item(), 4)  # (|3 - 4| + |5 - 4|) / (1 * 2)
        (torch.Size([]), 1.0)
    """
    if pred.dim() != 4:
        raise ValueError(f"reg_l1_loss expects pred (B, C, H, W), got {tuple(pred.shape)}")
    b, c = pred.shape[:2]
    if index.dim() != 2 or index.shape[0] != b or mask.shape != index.shape:
        raise ValueError(
            f"reg_l1_loss expects index and mask (B, M) with B={b}, got "
            f"{tuple(index.shape)} and {tuple(mask.shape)}"
        )
    if target.shape != (*index.shape, c):
        raise ValueError(
            f"reg_l1_loss expects target {(*index.shape, c)} (B, M, C), got {tuple(target.shape)}"
        )
    gathered = _gather_at(pred, index)
    keep = mask.bool()[..., None]
    err = torch.where(keep, (gathered - target.to(pred.dtype)).abs(), gathered.new_zeros(()))
    return err.sum() / (keep.sum().to(pred.dtype) * c + 1e-4)


class RegL1Loss(nn.Module):
    """Module form of [`reg_l1_loss()`][reg_l1_loss].

    Shape:
        - pred: `(B, C, H, W)`
        - index: `(B, M)`
        - mask: `(B, M)`
        - target: `(B, M, C)`
        - output: `()`

    Examples:
        >>> loss = RegL1Loss()(
        ...     torch.rand(2, 2, 8, 8),
        ...     torch.randint(0, 64, (2, 5)),
        ...     torch.ones(2, 5, dtype=torch.bool),
        ...     torch.rand(2, 5, 2),
        ... )
        >>> loss.shape
        torch.Size([])
    """

    def forward(
        self, pred: torch.Tensor, index: torch.Tensor, mask: torch.Tensor, target: torch.Tensor
    ) -> torch.Tensor:
        return reg_l1_loss(pred, index, mask, target)
