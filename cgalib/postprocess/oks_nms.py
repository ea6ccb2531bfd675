"""OKS non-maximum suppression of people: drop a pose that repeats a higher-scored one."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from cgalib.utils.coco_meta import OKS_SIGMAS

__all__ = ["keypoint_oks", "oks_nms"]


def keypoint_oks(
    keypoints: torch.Tensor,
    areas: torch.Tensor,
    sigmas: Sequence[float] = OKS_SIGMAS,
) -> torch.Tensor:
    """Object keypoint similarity between every pair of poses (COCO's OKS, symmetric area).

    ``OKS(a, b) = mean_k exp(-d_k^2 / (2 s^2 (2 sigma_k)^2))`` with ``d_k`` the distance of
    keypoint ``k`` and ``s^2`` the mean of the two areas (COCO uses the ground truth's
    area; between two predictions neither is the reference).

    Args:
        keypoints: ``(x, y, ...)`` of each pose.
        areas: each pose's area in pixels (e.g. its box's).
        sigmas: per-keypoint sigmas (COCO's [`OKS_SIGMAS`][cgalib.data.OKS_SIGMAS] for 17).

    Returns:
        The OKS matrix, 1 on the diagonal.

    Shape:
        - keypoints: `(N, K, 2+)`
        - areas: `(N,)`
        - output: `(N, N)`

    Examples:
        >>> kps = torch.zeros(2, 17, 3)
        >>> keypoint_oks(kps, torch.tensor([100.0, 100.0])).tolist()
        [[1.0, 1.0], [1.0, 1.0]]
    """
    if keypoints.dim() != 3 or keypoints.shape[-1] < 2:
        raise ValueError(f"keypoint_oks expects keypoints (N, K, 2+), got {tuple(keypoints.shape)}")
    k = keypoints.shape[1]
    if len(sigmas) != k:
        raise ValueError(f"keypoint_oks needs {k} sigmas (one per keypoint), got {len(sigmas)}")
    xy = keypoints[..., :2].float()
    var = (2 * torch.as_tensor(sigmas, dtype=xy.dtype, device=xy.device)) ** 2  # (K,)
    d2 = (xy[:, None] - xy[None]).square().sum(-1)  # (N, N, K)
    s2 = (areas.to(xy)[:, None] + areas.to(xy)[None]) / 2
    e = d2 / (2 * s2[..., None].clamp(min=torch.finfo(xy.dtype).eps) * var)
    return torch.exp(-e).mean(-1)


def oks_nms(
    keypoints: torch.Tensor,
    scores: torch.Tensor,
    areas: torch.Tensor,
    threshold: float = 0.9,
    sigmas: Sequence[float] = OKS_SIGMAS,
) -> torch.Tensor:
    """Greedy OKS-NMS (SimpleBaseline/HRNet): keep the best pose, drop those too similar.

    Args:
        keypoints: ``(x, y, ...)`` of each pose.
        scores: each pose's score.
        areas: each pose's area in pixels.
        threshold: poses with an OKS above this to a kept, higher-scored pose are dropped.
        sigmas: per-keypoint OKS sigmas.

    Returns:
        The indices of the kept poses, by descending score; equal scores keep their input
        order (a stable sort), so of two equal-scored duplicates the first is kept.

    Shape:
        - keypoints: `(N, K, 2+)`
        - scores, areas: `(N,)`
        - output: `(M,)` int64

    Examples:
        >>> kps = torch.zeros(3, 17, 3)
        >>> kps[2, :, 0] = 500.0  # far from the other two
        >>> oks_nms(kps, torch.tensor([0.5, 0.9, 0.7]), torch.full((3,), 900.0)).tolist()
        [1, 2]
    """
    if scores.shape != (keypoints.shape[0],) or areas.shape != scores.shape:
        raise ValueError(
            f"oks_nms expects one score and area per pose: keypoints {tuple(keypoints.shape)}, "
            f"scores {tuple(scores.shape)}, areas {tuple(areas.shape)}"
        )
    order = torch.argsort(scores, descending=True, stable=True)
    if order.numel() == 0:
        return order
    oks = keypoint_oks(keypoints[order], areas[order], sigmas)
    suppressed = torch.zeros(len(order), dtype=torch.bool)
    keep = []
    for i in range(len(order)):
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= (oks[i] > threshold).cpu()
    return order[torch.tensor(keep, dtype=torch.long, device=order.device)]
