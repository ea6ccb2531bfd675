"""roi_sizes_for_input and RoiHead, the base every per-box head shares: ROI sizes from the
input size, input checks, the zero-box case, the output size."""

from __future__ import annotations

import pytest

from cgalib.heads.roi_head import roi_sizes_for_input


def test_roi_sizes_for_input():
    assert roi_sizes_for_input((640, 384)) == ((40, 24), (20, 12), (10, 6))
    with pytest.raises(ValueError, match="multiples of 64"):
        roi_sizes_for_input(500)
