"""The peers CGANet is measured against, built from torchvision and timm (random weights).

torchvision and timm are optional: each builder returns ``None`` and appends the reason to
``skipped`` when its package is missing, so the benchmark skips that row and goes on.

- Keypoint R-CNN: torchvision's ``keypointrcnn_resnet50_fpn`` at ``min_size=512`` with
  ``box_score_thresh=0`` and ``box_detections_per_img=20``, so that its keypoint head always
  runs on 20 boxes, like CGANet's maxDets=20.
- SimpleBaseline-R50 (Xiao et al. 2018): torchvision's ResNet-50 trunk, three 4x4 stride-2
  deconvolutions with BN and ReLU, a 1x1 convolution to 17 heatmaps.
- HRNet-W32 (Sun et al. 2019): timm's ``hrnet_w32`` stride-4 branch and a 1x1 convolution.

Both top-down peers train with the MSE heatmap loss of their papers.
"""

from __future__ import annotations

import importlib
import importlib.util

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "HRNET",
    "KEYPOINT_RCNN",
    "NUM_KEYPOINTS",
    "PEER_PACKAGES",
    "SIMPLE_BASELINE",
    "TRAINING_PEERS",
    "FeatureHead",
    "SimpleBaseline",
    "hrnet_w32",
    "keypoint_rcnn",
    "mse_heatmap_loss",
    "simple_baseline_r50",
    "unavailable",
]

KEYPOINT_RCNN = "keypointrcnn_resnet50_fpn"
SIMPLE_BASELINE = "simplebaseline_r50"
HRNET = "hrnet_w32"
NUM_KEYPOINTS = 17
#: The package each top-down peer needs and how its rows are named in a skip message.
PEER_PACKAGES = {
    SIMPLE_BASELINE: ("torchvision", "SimpleBaseline-R50"),
    HRNET: ("timm", "HRNet-W32"),
}


def unavailable(module: str, rows: str) -> str | None:
    """Why ``module`` cannot serve the peer ``rows``, or ``None`` when it imports.

    A missing package and one that fails to load (e.g. a torchvision built for another
    torch) both give a one-line reason that names the rows skipped.
    """
    if importlib.util.find_spec(module) is None:
        return f"{module} is not installed: {rows} skipped (pip install {module})"
    try:
        importlib.import_module(module)
    except Exception as err:  # a broken build: report it, do not crash the run
        first = f"{type(err).__name__}: {err}".splitlines()[0]
        return f"{module} does not load beside torch {torch.__version__} ({first}): {rows} skipped"
    return None


def keypoint_rcnn(skipped: list[str]) -> nn.Module | None:
    """torchvision's Keypoint R-CNN as benchmarked, or ``None`` with a reason in ``skipped``."""
    why = unavailable("torchvision", "Keypoint R-CNN")
    if why:
        skipped.append(why)
        return None
    from torchvision.models.detection import keypointrcnn_resnet50_fpn

    return keypointrcnn_resnet50_fpn(
        weights=None,
        weights_backbone=None,
        min_size=512,
        box_score_thresh=0.0,
        box_detections_per_img=20,
    )


class SimpleBaseline(nn.Module):
    """Xiao et al. 2018: a ResNet trunk, three 4x4 stride-2 deconvolutions, a 1x1 head.

    Args:
        trunk: a stride-32 feature extractor.
        trunk_channels: its output channels.
        num_keypoints: heatmaps out (K).

    Shape:
        - x: `(B, 3, H, W)`
        - output: `(B, K, H / 4, W / 4)`
    """

    def __init__(self, trunk: nn.Module, trunk_channels: int, num_keypoints: int) -> None:
        super().__init__()
        self.trunk = trunk
        layers: list[nn.Module] = []
        channels = trunk_channels
        for _ in range(3):
            layers += [
                nn.ConvTranspose2d(channels, 256, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(256),
                nn.ReLU(inplace=True),
            ]
            channels = 256
        self.deconv = nn.Sequential(*layers)
        self.head = nn.Conv2d(256, num_keypoints, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.deconv(self.trunk(x)))


class FeatureHead(nn.Module):
    """A feature extractor's stride-4 map and a 1x1 convolution to keypoint heatmaps.

    Args:
        features: returns a list of feature maps.
        level: the index of the stride-4 map in that list.
        channels: its channels.
        num_keypoints: heatmaps out (K).

    Shape:
        - x: `(B, 3, H, W)`
        - output: `(B, K, H / 4, W / 4)`
    """

    def __init__(self, features: nn.Module, level: int, channels: int, num_keypoints: int):
        super().__init__()
        self.features, self.level = features, level
        self.head = nn.Conv2d(channels, num_keypoints, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)[self.level])


def simple_baseline_r50(skipped: list[str]) -> nn.Module | None:
    """SimpleBaseline-R50 (random weights), or ``None`` with a reason in ``skipped``."""
    why = unavailable("torchvision", PEER_PACKAGES[SIMPLE_BASELINE][1])
    if why:
        skipped.append(why)
        return None
    from torchvision.models import resnet50

    resnet = resnet50(weights=None)
    trunk = nn.Sequential(*list(resnet.children())[:-2])  # up to layer4, stride 32
    return SimpleBaseline(trunk, resnet.fc.in_features, NUM_KEYPOINTS)


def hrnet_w32(skipped: list[str]) -> nn.Module | None:
    """HRNet-W32's stride-4 branch and a 1x1 head, or ``None`` with a reason in ``skipped``."""
    why = unavailable("timm", PEER_PACKAGES[HRNET][1])
    if why:
        skipped.append(why)
        return None
    import timm

    try:  # the plain HRNet branches (32 channels at stride 4), as in the pose HRNet
        features = timm.create_model(
            "hrnet_w32", features_only=True, pretrained=False, feature_location=""
        )
    except (TypeError, AssertionError):  # older timm: the classification "incre" features
        features = timm.create_model("hrnet_w32", features_only=True, pretrained=False)
    reductions = list(features.feature_info.reduction())
    level = reductions.index(4)
    return FeatureHead(features, level, features.feature_info.channels()[level], NUM_KEYPOINTS)


#: The peers of part 2 by name (a builder returns ``None`` when its package is missing).
TRAINING_PEERS = {SIMPLE_BASELINE: simple_baseline_r50, HRNET: hrnet_w32}


def mse_heatmap_loss(logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor):
    """SimpleBaseline/HRNet's JointsMSELoss: 0.5 * mean squared error of weighted maps.

    Shape:
        - logits, target: `(B, K, H, W)`
        - weight: `(B, K)`, 0 for unlabelled keypoints
    """
    w = weight[..., None, None]
    return 0.5 * F.mse_loss(logits.float() * w, target * w)
