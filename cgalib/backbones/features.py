"""Feature metadata of a multi-level backbone, with the accessors of timm's ``FeatureInfo``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from torch import nn

__all__ = ["FeatureInfo"]


class FeatureInfo:
    """Channels and stride of each output level of a backbone, so heads are sized from it.

    The accessors are timm's: ``channels()`` and ``reduction()`` (all levels as a list, or
    one level with ``idx``), ``get_dicts()``, indexing and ``len()``; so a head written
    against cgalib's metadata also reads a timm ``features_only`` model's
    ``feature_info``, and [`of()`][of] turns a timm-style list of dicts into this class.

    Args:
        channels: channels of each level, finest first.
        strides: stride (timm: ``reduction``) of each level relative to the input, finest
            first.

    Examples:
        >>> info = FeatureInfo(channels=(96, 192), strides=(4, 8))
        >>> info.channels(), info.reduction(1), info[1]
        ([96, 192], 8, {'level': 1, 'num_chs': 192, 'reduction': 8})
    """

    def __init__(self, channels: Sequence[int], strides: Sequence[int]) -> None:
        if len(channels) != len(strides):
            raise ValueError(
                f"FeatureInfo needs one stride per level, got channels {tuple(channels)} and "
                f"strides {tuple(strides)}"
            )
        if any(int(c) <= 0 for c in channels) or any(int(s) <= 0 for s in strides):
            raise ValueError(f"channels and strides must be positive, got {channels}, {strides}")
        self._channels = tuple(int(c) for c in channels)
        self._strides = tuple(int(s) for s in strides)

    @classmethod
    def of(cls, backbone: nn.Module | Any) -> FeatureInfo:
        """The feature metadata of a backbone (its ``feature_info`` attribute).

        Accepts cgalib's [`FeatureInfo`][FeatureInfo], any object with timm's ``channels()`` and
        ``reduction()`` methods, or timm's plain list of ``{"num_chs", "reduction"}``
        dicts (what ``timm.create_model(...).feature_info`` holds).

        Raises:
            ValueError: if the backbone has no usable ``feature_info``.
        """
        info = getattr(backbone, "feature_info", None)
        if isinstance(info, FeatureInfo):
            return info
        try:
            if callable(getattr(info, "channels", None)):
                return cls(info.channels(), info.reduction())
            if isinstance(info, (list, tuple)) and info:
                return cls([d["num_chs"] for d in info], [d["reduction"] for d in info])
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"unusable feature_info on {type(backbone).__name__}: {err}") from err
        raise ValueError(
            f"{type(backbone).__name__} has no feature_info (channels and strides per level); "
            "a backbone must expose one, e.g. FeatureInfo(channels=(64, 128), strides=(4, 8))"
        )

    def channels(self, idx: int | None = None) -> list[int] | int:
        """Channels of every level (a list), or of level ``idx``."""
        return list(self._channels) if idx is None else self._channels[idx]

    def reduction(self, idx: int | None = None) -> list[int] | int:
        """Stride of every level relative to the input (a list), or of level ``idx``."""
        return list(self._strides) if idx is None else self._strides[idx]

    def get_dicts(self, keys: Sequence[str] | None = None) -> list[dict[str, int]]:
        """One dict per level (``level``, ``num_chs``, ``reduction``), or only ``keys``."""
        dicts = [self[i] for i in range(len(self))]
        return dicts if keys is None else [{k: d[k] for k in keys} for d in dicts]

    def __len__(self) -> int:
        return len(self._channels)

    def __getitem__(self, level: int) -> dict[str, int]:
        return {"level": level, "num_chs": self._channels[level], "reduction": self._strides[level]}

    def __iter__(self) -> Iterator[dict[str, int]]:
        return iter(self.get_dicts())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FeatureInfo):
            return NotImplemented
        return (self._channels, self._strides) == (other._channels, other._strides)

    def __hash__(self) -> int:
        return hash((self._channels, self._strides))

    def __repr__(self) -> str:
        return f"FeatureInfo(channels={self._channels}, strides={self._strides})"
