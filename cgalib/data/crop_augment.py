"""Top-down crops with their augmentation, batched on the device with kornia.

Per person one affine is drawn ([`cgalib.codecs.affine`][cgalib.codecs.affine]): the box's aspect-fixed,
padded crop region, a random zoom, a rotation about the region centre, a horizontal flip
and, optionally, a half-body region; all crops of a batch are then cut by one
``kornia.geometry.transform.warp_affine`` and the keypoints moved by the same matrices.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from cgalib.codecs.affine import (
    CROP_PADDING,
    crop_affine,
    crop_images,
    crop_keypoints,
    person_crop_boxes,
)
from cgalib.utils.coco_meta import FLIP_INDEX
from cgalib.utils.keypoint_set import KeypointSet, check_permutation

__all__ = ["HALF_BODY_PADDING", "UPPER_BODY", "TopDownAugmentation"]

UPPER_BODY: tuple[int, ...] = KeypointSet.coco().upper_body
"""The COCO keypoints of the upper body (nose to wrists); the hips, knees and ankles are
the lower body. Used by the half-body crops."""

HALF_BODY_PADDING = 1.5
"""Enlargement of a half-body region around its keypoints (HRNet's 1.5)."""


class TopDownAugmentation(nn.Module):
    """Cut each person's crop with a random zoom, rotation and flip (SimpleBaseline/HRNet's).

    For each person, its box becomes the crop region (the crop's aspect ratio, padded by
    ``padding``: [`person_crop_boxes()`][cgalib.codecs.person_crop_boxes]); then, drawn independently:

    - **scale**: the region is enlarged by ``U(1 - scale, 1 + scale)`` (above 1 zooms out)
    - **rotation**: with probability ``rotation_prob``, ``U(-rotation, rotation)`` degrees
      about the region centre
    - **flip**: with probability ``flip_prob``, mirrored, the keypoints' left and right
      swapped by ``flip_index``
    - **half body**: with probability ``half_body_prob``, for people with more than
      ``half_body_min_keypoints`` labelled keypoints, the region is that of the upper or
      the lower body's keypoints (chosen at random; one with at least two labelled
      keypoints), padded by [`HALF_BODY_PADDING`][HALF_BODY_PADDING]

    All crops are cut in one kornia warp (bilinear, zeros outside the image); keypoints
    move by the same matrices and those that leave the crop become unlabelled. With
    ``scale=0, rotation_prob=0, flip_prob=0`` (and no half body) it is the plain crop of
    evaluation.

    Randomness comes from a CPU ``torch.Generator`` (seeded by ``seed``, else from the
    global RNG), so a seed gives the same draws on every device.

    Args:
        crop_size: ``(H, W)`` of the crops (the model's ``input_size``).
        padding: enlargement of the aspect-fixed box (1.25).
        scale: half-width of the zoom range (0.35).
        rotation: maximum rotation in degrees (45).
        rotation_prob: probability of rotating a crop (0.6).
        flip_prob: probability of a horizontal flip (0.5).
        flip_index: keypoint permutation of a horizontal flip (COCO's for 17 keypoints).
        half_body_prob: probability of a half-body crop (0: off; HRNet uses 0.3).
        half_body_min_keypoints: a person needs more labelled keypoints than this for a
            half-body crop (HRNet: 8).
        upper_body: the keypoints of the upper body ([`UPPER_BODY`][UPPER_BODY] for COCO).
        seed: seed of the private generator (``None``: use the global torch RNG).

    Raises:
        ValueError: for a bad ``crop_size``, ``scale`` or probability, flips without a
            ``flip_index``, and (in ``forward``) images or targets of the wrong shape, or
            targets whose keypoint count differs from ``flip_index``'s.

    Shape:
        - images: `(B, 3, H, W)`, ``uint8`` or float in 0..1 (e.g. from
          [`collate_person_crops()`][cgalib.data.collate_person_crops])
        - targets: B dicts with ``boxes`` `(1, 4)` xyxy and ``keypoints`` `(1, K, 3)` in
          image pixels
        - output: float crops `(B, 3, crop_H, crop_W)` in 0..1 and keypoints `(B, K, 3)`
          in crop pixels (what [`TopDownPose`][cgalib.TopDownPose] trains on)

    Examples:
        >>> aug = TopDownAugmentation(crop_size=(64, 48), seed=0)
        >>> t = {"boxes": torch.tensor([[10.0, 10.0, 30.0, 50.0]]), "keypoints": torch.zeros(1, 17, 3)}
        >>> crops, keypoints = aug(torch.rand(2, 3, 64, 64), [t, t])
        >>> crops.shape, keypoints.shape
        (torch.Size([2, 3, 64, 48]), torch.Size([2, 17, 3]))
    """

    def __init__(
        self,
        crop_size: Sequence[int] = (256, 192),
        padding: float = CROP_PADDING,
        scale: float = 0.35,
        rotation: float = 45.0,
        rotation_prob: float = 0.6,
        flip_prob: float = 0.5,
        flip_index: Sequence[int] | None = FLIP_INDEX,
        half_body_prob: float = 0.0,
        half_body_min_keypoints: int = 8,
        upper_body: Sequence[int] = UPPER_BODY,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        if len(crop_size) != 2 or any(int(s) <= 0 for s in crop_size):
            raise ValueError(f"crop_size must be a positive (H, W), got {tuple(crop_size)}")
        if not 0 <= scale < 1:
            raise ValueError(f"scale must be in [0, 1) (the zoom is 1 +- scale), got {scale}")
        for name, p in (
            ("rotation_prob", rotation_prob),
            ("flip_prob", flip_prob),
            ("half_body_prob", half_body_prob),
        ):
            if not 0 <= p <= 1:
                raise ValueError(f"{name} must be a probability in [0, 1], got {p}")
        if flip_prob > 0 and flip_index is None:
            raise ValueError("flip_prob > 0 needs the flip_index of the keypoints")
        self.crop_size = (int(crop_size[0]), int(crop_size[1]))
        self.padding = float(padding)
        self.scale = float(scale)
        self.rotation = float(rotation)
        self.rotation_prob = float(rotation_prob)
        self.flip_prob = float(flip_prob)
        self.flip_index = None if flip_index is None else check_permutation(flip_index)
        self.half_body_prob = float(half_body_prob)
        self.half_body_min_keypoints = int(half_body_min_keypoints)
        self.upper_body = tuple(int(i) for i in upper_body)
        self.generator = torch.Generator().manual_seed(seed) if seed is not None else None

    def extra_repr(self) -> str:
        return (
            f"crop_size={self.crop_size}, scale={self.scale}, rotation={self.rotation}, "
            f"rotation_prob={self.rotation_prob}, flip_prob={self.flip_prob}, "
            f"half_body_prob={self.half_body_prob}"
        )

    def sample(self, batch_size: int) -> dict[str, torch.Tensor]:
        """Draw the per-person parameters (CPU, float64): ``scale``, ``rotation`` (degrees),
        ``flip`` (bool), ``half_body`` (bool) and ``upper`` (bool: which half), each `(B,)`."""
        u = torch.rand(batch_size, 7, generator=self.generator, dtype=torch.float64)
        rotate = u[:, 1] < self.rotation_prob
        return {
            "scale": 1 + self.scale * (2 * u[:, 0] - 1),
            "rotation": torch.where(rotate, (2 * u[:, 2] - 1) * self.rotation, 0.0),
            "flip": u[:, 3] < self.flip_prob,
            "half_body": u[:, 4] < self.half_body_prob,
            "upper": u[:, 5] < 0.5,
        }

    def regions(
        self, boxes: torch.Tensor, keypoints: torch.Tensor, draws: dict[str, torch.Tensor]
    ) -> torch.Tensor:
        """The crop regions `(B, 4)`: each box's, or a half body's where drawn and possible."""
        regions = person_crop_boxes(boxes, self.crop_size, self.padding)
        if not bool(draws["half_body"].any()):
            return regions
        k = keypoints.shape[1]
        upper = torch.zeros(k, dtype=torch.bool, device=keypoints.device)
        upper[[i for i in self.upper_body if i < k]] = True
        labelled = keypoints[..., 2] > 0  # (B, K)
        halves = []
        for b in range(len(boxes)):
            if not draws["half_body"][b] or labelled[b].sum() <= self.half_body_min_keypoints:
                halves.append(None)
                continue
            first, second = (upper, ~upper) if draws["upper"][b] else (~upper, upper)
            chosen = next(
                (part & labelled[b] for part in (first, second) if (part & labelled[b]).sum() >= 2),
                None,
            )
            halves.append(chosen)
        rows = [b for b, h in enumerate(halves) if h is not None]
        if not rows:
            return regions
        half_boxes = []
        for b in rows:
            xy = keypoints[b, halves[b], :2]
            half_boxes.append(torch.cat([xy.amin(0), xy.amax(0) + 1]))  # pixels [x, x + 1)
        half = person_crop_boxes(torch.stack(half_boxes), self.crop_size, HALF_BODY_PADDING)
        regions = regions.clone()
        regions[rows] = half.to(regions.dtype)
        return regions

    def forward(
        self, images: torch.Tensor, targets: Sequence[dict[str, torch.Tensor]]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(
                f"TopDownAugmentation expects images (B, 3, H, W), got {tuple(images.shape)}"
            )
        if len(targets) != images.shape[0]:
            raise ValueError(f"got {images.shape[0]} images but {len(targets)} targets")
        for i, t in enumerate(targets):
            if t["boxes"].shape != (1, 4) or t["keypoints"].dim() != 3 or len(t["keypoints"]) != 1:
                raise ValueError(
                    f"TopDownAugmentation expects one person per item (boxes (1, 4), keypoints "
                    f"(1, K, 3)); item {i} has boxes {tuple(t['boxes'].shape)} (use PersonCrops)"
                )
        device = images.device
        boxes = torch.cat([t["boxes"] for t in targets]).to(device=device, dtype=torch.float64)
        keypoints = torch.cat([t["keypoints"] for t in targets]).to(device=device).float()
        if self.flip_index is not None and keypoints.shape[1] != len(self.flip_index):
            raise ValueError(
                f"targets have {keypoints.shape[1]} keypoints, but this TopDownAugmentation "
                f"flips {len(self.flip_index)}; pass the data set's flip map "
                "(TopDownAugmentation(flip_index=dataset.keypoint_set.flip_index))"
            )
        draws = {k: v.to(device) for k, v in self.sample(len(targets)).items()}
        regions = self.regions(boxes, keypoints.double(), draws)
        matrices = crop_affine(
            regions, self.crop_size, draws["scale"], draws["rotation"], draws["flip"]
        )
        crops = crop_images(images, matrices.float(), self.crop_size)
        moved = crop_keypoints(keypoints.double(), matrices, self.crop_size, self.flip_index)
        return crops, moved.float()
