"""FeatureInfo: channels and strides per level, read from a backbone, with timm's accessors."""

from __future__ import annotations

import pytest
from torch import nn

from cgalib import FeatureInfo


def test_feature_info_has_timms_accessors():
    info = FeatureInfo([8, 12], [4, 8])
    assert info.channels() == [8, 12] and info.reduction() == [4, 8]
    assert info.channels(1) == 12 and info.reduction(0) == 4
    assert info.get_dicts(keys=["num_chs"]) == [{"num_chs": 8}, {"num_chs": 12}]
    assert len(info) == 2 and list(info)[1] == {"level": 1, "num_chs": 12, "reduction": 8}
    with pytest.raises(ValueError, match="one stride per level"):
        FeatureInfo([8, 12], [4])
    with pytest.raises(ValueError, match="has no feature_info"):
        FeatureInfo.of(nn.Identity())
