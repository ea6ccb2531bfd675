"""CGANet's training objective (paper eq. 9): targets, training ROIs and the weighted losses."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch
from torch import nn

from cgalib.codecs.dense import build_targets
from cgalib.codecs.roi_keypoints import roi_keypoint_targets
from cgalib.codecs.roi_masks import roi_mask_targets
from cgalib.losses.center_line import center_line_loss
from cgalib.losses.focal import focal_loss
from cgalib.losses.mask import mask_loss
from cgalib.losses.reg_l1 import reg_l1_loss
from cgalib.postprocess.extend_area import BoxExtension, NoExtension

__all__ = ["LOSS_WEIGHTS", "CGANetCriterion", "jitter_boxes"]

LOSS_WEIGHTS: Mapping[str, float] = {
    "det": 1.0,
    "wh": 0.1,
    "offset": 1.0,
    "line_x": 1.0,
    "line_y": 1.0,
    "km": 3.0,
    "mask": 1.0,
}
"""Loss weights of paper eq. 9: keypoints 3, size 0.1, the others 1 (``mask``, the per-box
mask loss of the segmentation models, is Mask R-CNN's 1)."""

KeypointLogits = Callable[[list[torch.Tensor]], list[torch.Tensor]]


def jitter_boxes(boxes: torch.Tensor, scale: float, shift: float) -> torch.Tensor:
    """Randomly rescale and move xyxy boxes, as a detector's imprecise boxes would be.

    Each side length is multiplied by a factor drawn uniformly in ``[1 - scale,
    1 + scale]`` and the center moves by up to ``shift`` times the box size on each axis
    (uniform), using the global torch RNG (so a seed reproduces the draws).

    Args:
        boxes: xyxy boxes.
        scale: relative size jitter.
        shift: relative center jitter.

    Returns:
        The jittered boxes (``boxes`` itself when both amplitudes are 0 or there are none).

    Shape:
        - boxes: `(N, 4)`
        - output: `(N, 4)`

    Examples:
        >>> box = torch.tensor([[10.0, 10.0, 50.0, 90.0]])
        >>> out = jitter_boxes(box, scale=0.1, shift=0.0)
        >>> torch.allclose((out[:, :2] + out[:, 2:]) / 2, torch.tensor([[30.0, 50.0]]))
        True
    """
    if boxes.numel() == 0 or (scale == 0 and shift == 0):
        return boxes
    size = (boxes[:, 2:] - boxes[:, :2]).clamp(min=1.0)
    center = (boxes[:, 2:] + boxes[:, :2]) / 2
    factor = 1 + (torch.rand_like(size) * 2 - 1) * scale
    move = (torch.rand_like(size) * 2 - 1) * shift * size
    center, size = center + move, size * factor
    return torch.cat([center - size / 2, center + size / 2], dim=1)


class CGANetCriterion(nn.Module):
    """CGANet's losses from its dense outputs and keypoint head (paper eq. 9).

    For a batch it builds the dense targets (center heatmap, sizes, offsets, center lines:
    [`build_targets()`][cgalib.codecs.build_targets]), samples the training ROIs (each labelled
    person's ground-truth box, jittered like a detection by [`jitter_boxes()`][jitter_boxes], then
    extended by ``box_extension`` on the *ground-truth* center lines, as inference extends
    detections on the predicted ones), asks the model's keypoint head for their heatmaps,
    and weights the six losses: focal ``det`` (eq. 8), L1 ``wh`` and ``offset``
    (CenterNet), center-line ``line_x`` and ``line_y`` (eq. 3) and focal ``km`` of the
    keypoint heatmaps (averaged over the cascade stages). A model with a mask head also
    passes ``mask_logits``: its training ROIs are sampled the same way among the people
    with a non-empty mask, their targets are the masks RoIAligned into the ROIs
    ([`roi_mask_targets()`][cgalib.codecs.roi_mask_targets]) and the ``mask`` loss is their BCE
    ([`mask_loss()`][cgalib.losses.mask_loss], plus ``mask_dice`` times the Dice loss).

    Args:
        box_extension: the extension of the training ROIs; pass the model's
            ``postprocess.box_extension`` so training and inference extend alike
            (``None``: none).
        loss_weights: overrides of [`LOSS_WEIGHTS`][LOSS_WEIGHTS] (unknown names are an error).
        jitter_scale: relative size jitter of the training ROIs.
        jitter_shift: relative center jitter of the training ROIs.
        max_rois_per_image: labelled people per image used for the keypoint loss.
        keypoint_sigma: Gaussian sigma of the ROI keypoint targets, in heatmap cells.
        output_stride: input pixels per dense-heatmap pixel.
        mask_dice: weight of the Dice term of the mask loss (0: BCE only).

    Shape:
        - outputs: the dense outputs, ``heatmap``/``line_x``/``line_y`` `(B, 1, h, w)`,
          ``wh``/``offset`` `(B, 2, h, w)`
        - targets: B dicts with ``boxes`` `(N, 4)` xyxy and ``keypoints`` `(N, K, 3)`
          (x, y, visibility) in input pixels
        - keypoint_logits: called with B `(N_i, 4)` ROI tensors, returns one
          `(sum N_i, K, h', w')` logit tensor per cascade stage; ``None`` for a model
          without keypoints (no ``km`` loss)
        - mask_logits: the same for the mask head, `(sum N_i, 1, h', w')` per stage;
          needs ``masks`` `(N, H, W)` in the targets
        - output: dict of weighted scalar losses ``det, wh, offset, line_x, line_y`` and
          ``km`` and/or ``mask``

    Examples:
        >>> crit = CGANetCriterion(loss_weights={"km": 6.0})
        >>> crit.loss_weights["km"], crit.loss_weights["wh"]
        (6.0, 0.1)
    """

    def __init__(
        self,
        box_extension: BoxExtension | None = None,
        loss_weights: Mapping[str, float] | None = None,
        jitter_scale: float = 0.15,
        jitter_shift: float = 0.1,
        max_rois_per_image: int = 32,
        keypoint_sigma: float = 2.0,
        output_stride: int = 4,
        mask_dice: float = 0.0,
    ) -> None:
        super().__init__()
        unknown = set(loss_weights or {}) - set(LOSS_WEIGHTS)
        if unknown:
            raise ValueError(f"unknown loss weights {sorted(unknown)}; known: {list(LOSS_WEIGHTS)}")
        if box_extension is not None and not isinstance(box_extension, BoxExtension):
            raise TypeError(
                f"box_extension must be a BoxExtension or None, got {type(box_extension).__name__}"
            )
        if jitter_scale < 0 or jitter_shift < 0:
            raise ValueError(f"jitter must be >= 0, got {jitter_scale} and {jitter_shift}")
        if max_rois_per_image < 1:
            raise ValueError(f"max_rois_per_image must be >= 1, got {max_rois_per_image}")
        if keypoint_sigma <= 0:
            raise ValueError(f"keypoint_sigma must be positive, got {keypoint_sigma}")
        if mask_dice < 0:
            raise ValueError(f"mask_dice must be >= 0, got {mask_dice}")
        self.box_extension = box_extension if box_extension is not None else NoExtension()
        self._loss_weights = {**LOSS_WEIGHTS, **(loss_weights or {})}
        self._jitter = (float(jitter_scale), float(jitter_shift))
        self._max_rois = int(max_rois_per_image)
        self._sigma = float(keypoint_sigma)
        self._stride = int(output_stride)
        self._mask_dice = float(mask_dice)

    @property
    def loss_weights(self) -> dict[str, float]:
        """The weights of eq. 9 (a copy)."""
        return dict(self._loss_weights)

    def forward(
        self,
        outputs: dict[str, torch.Tensor],
        targets: Sequence[dict[str, torch.Tensor]],
        image_size: tuple[int, int],
        keypoint_logits: KeypointLogits | None,
        mask_logits: KeypointLogits | None = None,
    ) -> dict[str, torch.Tensor]:
        dense = build_targets(targets, tuple(image_size), self._stride)
        heat = outputs["heatmap"].float().sigmoid()
        losses = {
            "det": focal_loss(heat, dense["heatmap"]),
            "wh": reg_l1_loss(outputs["wh"].float(), dense["index"], dense["mask"], dense["wh"]),
            "offset": reg_l1_loss(
                outputs["offset"].float(), dense["index"], dense["mask"], dense["offset"]
            ),
            "line_x": center_line_loss(outputs["line_x"].float().sigmoid(), dense["line_x"]),
            "line_y": center_line_loss(outputs["line_y"].float().sigmoid(), dense["line_y"]),
        }
        if keypoint_logits is not None:
            losses["km"] = self.keypoint_loss(targets, dense, keypoint_logits)
        if mask_logits is not None:
            losses["mask"] = self.mask_loss(targets, dense, mask_logits)
        return {k: v * self._loss_weights[k] for k, v in losses.items()}

    def training_rois(
        self, targets: Sequence[dict[str, torch.Tensor]], line_x: torch.Tensor, line_y: torch.Tensor
    ) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Jittered, extended ground-truth boxes of the labelled people, and their keypoints.

        Args:
            targets: the batch's target dicts (input pixels).
            line_x: `(B, h, w)` ground-truth horizontal center lines.
            line_y: `(B, h, w)` ground-truth vertical center lines.

        Returns:
            B ROI tensors `(N_i, 4)` in input pixels and their keypoints `(sum N_i, K, 3)`.
        """
        return self.sample_rois(
            targets, line_x, line_y, "keypoints", lambda kps: (kps[..., 2] > 0).any(-1)
        )

    def sample_rois(
        self,
        targets: Sequence[dict[str, torch.Tensor]],
        line_x: torch.Tensor,
        line_y: torch.Tensor,
        key: str,
        labelled: Callable[[torch.Tensor], torch.Tensor],
    ) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Training ROIs of the people whose ``targets[b][key]`` is labelled, and those labels.

        Each kept person's ground-truth box (non-empty, ``labelled(label)`` true, at most
        ``max_rois_per_image`` per image) is jittered like a detection and extended by
        ``box_extension`` on the ground-truth center lines.

        Args:
            targets: the batch's target dicts (input pixels).
            line_x: `(B, h, w)` ground-truth horizontal center lines.
            line_y: `(B, h, w)` ground-truth vertical center lines.
            key: the per-person label (``"keypoints"`` `(N, K, 3)`, ``"masks"`` `(N, H, W)`).
            labelled: maps the `(N, ...)` labels of an image to an `(N,)` bool of the people
                that carry a label.

        Returns:
            B ROI tensors `(N_i, 4)` in input pixels and the kept labels `(sum N_i, ...)`.
        """
        kept, labels = [], []
        s = float(self._stride)
        device = line_x.device
        for t in targets:
            label = t[key].to(device=device, dtype=torch.float32)
            boxes = t["boxes"].to(device=device, dtype=torch.float32)
            keep = labelled(label) & (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
            kept.append(boxes[keep][: self._max_rois])
            labels.append(label[keep][: self._max_rois])
        # the batch's boxes jittered in one draw and extended in one call, each image's in
        # a row of zero-padded slots (a zero-size box extends to itself)
        counts = [len(b) for b in kept]
        jittered = jitter_boxes(torch.cat(kept), *self._jitter).split(counts)
        slots = line_x.new_zeros(len(kept), max(counts, default=0), 4)
        for b, boxes in enumerate(jittered):
            slots[b, : len(boxes)] = boxes
        extended = self.box_extension(slots / s, line_x, line_y) * s
        rois = [extended[b, :n] for b, n in enumerate(counts)]
        return rois, torch.cat(labels)

    def keypoint_loss(
        self,
        targets: Sequence[dict[str, torch.Tensor]],
        dense: dict[str, torch.Tensor],
        keypoint_logits: KeypointLogits,
    ) -> torch.Tensor:
        """Focal loss of the ROI keypoint heatmaps, averaged over the cascade stages."""
        rois, keypoints = self.training_rois(targets, dense["line_x"][:, 0], dense["line_y"][:, 0])
        stages = keypoint_logits(rois)
        if keypoints.shape[0] == 0:  # no labelled person in the batch: keep the graph alive
            return sum(s.sum() for s in stages) * 0.0
        heat_size = tuple(stages[-1].shape[-2:])
        gt, weight = roi_keypoint_targets(keypoints, torch.cat(rois), heat_size, sigma=self._sigma)
        # unlabelled keypoints weigh 0: no boolean indexing, so no host synchronisation
        weight = weight[..., None, None]
        losses = [focal_loss(s.float().sigmoid(), gt, weight=weight) for s in stages]
        return sum(losses) / len(losses)

    def mask_loss(
        self,
        targets: Sequence[dict[str, torch.Tensor]],
        dense: dict[str, torch.Tensor],
        mask_logits: KeypointLogits,
    ) -> torch.Tensor:
        """BCE (plus Dice) of the ROI mask logits, averaged over the cascade stages."""
        if any("masks" not in t for t in targets):
            raise ValueError(
                "the mask loss needs 'masks' (N, H, W) in every target: load the data with "
                "CocoKeypoints(..., with_masks=True)"
            )
        rois, masks = self.sample_rois(
            targets, dense["line_x"][:, 0], dense["line_y"][:, 0], "masks",
            lambda m: m.flatten(1).any(1),
        )  # fmt: skip
        stages = mask_logits(rois)
        if masks.shape[0] == 0:  # no person with a mask in the batch: keep the graph alive
            return sum(s.sum() for s in stages) * 0.0
        gt = roi_mask_targets(masks, torch.cat(rois), tuple(stages[-1].shape[-2:]))
        losses = [mask_loss(s[:, 0], gt, dice=self._mask_dice) for s in stages]
        return sum(losses) / len(losses)

    def extra_repr(self) -> str:
        return (
            f"loss_weights={self._loss_weights}, jitter={self._jitter}, "
            f"max_rois_per_image={self._max_rois}, keypoint_sigma={self._sigma}"
        )
