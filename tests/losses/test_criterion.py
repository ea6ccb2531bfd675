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
