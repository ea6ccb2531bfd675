"""Training losses: the focal loss (paper eq. 8), the center-line loss (eq. 3), the L1 loss of
the size and offset maps (CenterNet), the per-box mask loss (BCE, Dice) and CGANet's whole objective (eq. 9)."""

from cgalib.losses.center_line import CenterLineLoss, center_line_loss
from cgalib.losses.criterion import LOSS_WEIGHTS, CGANetCriterion, jitter_boxes
from cgalib.losses.focal import FocalLoss, focal_loss
from cgalib.losses.mask import MaskLoss, mask_loss
from cgalib.losses.reg_l1 import RegL1Loss, reg_l1_loss

__all__ = [
    "LOSS_WEIGHTS",
    "CGANetCriterion",
    "CenterLineLoss",
    "FocalLoss",
    "MaskLoss",
    "RegL1Loss",
    "center_line_loss",
    "focal_loss",
    "jitter_boxes",
    "mask_loss",
    "reg_l1_loss",
]
