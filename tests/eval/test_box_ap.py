import pytest
import torch

from cgalib.eval import BOX_METRICS, box_ap


def test_one_hit_one_false_positive_by_hand():
    gt = [{"boxes": torch.tensor([[0.0, 0.0, 40.0, 80.0]])}]
    # the false positive has the higher score: precision at recall 1 is 1/2
    pred = [
        {
            "boxes": torch.tensor([[100.0, 100.0, 140.0, 180.0], [0.0, 0.0, 40.0, 80.0]]),
            "scores": torch.tensor([0.9, 0.8]),
        }
    ]
    ap = box_ap(pred, gt)
    assert list(ap) == list(BOX_METRICS)
    # COCO's 101-point interpolation: precision 0.5 at every recall level
    assert ap["AP"] == pytest.approx(0.5)
    assert ap["AR100"] == pytest.approx(1.0)


def test_masks():
    m = torch.zeros(1, 20, 20, dtype=torch.bool)
    m[0, 5:15, 5:15] = True
    gt = [{"boxes": torch.tensor([[5.0, 5.0, 15.0, 15.0]]), "masks": m}]
    pred = [
        {"boxes": torch.tensor([[5.0, 5.0, 15.0, 15.0]]), "scores": torch.tensor([0.7]), "masks": m}
    ]
    assert box_ap(pred, gt, iou_type="segm")["AP"] == pytest.approx(1.0)


def test_matches_torchmetrics_when_torchvision_is_installed():
    pytest.importorskip("torchvision")
    from torchmetrics.detection.mean_ap import MeanAveragePrecision

    g = torch.Generator().manual_seed(0)
    preds, targets = [], []
    for _ in range(4):
        xy = torch.rand(5, 2, generator=g) * 100
        boxes = torch.cat([xy, xy + 20 + torch.rand(5, 2, generator=g) * 60], 1)
        targets.append({"boxes": boxes, "labels": torch.ones(5, dtype=torch.long)})
        noisy = boxes + torch.randn(5, 4, generator=g) * 6
        preds.append(
            {
                "boxes": noisy,
                "scores": torch.rand(5, generator=g),
                "labels": torch.ones(5, dtype=torch.long),
            }
        )
    metric = MeanAveragePrecision(box_format="xyxy", iou_type="bbox")
    metric.update(preds, targets)
    ref = metric.compute()
    ours = box_ap(preds, targets)
    assert ours["AP"] == pytest.approx(float(ref["map"]), abs=1e-6)
    assert ours["AP50"] == pytest.approx(float(ref["map_50"]), abs=1e-6)


def test_errors():
    with pytest.raises(ValueError, match="iou_type"):
        box_ap([], [], iou_type="keypoints")
    with pytest.raises(ValueError, match="predictions for"):
        box_ap([], [{"boxes": torch.zeros(0, 4)}])
