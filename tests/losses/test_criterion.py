"""CGANetCriterion: the training ROIs (jittered, extended, unlabelled people skipped) and the
mask loss read inside them."""

from __future__ import annotations

import torch

from cgalib.losses import CGANetCriterion
from cgalib.postprocess import NoExtension

from helpers import people_with_masks


def test_training_rois_skip_unlabelled_and_empty_people():
    crit = CGANetCriterion(NoExtension(), jitter_scale=0.0, jitter_shift=0.0)
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [5.0, 5.0, 5.0, 20.0], [1.0, 1.0, 9.0, 9.0]])
    kps = torch.ones(3, 17, 3)
    kps[2, :, 2] = 0  # nobody labelled
    lines = torch.zeros(1, 8, 8)
    rois, keypoints = crit.training_rois([{"boxes": boxes, "keypoints": kps}], lines, lines)
    assert rois[0].tolist() == [[0.0, 0.0, 10.0, 10.0]] and keypoints.shape == (1, 17, 3)


def test_the_mask_loss_reads_the_masks_in_the_training_rois():
    """Logits that are the RoIAligned masks of the very ROIs score ~0; their negation high."""
    from cgalib.codecs import roi_mask_targets
    from cgalib.losses import CGANetCriterion

    crit = CGANetCriterion(jitter_scale=0.1, jitter_shift=0.1)
    targets = people_with_masks()
    outputs = {k: torch.zeros(1, 2 if k in ("wh", "offset") else 1, 32, 32)
               for k in ("heatmap", "wh", "offset", "line_x", "line_y")}  # fmt: skip

    def perfect(sign):
        def logits(rois):
            gt = roi_mask_targets(targets[0]["masks"], torch.cat(rois), (16, 16))
            return [sign * (gt * 2 - 1)[:, None] * 30]
        return logits

    torch.manual_seed(1)
    good = crit(outputs, targets, (128, 128), None, perfect(1))["mask"]
    torch.manual_seed(1)
    bad = crit(outputs, targets, (128, 128), None, perfect(-1))["mask"]
    assert good.item() < 1e-6 and bad.item() > 10


def test_training_rois_extend_each_image_on_its_own_center_lines():
    """The batch is extended in one call with zero-padded slots: each image's ROIs are what
    the Dichotomy Extended Area gives on that image's lines alone, an image without people
    has none, and the padding leaves no trace."""
    from cgalib.codecs import center_line_heatmaps
    from cgalib.postprocess import DichotomyExtendArea

    extend = DichotomyExtendArea(ratio=0.3)
    crit = CGANetCriterion(extend, jitter_scale=0.0, jitter_shift=0.0)
    people = [
        torch.tensor([[8.0, 8.0, 40.0, 96.0], [60.0, 20.0, 90.0, 80.0], [4.0, 70.0, 30.0, 120.0]]),
        torch.zeros(0, 4),
        torch.tensor([[30.0, 30.0, 70.0, 110.0]]),
    ]
    targets = [{"boxes": b, "keypoints": torch.ones(len(b), 17, 3)} for b in people]
    lines = [center_line_heatmaps(b / 4, (32, 32)) for b in people]
    line_x, line_y = (torch.stack([pair[k] for pair in lines]) for k in (0, 1))
    rois, keypoints = crit.training_rois(targets, line_x, line_y)
    assert [len(r) for r in rois] == [3, 0, 1] and keypoints.shape == (4, 17, 3)
    for b, boxes in enumerate(people):
        alone = extend(boxes / 4, line_x[b], line_y[b]) * 4
        torch.testing.assert_close(rois[b], alone)
        assert (rois[b][:, :2] <= boxes[:, :2]).all() and (rois[b][:, 2:] >= boxes[:, 2:]).all()
    assert (rois[0] != people[0]).any()  # the lines did extend them
