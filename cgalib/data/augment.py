"""The paper's training augmentation, batched on the device with kornia.

Random scale 0.6-1.5, rotation +-45 degrees, translation +-40 px and a horizontal flip,
composed into one affine matrix per image. Images (and masks) go through
``kornia.geometry.transform.warp_affine``; keypoints and boxes through the same matrices,
so all stay consistent (the point and box transforms are the crop codec's,
[`cgalib.codecs.affine`][cgalib.codecs.affine]). Matrices act on pixel indices (pixel centres at integers, as
``warp_affine(..., align_corners=True)`` samples them), hence a flip maps
``x -> W - 1 - x``, exactly what ``torch.flip``/``kornia.geometry.hflip`` do to pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from kornia.geometry.transform import warp_affine
from torch import nn

from cgalib.codecs.affine import affine_boxes, affine_keypoints, is_flipped
from cgalib.utils.coco_meta import FLIP_INDEX
from cgalib.utils.image import to_float_image
from cgalib.utils.keypoint_set import check_permutation

__all__ = ["PoseAugmentation", "affine_keypoints", "affine_boxes"]


def _mask_boxes(masks: torch.Tensor) -> torch.Tensor:
    """Tight xyxy boxes `(N, 4)` of bool masks `(N, H, W)`; empty masks give zeros."""
    n, h, w = masks.shape
    if n == 0:
        return masks.new_zeros(0, 4, dtype=torch.float32)
    cols, rows = masks.any(1), masks.any(2)
    ar_w = torch.arange(w, device=masks.device)
    ar_h = torch.arange(h, device=masks.device)
    x0 = torch.where(cols, ar_w, w).amin(1)
    x1 = torch.where(cols, ar_w, -1).amax(1) + 1
    y0 = torch.where(rows, ar_h, h).amin(1)
    y1 = torch.where(rows, ar_h, -1).amax(1) + 1
    boxes = torch.stack([x0, y0, x1, y1], 1).float()
    return torch.where(cols.any(1)[:, None], boxes, torch.zeros_like(boxes))


class PoseAugmentation(nn.Module):
    """Random scale, rotation, translation and flip of a batch and its targets (paper defaults).

    Per image, one affine is drawn: flip with probability ``flip_prob`` (keypoints
    permuted by ``flip_index``, so left and right swap), rotation about the image centre
    by ``U(-rotation, rotation)`` degrees, scale ``U(*scale)``, translation
    ``U(-translation, translation)`` pixels on each axis, the input centre mapped to the
    output centre. Targets are updated:

    - ``keypoints``: moved; those leaving the output become ``(0, 0, 0)``
    - ``masks`` and ``ignore_mask``: warped (bilinear, threshold 0.5)
    - ``keypoints`` of a flipped image: also permuted by ``flip_index``
    - ``boxes``: the tight box of the warped mask when ``masks`` are given; otherwise
      [`affine_boxes()`][affine_boxes] (``box_mode``, default the inscribed-ellipse box), enlarged to
      contain the person's moved keypoints; always clipped to the output image
    - ``crowd_boxes``: the enclosing box of the moved corners
    - people whose box ends narrower or lower than ``min_box_size`` pixels are removed
      (with their keypoints, masks and ids)
    - ``affine`` `(2, 3)`: the matrix used (input to output pixel indices); ``size``

    Randomness comes from a CPU ``torch.Generator`` (seeded by ``seed``, else from the
    global RNG), so a seed gives the same draws on every device.

    Args:
        output_size: side of the square output.
        scale: range of the zoom factor (paper: 0.6-1.5).
        rotation: maximum rotation in degrees (paper: 45).
        translation: maximum shift in output pixels (paper: 40).
        flip_prob: probability of a horizontal flip.
        box_mode: box transform without masks, ``"ellipse"`` or ``"corners"``.
        min_box_size: smallest kept box side in pixels.
        seed: seed of the private generator (``None``: use the global torch RNG).
        flip_index: the keypoint set's flip permutation
            (``CocoKeypoints(...).keypoint_set.flip_index``); default COCO's 17-keypoint
            one. Targets with another number of keypoints are refused.

    Raises:
        ValueError: for a bad scale range or box mode, a ``flip_index`` that is not a
            permutation, and (in ``forward``) targets whose keypoint count differs from
            ``flip_index``'s.

    Shape:
        - images: `(B, 3, H, W)`, ``uint8`` or float in 0..1
        - targets: B dicts with ``boxes`` `(N, 4)`, ``keypoints`` `(N, K, 3)`, optional
          ``masks`` `(N, H, W)`, ``ignore_mask`` `(H, W)`, ``crowd_boxes`` `(M, 4)`
        - output: float images `(B, 3, S, S)` in 0..1 and the updated targets

    Examples:
        >>> aug = PoseAugmentation(output_size=64, seed=0)
        >>> t = {"boxes": torch.tensor([[10.0, 10.0, 30.0, 50.0]]), "keypoints": torch.zeros(1, 17, 3)}
        >>> images, (first, second) = aug(torch.rand(2, 3, 64, 64), [t, t])
        >>> images.shape, first["keypoints"].shape
        (torch.Size([2, 3, 64, 64]), torch.Size([1, 17, 3]))
    """

    def __init__(
        self,
        output_size: int = 512,
        scale: tuple[float, float] = (0.6, 1.5),
        rotation: float = 45.0,
        translation: float = 40.0,
        flip_prob: float = 0.5,
        box_mode: Literal["ellipse", "corners"] = "ellipse",
        min_box_size: float = 1.0,
        seed: int | None = None,
        flip_index: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        if not 0 < scale[0] <= scale[1]:
            raise ValueError(f"scale must be a range (lo, hi) with 0 < lo <= hi, got {scale}")
        if box_mode not in ("ellipse", "corners"):
            raise ValueError(f"box_mode must be 'ellipse' or 'corners', got {box_mode!r}")
        self.output_size = output_size
        self.scale = (float(scale[0]), float(scale[1]))
        self.rotation = float(rotation)
        self.translation = float(translation)
        self.flip_prob = float(flip_prob)
        self.box_mode = box_mode
        self.min_box_size = float(min_box_size)
        self.generator = torch.Generator().manual_seed(seed) if seed is not None else None
        flip = check_permutation(FLIP_INDEX if flip_index is None else flip_index)
        self.register_buffer("flip_index", torch.tensor(flip, dtype=torch.long), persistent=False)

    def extra_repr(self) -> str:
        return (
            f"output_size={self.output_size}, scale={self.scale}, rotation={self.rotation}, "
            f"translation={self.translation}, flip_prob={self.flip_prob}, box_mode={self.box_mode!r}"
        )

    def sample(self, batch_size: int, input_size: tuple[int, int]) -> torch.Tensor:
        """Draw `(B, 2, 3)` float64 affine matrices (CPU) from input to output pixel indices."""
        g = self.generator
        u = torch.rand(batch_size, 5, generator=g, dtype=torch.float64)
        flip = u[:, 0] < self.flip_prob
        angle = torch.deg2rad((2 * u[:, 1] - 1) * self.rotation)
        s = self.scale[0] + (self.scale[1] - self.scale[0]) * u[:, 2]
        t = (2 * u[:, 3:5] - 1) * self.translation
        h, w = input_size
        eye = torch.eye(3, dtype=torch.float64).expand(batch_size, 3, 3)
        flip_m, to_origin, rot_scale, to_output = (eye.clone() for _ in range(4))
        flip_m[flip, 0, 0], flip_m[flip, 0, 2] = -1.0, w - 1.0  # x -> W - 1 - x
        to_origin[:, 0, 2], to_origin[:, 1, 2] = -(w - 1) / 2, -(h - 1) / 2
        cos, sin = torch.cos(angle) * s, torch.sin(angle) * s
        rot_scale[:, 0, 0], rot_scale[:, 0, 1], rot_scale[:, 1, 0], rot_scale[:, 1, 1] = (
            cos,
            -sin,
            sin,
            cos,
        )
        to_output[:, :2, 2] = (self.output_size - 1) / 2 + t
        return (to_output @ rot_scale @ to_origin @ flip_m)[:, :2]

    def forward(
        self, images: torch.Tensor, targets: list[dict[str, torch.Tensor]]
    ) -> tuple[torch.Tensor, list[dict[str, torch.Tensor]]]:
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(
                f"PoseAugmentation expects images (B, 3, H, W), got {tuple(images.shape)}"
            )
        if len(targets) != images.shape[0]:
            raise ValueError(f"got {images.shape[0]} images but {len(targets)} targets")
        k = self.flip_index.numel()
        for i, t in enumerate(targets):
            if t["keypoints"].dim() != 3 or t["keypoints"].shape[1] != k:
                raise ValueError(
                    f"target {i} has keypoints {tuple(t['keypoints'].shape)}, but this "
                    f"PoseAugmentation flips {k} keypoints; pass the data set's flip map "
                    "(PoseAugmentation(flip_index=dataset.keypoint_set.flip_index))"
                )
        device = images.device
        b, _, h, w = images.shape
        s = self.output_size
        x = to_float_image(images)
        matrices = self.sample(b, (h, w))
        m = matrices.to(device=device, dtype=torch.float32)
        out = warp_affine(x, m, (s, s), mode="bilinear", padding_mode="zeros", align_corners=True)
        out = out.clamp_(0, 1)

        # all masks of the batch in one warp; an empty ignore mask stays empty unwarped
        # (which ignore masks hold pixels: one check for the batch, one device sync)
        with_ignore = [i for i, t in enumerate(targets) if "ignore_mask" in t]
        warp_ignore = set()
        if with_ignore:
            ignore = torch.stack([targets[i]["ignore_mask"] for i in with_ignore])
            flags = ignore.flatten(1).any(1).tolist()
            warp_ignore = {i for i, flag in zip(with_ignore, flags) if flag}
        stacks, owners = [], []
        for i, t in enumerate(targets):
            if "masks" in t:
                stacks.append(t["masks"].to(device))
                owners += [i] * t["masks"].shape[0]
            if i in warp_ignore:
                stacks.append(t["ignore_mask"].to(device)[None])
                owners.append(i)
        warped_masks = None
        if owners:
            allm = torch.cat(stacks).float()[:, None]
            idx = torch.tensor(owners, device=device)
            warped_masks = warp_affine(allm, m[idx], (s, s), align_corners=True)[:, 0] > 0.5
        # every person of the batch in one pass, each with its image's affine
        counts = [t["keypoints"].shape[0] for t in targets]
        owner = _row_images(range(b), counts, device)
        moved = affine_keypoints(
            torch.cat([t["keypoints"].to(device).float() for t in targets]), m[owner], (s, s)
        )
        flipped = is_flipped(matrices).to(device)[owner]
        moved = torch.where(flipped[:, None, None], moved[:, self.flip_index.to(device)], moved)
        keypoints = moved.split(counts)
        boxed = [i for i, t in enumerate(targets) if "masks" not in t]
        boxes_of = {}
        if boxed:
            sizes = [counts[i] for i in boxed]
            picked = _row_images(boxed, sizes, device)
            people = torch.cat([keypoints[i] for i in boxed])
            moved_boxes = affine_boxes(
                torch.cat([targets[i]["boxes"].to(device).float() for i in boxed]),
                m[picked],
                (s, s),
                self.box_mode,
            )
            boxes_of = dict(zip(boxed, _union_keypoints(moved_boxes, people, s).split(sizes)))
        crowded = [i for i, t in enumerate(targets) if "crowd_boxes" in t]
        crowds_of = {}
        if crowded:
            sizes = [targets[i]["crowd_boxes"].shape[0] for i in crowded]
            picked = _row_images(crowded, sizes, device)
            crowds = torch.cat([targets[i]["crowd_boxes"].to(device).float() for i in crowded])
            crowds = affine_boxes(crowds.reshape(-1, 4), m[picked], (s, s), "corners")
            crowds_of = dict(zip(crowded, crowds.split(sizes)))
        cursor = 0
        new_targets = []
        for i, t in enumerate(targets):
            mi = m[i]
            nt = dict(t)
            nt["keypoints"] = keypoints[i]
            if "masks" in t:
                n = t["masks"].shape[0]
                nt["masks"] = warped_masks[cursor : cursor + n]
                cursor += n
                boxes = _mask_boxes(nt["masks"])
            else:
                boxes = boxes_of[i]
            if i in warp_ignore:
                nt["ignore_mask"] = warped_masks[cursor]
                cursor += 1
            elif "ignore_mask" in t:
                nt["ignore_mask"] = torch.zeros(s, s, dtype=torch.bool, device=device)
            if i in crowds_of:
                nt["crowd_boxes"] = crowds_of[i]
            keep = ((boxes[:, 2] - boxes[:, 0]) >= self.min_box_size) & (
                (boxes[:, 3] - boxes[:, 1]) >= self.min_box_size
            )
            nt["boxes"] = boxes
            for key in ("boxes", "keypoints", "masks", "areas", "ann_ids", "labels"):
                if key in nt and nt[key].shape[0] == keep.shape[0]:
                    nt[key] = nt[key][keep.to(nt[key].device)]
            nt["affine"] = mi
            nt["size"] = torch.tensor([s, s], dtype=torch.int64, device=device)
            new_targets.append(nt)
        return out, new_targets


def _row_images(
    images: Sequence[int], rows: Sequence[int], device: torch.device
) -> torch.Tensor:
    """The image of every row when the ``rows[k]`` rows of each ``images[k]`` lie end to end."""
    return torch.repeat_interleave(
        torch.tensor(list(images), device=device), torch.tensor(list(rows), device=device)
    )


def _union_keypoints(boxes: torch.Tensor, keypoints: torch.Tensor, size: int) -> torch.Tensor:
    """Grow xyxy boxes to contain the pixels ``[x, x + 1)`` of their labelled keypoints."""
    if boxes.shape[0] == 0:
        return boxes
    big = float(size) * 4 + 1e6
    labelled = keypoints[..., 2:] > 0
    xy = keypoints[..., :2]
    kp_lo = torch.where(labelled, xy, big).amin(1).clamp(0, size)
    kp_hi = torch.where(labelled, xy + 1, -big).amax(1).clamp(0, size)
    nonempty = ((boxes[:, 2:] - boxes[:, :2]) > 0).all(1, keepdim=True)
    lo = torch.minimum(torch.where(nonempty, boxes[:, :2], big), kp_lo)
    hi = torch.maximum(torch.where(nonempty, boxes[:, 2:], -big), kp_hi)
    return torch.cat([lo, torch.maximum(hi, lo)], 1)
