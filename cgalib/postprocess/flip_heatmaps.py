"""The flip test of keypoint heatmaps: average a crop's heatmaps with those of its mirror."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from cgalib.utils.keypoint_set import check_permutation

__all__ = ["average_flipped_heatmaps"]


def average_flipped_heatmaps(
    heatmaps: torch.Tensor,
    mirrored: torch.Tensor,
    flip_index: Sequence[int],
    shift: int = 0,
) -> torch.Tensor:
    """Average keypoint heatmaps with those of the horizontally mirrored input.

    ``mirrored`` (the heatmaps of the mirrored crop) is flipped back along ``W``, its
    keypoint channels are swapped by ``flip_index`` (the mirror's left wrist is the
    person's right wrist) and, with ``shift``, moved ``shift`` cells to the right (the
    leftmost columns keep their values), then averaged with ``heatmaps``.

    cgalib's heatmaps are pixel-centred (cell ``u`` covers crop pixels
    ``[4u, 4u + 4)``, see `cgalib.codecs.roi_keypoints`), and a mirror maps that
    cell exactly onto cell ``W - 1 - u``: the default ``shift=0`` is exact. SimpleBaseline
    and HRNet shift by one cell because their targets put cell ``u`` at crop pixel ``4u``
    (1.5 pixels off-centre), which a mirror turns into a 0.75-cell error; ``shift=1``
    reproduces that convention for heatmaps trained with it.

    Args:
        heatmaps: the crops' heatmaps (probabilities, or any values averaged linearly).
        mirrored: the heatmaps of the mirrored crops.
        flip_index: the keypoint permutation of a horizontal flip (``K`` entries).
        shift: cells the flipped-back heatmaps move right (``>= 0``).

    Returns:
        The averaged heatmaps.

    Shape:
        - heatmaps, mirrored: `(N, K, h, w)`
        - output: `(N, K, h, w)`

    Examples:
        >>> heat = torch.rand(2, 3, 8, 6)
        >>> same = average_flipped_heatmaps(heat, heat.flip(-1)[:, [0, 2, 1]], [0, 2, 1])
        >>> torch.allclose(same, heat)
        True
    """
    if heatmaps.dim() != 4 or mirrored.shape != heatmaps.shape:
        raise ValueError(
            "average_flipped_heatmaps expects two (N, K, h, w) heatmaps of one shape, got "
            f"{tuple(heatmaps.shape)} and {tuple(mirrored.shape)}"
        )
    permutation = check_permutation(flip_index, heatmaps.shape[1])
    if shift < 0 or shift >= heatmaps.shape[-1]:
        raise ValueError(f"shift must be in [0, {heatmaps.shape[-1]}), got {shift}")
    index = torch.as_tensor(permutation, dtype=torch.long, device=mirrored.device)
    back = mirrored.flip(-1)[:, index]
    if shift:
        back = torch.cat([back[..., :shift], back[..., :-shift]], -1)
    return (heatmaps + back) / 2
