"""average_flipped_heatmaps: the flip test of keypoint heatmaps, checked on targets whose
mirror is known exactly."""

from __future__ import annotations

import torch

from cgalib.codecs import decode_roi_heatmaps, roi_keypoint_targets, whole_crop_boxes
from cgalib.postprocess import average_flipped_heatmaps
from cgalib.utils.coco_meta import FLIP_INDEX


def test_pixel_centred_heatmaps_need_no_flip_shift():
    """The target of a mirrored crop, flipped back, is the crop's own target: no shift."""
    g = torch.Generator().manual_seed(1)
    w, h = 192, 256
    kps = torch.cat([torch.rand(4, 17, 2, generator=g) * torch.tensor([w - 1.0, h - 1.0]),
                     torch.full((4, 17, 1), 2.0)], -1)  # fmt: skip
    mirrored = kps[:, list(FLIP_INDEX)].clone()
    mirrored[..., 0] = w - 1 - mirrored[..., 0]  # the mirror image's keypoints
    box = whole_crop_boxes(4, (h, w))  # TopDownPose's crop box
    target, _ = roi_keypoint_targets(kps, box, (64, 48))
    target_m, _ = roi_keypoint_targets(mirrored, box, (64, 48))
    exact = average_flipped_heatmaps(target, target_m, FLIP_INDEX, shift=0)
    decoded = decode_roi_heatmaps(exact, box, logits=False)
    alone = decode_roi_heatmaps(target, box, logits=False)
    torch.testing.assert_close(decoded, alone)
    shifted = decode_roi_heatmaps(
        average_flipped_heatmaps(target, target_m, FLIP_INDEX, shift=1), box, logits=False
    )
    # HRNet's one-cell shift would move every keypoint right: two equal peaks a cell apart,
    # decoded 1 to 4 crop pixels right of the truth
    inner = (alone[..., 0] > 4) & (alone[..., 0] < w - 4)  # the border columns differ
    moved = (shifted[..., 0] - alone[..., 0])[inner]
    assert (moved >= 1).all() and (moved <= 4).all()
