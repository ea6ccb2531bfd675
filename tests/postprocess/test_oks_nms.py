"""keypoint_oks and oks_nms: COCO's OKS between poses by hand, greedy suppression, errors."""

from __future__ import annotations

import math

import pytest
import torch

from cgalib.postprocess import keypoint_oks, oks_nms
from cgalib.utils.coco_meta import OKS_SIGMAS


def _pose(x: float, y: float = 0.0, k: int = 17) -> torch.Tensor:
    return torch.tensor([[x, y, 1.0]] * k)


def test_oks_of_one_keypoint_by_hand():
    # d = 2, areas 100 and 300 (s^2 = 200), sigma = 0.1 (variance (2 sigma)^2 = 0.04)
    kps = torch.tensor([[[0.0, 0.0, 1.0]], [[2.0, 0.0, 1.0]]])
    oks = keypoint_oks(kps, torch.tensor([100.0, 300.0]), sigmas=[0.1])
    expected = math.exp(-4 / (2 * 200 * 0.04))
    torch.testing.assert_close(oks, torch.tensor([[1.0, expected], [expected, 1.0]]))


def test_oks_is_the_mean_over_keypoints_and_symmetric():
    kps = torch.zeros(3, 2, 2)
    kps[1, 1] = torch.tensor([3.0, 4.0])  # keypoint 1 of pose 1 is 5 px away
    kps[2] = torch.tensor([100.0, 100.0])
    oks = keypoint_oks(kps, torch.full((3,), 50.0), sigmas=[0.5, 0.25])
    one = math.exp(-25 / (2 * 50 * 0.25))  # keypoint 1's sigma 0.25: variance 0.25
    assert oks[0, 1].item() == pytest.approx((1 + one) / 2)
    torch.testing.assert_close(oks, oks.T)
    assert oks[0, 2] < 1e-6 and oks.diagonal().tolist() == [1.0, 1.0, 1.0]


def test_the_default_sigmas_are_cocos():
    kps = torch.randn(2, 17, 3) * 5
    areas = torch.tensor([400.0, 900.0])
    torch.testing.assert_close(keypoint_oks(kps, areas), keypoint_oks(kps, areas, OKS_SIGMAS))


def test_nms_is_greedy_in_score_order():
    # 0 and 1 coincide, 2 is a pixel away, 3 far: 1 (the best) drops 0 and 2
    kps = torch.stack([_pose(0.0), _pose(0.0), _pose(1.0), _pose(500.0)])
    scores = torch.tensor([0.8, 0.9, 0.7, 0.1])
    areas = torch.full((4,), 400.0)
    oks = keypoint_oks(kps, areas)
    assert oks[0, 1] == 1 and oks[1, 2] > 0.5 and oks[1, 3] < 1e-6
    assert oks_nms(kps, scores, areas, threshold=0.5).tolist() == [1, 3]
    # a higher threshold keeps the close pose, still drops the duplicate
    assert oks_nms(kps, scores, areas, threshold=oks[1, 2].item() + 1e-3).tolist() == [1, 2, 3]


def test_a_dropped_pose_suppresses_nothing():
    # a -> b close, b -> c close, a -> c far: with a best, b goes and c stays
    kps = torch.stack([_pose(0.0, k=1), _pose(6.0, k=1), _pose(12.0, k=1)])
    areas = torch.full((3,), 100.0)
    oks = keypoint_oks(kps, areas, sigmas=[0.1])
    threshold = (oks[0, 1].item() + oks[0, 2].item()) / 2
    assert oks[1, 2] > threshold > oks[0, 2]
    keep = oks_nms(kps, torch.tensor([0.9, 0.8, 0.7]), areas, threshold, sigmas=[0.1])
    assert keep.tolist() == [0, 2]


def test_no_poses_and_errors():
    empty = oks_nms(torch.zeros(0, 17, 3), torch.zeros(0), torch.zeros(0))
    assert empty.dtype == torch.long and empty.numel() == 0
    with pytest.raises(ValueError, match="one score and area per pose"):
        oks_nms(torch.zeros(2, 17, 3), torch.zeros(3), torch.zeros(2))
    with pytest.raises(ValueError, match="one score and area per pose"):
        oks_nms(torch.zeros(2, 17, 3), torch.zeros(2), torch.zeros(1))
    with pytest.raises(ValueError, match=r"needs 14 sigmas \(one per keypoint\), got 17"):
        keypoint_oks(torch.zeros(2, 14, 3), torch.ones(2))
    with pytest.raises(ValueError, match=r"expects keypoints \(N, K, 2\+\), got \(2, 17\)"):
        keypoint_oks(torch.zeros(2, 17), torch.ones(2))


def test_equal_scores_are_taken_in_input_order():
    """Of two equal-scored duplicates the first is kept, and the kept poses come in input
    order: an unstable sort (torch's reorders ties from 17 elements on) fails this."""
    n = 24
    kps = torch.stack([_pose(float(i // 2) * 500.0) for i in range(n)])  # pairs coincide
    keep = oks_nms(kps, torch.full((n,), 0.7), torch.full((n,), 400.0), threshold=0.9)
    assert keep.tolist() == list(range(0, n, 2))
