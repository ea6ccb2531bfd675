"""Codecs: each coordinate frame's encode (targets) and decode (predictions), side by side.

- [`letterbox`][cgalib.codecs.letterbox]: image pixels <-> model input pixels (resize, pad and
  their inverse), for training data and inference alike.
- [`center`][cgalib.codecs.center]: boxes <-> center heatmap, sizes and offsets (heatmap
  frame, stride 4).
- [`center_line`][cgalib.codecs.center_line]: boxes <-> the center lines ``M_x``, ``M_y``; the
  decode is the Dichotomy Extended Area search.
- `roi_keypoints`: image-pixel keypoints <-> per-box heatmaps; its decode refines the peak
  with DARK (``cgalib.codecs.dark``: blur, Newton step on the log-heatmap).
- [`affine`][cgalib.codecs.affine]: image pixels <-> person-crop pixels (the top-down crop:
  aspect-fixed, padded box; its affine and inverse; keypoints and boxes both ways).
- `roi_masks`: image masks <-> per-box mask maps (and COCO RLE).
- [`gaussian`][cgalib.codecs.gaussian] (the peaks) and [`dense`][cgalib.codecs.dense] (the dense
  targets of a whole batch).

Every encode/decode pair has a round-trip test in ``tests/codecs``.
"""

from cgalib.codecs.affine import (
    CROP_PADDING,
    affine_boxes,
    affine_keypoints,
    crop_affine,
    crop_images,
    crop_keypoints,
    invert_affine,
    is_flipped,
    person_crop_boxes,
    transform_points,
    uncrop_keypoints,
    whole_crop_boxes,
)
from cgalib.codecs.center import center_targets, decode_centers, heatmap_nms
from cgalib.codecs.center_line import (
    center_line_heatmaps,
    dichotomy_extend_area,
    dichotomy_extend_path,
)
from cgalib.codecs.dark import blur_heatmaps, blur_sigma, dark_offsets
from cgalib.codecs.dense import build_targets
from cgalib.codecs.gaussian import center_radius, draw_gaussian
from cgalib.codecs.letterbox import (
    letterbox,
    letterbox_batch,
    letterbox_boxes,
    letterbox_keypoints,
    letterbox_shape,
    letterbox_size,
    letterbox_target,
    unletterbox_boxes,
    unletterbox_keypoints,
)
from cgalib.codecs.roi_keypoints import (
    DARK_DEFAULTS,
    RoiHeatmapDecoder,
    decode_roi_heatmaps,
    image_to_roi_heatmap,
    roi_heatmap_to_image,
    roi_keypoint_targets,
)
from cgalib.codecs.roi_masks import (
    decode_roi_masks,
    masks_to_rle,
    paste_roi_masks,
    roi_mask_targets,
    segmentation_to_mask,
)

__all__ = [
    "CROP_PADDING",
    "DARK_DEFAULTS",
    "RoiHeatmapDecoder",
    "affine_boxes",
    "affine_keypoints",
    "blur_heatmaps",
    "blur_sigma",
    "build_targets",
    "center_line_heatmaps",
    "center_radius",
    "center_targets",
    "crop_affine",
    "crop_images",
    "crop_keypoints",
    "dark_offsets",
    "decode_centers",
    "decode_roi_heatmaps",
    "decode_roi_masks",
    "dichotomy_extend_area",
    "dichotomy_extend_path",
    "draw_gaussian",
    "heatmap_nms",
    "image_to_roi_heatmap",
    "invert_affine",
    "is_flipped",
    "letterbox",
    "letterbox_batch",
    "letterbox_boxes",
    "letterbox_keypoints",
    "letterbox_shape",
    "letterbox_size",
    "letterbox_target",
    "masks_to_rle",
    "paste_roi_masks",
    "person_crop_boxes",
    "roi_heatmap_to_image",
    "roi_keypoint_targets",
    "roi_mask_targets",
    "segmentation_to_mask",
    "transform_points",
    "uncrop_keypoints",
    "unletterbox_boxes",
    "unletterbox_keypoints",
    "whole_crop_boxes",
]
