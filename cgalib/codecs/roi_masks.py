"""The ROI mask codec (box frame): image masks <-> per-box mask maps, and COCO RLE.

The frame is the one of `cgalib.codecs.roi_keypoints`: a ROI box ``(x1, y1, x2, y2)``
is covered by an ``(h, w)`` map whose cell ``(u, v)`` spans
``[x1 + u * bw / w, x1 + (u + 1) * bw / w)`` horizontally (``bw = x2 - x1``), and likewise
vertically. So:

- **encode** ([`roi_mask_targets()`][roi_mask_targets]): each image mask is resampled into its ROI with
  RoIAlign (``aligned=True``, as Mask R-CNN makes its mask targets) and binarised at 0.5;
- **decode** ([`paste_roi_masks()`][paste_roi_masks]): each per-box map is sampled back at the centres of
  the image pixels its box covers (bilinear, the map's edge values held to the box edge)
  and is 0 outside the box; [`decode_roi_masks()`][decode_roi_masks] then binarises at 0.5. Pasting into
  the original image through the inverse letterbox is pasting at the unletterboxed box
  ([`unletterbox_boxes()`][cgalib.codecs.unletterbox_boxes], unclipped), since the letterbox is a scaling;
- [`masks_to_rle()`][masks_to_rle] writes binary masks as COCO RLE (``pycocotools.mask.encode``), the
  ``segmentation`` of COCO results; [`segmentation_to_mask()`][segmentation_to_mask] reads any COCO
  ``segmentation`` (polygons, RLE, uncompressed RLE) back into a mask.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from pycocotools import mask as mask_utils

from cgalib.ops import roi_align

__all__ = [
    "decode_roi_masks",
    "masks_to_rle",
    "paste_roi_masks",
    "roi_mask_targets",
    "segmentation_to_mask",
]


def _check(maps: torch.Tensor, boxes: torch.Tensor, name: str, what: str) -> None:
    if boxes.dim() != 2 or boxes.shape[-1] != 4:
        raise ValueError(f"{name} expects boxes (N, 4), got {tuple(boxes.shape)}")
    if maps.dim() != 3 or maps.shape[0] != boxes.shape[0]:
        raise ValueError(
            f"{name} expects {what} (N, h, w) with the boxes' N={boxes.shape[0]}, "
            f"got {tuple(maps.shape)}"
        )


def roi_mask_targets(
    masks: torch.Tensor, boxes: torch.Tensor, size: tuple[int, int], sampling_ratio: int = 2
) -> torch.Tensor:
    """Binary mask targets of ROI crops: each mask RoIAligned into its own box, then >= 0.5.

    Args:
        masks: one binary (or soft, 0..1) mask per box, in the boxes' pixels.
        boxes: xyxy ROI boxes (e.g. the jittered, extended training boxes); parts outside
            the image read as background.
        size: ``(h, w)`` of the ROI maps (the mask head's output size).
        sampling_ratio: RoIAlign samples per bin and axis.

    Returns:
        `(N, h, w)` float maps of 0 and 1.

    Shape:
        - masks: `(N, H, W)`
        - boxes: `(N, 4)`
        - output: `(N, h, w)`

    Examples:
        >>> masks = torch.zeros(1, 40, 40)
        >>> masks[0, 10:30, 10:20] = 1
        >>> t = roi_mask_targets(masks, torch.tensor([[10.0, 10.0, 30.0, 30.0]]), (8, 8))
        >>> t[0, 0].tolist()
        [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    """
    _check(masks, boxes, "roi_mask_targets", "masks")
    h, w = int(size[0]), int(size[1])
    if h <= 0 or w <= 0:
        raise ValueError(f"size must be a positive (h, w), got {tuple(size)}")
    n = masks.shape[0]
    dtype = boxes.dtype if boxes.is_floating_point() else torch.float32
    if n == 0:
        return masks.new_zeros(0, h, w, dtype=dtype)
    rois = torch.cat([torch.arange(n, device=boxes.device, dtype=dtype)[:, None], boxes.to(dtype)], 1)
    aligned = roi_align(masks[:, None].to(dtype), rois, (h, w), 1.0, sampling_ratio, aligned=True)
    return (aligned[:, 0] >= 0.5).to(dtype)


def paste_roi_masks(
    maps: torch.Tensor, boxes: torch.Tensor, image_size: tuple[int, int]
) -> torch.Tensor:
    """Paste per-box maps (probabilities) into an image: the inverse of
    [`roi_mask_targets()`][roi_mask_targets].

    Image pixel ``(x, y)`` of a box takes the map's bilinear value at its centre
    ``((x + 0.5 - x1) / bw * w - 0.5, ...)`` (the map's edge values held up to the box
    edge); pixels whose centre is outside the box are 0. Only the box's pixels are
    computed.

    Args:
        maps: per-box maps in ``[0, 1]`` (sigmoid of a mask head's logits).
        boxes: xyxy boxes in the image's pixels (what the maps were read from).
        image_size: ``(H, W)`` of the image to paste into.

    Returns:
        `(N, H, W)` float maps in ``[0, 1]``.

    Shape:
        - maps: `(N, h, w)`
        - boxes: `(N, 4)`
        - output: `(N, H, W)`

    Examples:
        >>> out = paste_roi_masks(torch.ones(1, 4, 4), torch.tensor([[2.0, 1.0, 5.0, 3.0]]), (4, 6))
        >>> out[0].int().tolist()
        [[0, 0, 0, 0, 0, 0], [0, 0, 1, 1, 1, 0], [0, 0, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0]]
    """
    _check(maps, boxes, "paste_roi_masks", "maps")
    height, width = int(image_size[0]), int(image_size[1])
    dtype = maps.dtype if maps.is_floating_point() else torch.float32
    out = maps.new_zeros(maps.shape[0], height, width, dtype=dtype)
    for i, (x1, y1, x2, y2) in enumerate(boxes.detach().double().cpu().tolist()):
        # pixels whose centre lies in [x1, x2) x [y1, y2), clipped to the image
        c0, c1 = max(int(np.ceil(x1 - 0.5)), 0), min(int(np.ceil(x2 - 0.5)), width)
        r0, r1 = max(int(np.ceil(y1 - 0.5)), 0), min(int(np.ceil(y2 - 0.5)), height)
        if c1 <= c0 or r1 <= r0:
            continue
        # grid_sample, align_corners=False: -1 and 1 are the map's outer edges, i.e. the box's
        gx = (torch.arange(c0, c1, dtype=torch.float64) + 0.5 - x1) / (x2 - x1) * 2 - 1
        gy = (torch.arange(r0, r1, dtype=torch.float64) + 0.5 - y1) / (y2 - y1) * 2 - 1
        grid = torch.stack(torch.meshgrid(gx, gy, indexing="xy"), -1).to(maps.device, dtype)
        sampled = F.grid_sample(
            maps[i][None, None].to(dtype), grid[None], align_corners=False, padding_mode="border"
        )
        out[i, r0:r1, c0:c1] = sampled[0, 0]
    return out


def decode_roi_masks(
    logits: torch.Tensor,
    boxes: torch.Tensor,
    image_size: tuple[int, int],
    threshold: float = 0.5,
) -> torch.Tensor:
    """Binary image masks from per-box mask logits: sigmoid, paste, ``>= threshold``.

    Args:
        logits: per-box mask logits (a mask head's output, channel dimension removed).
        boxes: xyxy boxes the logits were read from, in the pixels of the target image
            (map model-input boxes back with [`unletterbox_boxes()`][cgalib.codecs.unletterbox_boxes],
            without clipping, to paste into the original image).
        image_size: ``(H, W)`` of the target image.
        threshold: probability from which a pixel belongs to the person.

    Returns:
        `(N, H, W)` bool masks.

    Shape:
        - logits: `(N, h, w)`
        - boxes: `(N, 4)`
        - output: `(N, H, W)`

    Examples:
        >>> m = decode_roi_masks(torch.full((1, 8, 8), 5.0), torch.tensor([[1.0, 1.0, 3.0, 3.0]]), (4, 4))
        >>> m.sum().item()
        4
    """
    return paste_roi_masks(logits.float().sigmoid(), boxes, image_size) >= threshold


def masks_to_rle(masks: torch.Tensor | np.ndarray) -> list[dict]:
    """COCO RLE of binary masks, JSON-ready (``counts`` a str): the ``segmentation`` of
    a COCO result.

    Args:
        masks: binary masks (nonzero is foreground).

    Returns:
        One ``{"size": [H, W], "counts": str}`` per mask, readable by
        ``pycocotools.mask.decode`` and ``COCO.loadRes``.

    Shape:
        - masks: `(N, H, W)`

    Examples:
        >>> rle = masks_to_rle(torch.ones(1, 3, 2, dtype=torch.bool))[0]
        >>> rle["size"], int(mask_utils.area(rle)), int(mask_utils.decode(rle).sum())
        ([3, 2], 6, 6)
    """
    array = masks.detach().cpu().numpy() if isinstance(masks, torch.Tensor) else np.asarray(masks)
    if array.ndim != 3:
        raise ValueError(f"masks_to_rle expects masks (N, H, W), got shape {array.shape}")
    if array.shape[0] == 0:
        return []
    fortran = np.asfortranarray(array.transpose(1, 2, 0) != 0, dtype=np.uint8)
    rles = mask_utils.encode(fortran)
    return [{"size": [int(s) for s in r["size"]], "counts": r["counts"].decode("ascii")} for r in rles]


def segmentation_to_mask(segmentation: dict | list, height: int, width: int) -> np.ndarray:
    """Rasterise a COCO ``segmentation`` to a bool mask, as pycocotools does.

    Polygons (several are merged) are filled by ``pycocotools.mask.frPyObjects``;
    uncompressed RLE (``counts`` a list) is compressed first; compressed RLE (``counts``
    a str or bytes) is decoded as it is. The input is not checked: the loader checks
    annotations first ([`check_segmentations()`][cgalib.data.check_segmentations]).

    Args:
        segmentation: polygons ``[[x1, y1, x2, y2, ...], ...]`` or an RLE dict.
        height: image height.
        width: image width.

    Returns:
        `(H, W)` bool mask.

    Examples:
        >>> int(segmentation_to_mask([[1, 1, 4, 1, 4, 3, 1, 3]], 5, 6).sum())
        6
    """
    if isinstance(segmentation, list):
        rle = mask_utils.merge(mask_utils.frPyObjects(segmentation, height, width))
    elif isinstance(segmentation.get("counts"), list):
        rle = mask_utils.frPyObjects(segmentation, height, width)
    else:
        rle = segmentation
    return mask_utils.decode(rle).astype(bool)
