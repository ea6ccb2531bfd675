"""Feature metadata of a multi-level backbone, after timm's ``FeatureInfo``."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FeatureInfo"]


@dataclass(frozen=True)
class FeatureInfo:
    """Channels and stride of each output level of a backbone, so heads are sized from it.

    Args:
        channels: channels of each level, finest first.
        strides: stride of each level relative to the input, finest first.

    Examples:
        >>> info = FeatureInfo(channels=(96, 192), strides=(4, 8))
        >>> info[1]
        {'level': 1, 'num_chs': 192, 'reduction': 8}
    """

    channels: tuple[int, ...]
    strides: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.channels) != len(self.strides):
            raise ValueError("FeatureInfo needs one stride per level")

    def __len__(self) -> int:
        return len(self.channels)

    def __getitem__(self, level: int) -> dict[str, int]:
        return {"level": level, "num_chs": self.channels[level], "reduction": self.strides[level]}
