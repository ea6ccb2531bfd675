"""CGANet's post-processing: the flip test's average of the dense outputs."""

from __future__ import annotations

import torch

from cgalib.postprocess import average_flipped_outputs


def test_flip_test_averages_with_the_mirrored_pass():
    a = {
        k: torch.randn(1, c, 4, 6)
        for k, c in (("heatmap", 1), ("line_x", 1), ("line_y", 1), ("wh", 2), ("offset", 2))
    }
    mirrored = {k: v.flip(-1) for k, v in a.items()}
    avg = average_flipped_outputs(a, mirrored)
    for k in ("heatmap", "line_x", "line_y", "wh"):
        torch.testing.assert_close(avg[k], a[k], atol=1e-4, rtol=1e-4)
    assert avg["offset"] is a["offset"]
