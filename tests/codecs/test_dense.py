import torch

from cgalib.codecs import build_targets, center_line_heatmaps, center_targets


def test_batch_matches_per_image_targets_at_the_output_stride():
    targets = [
        {"boxes": torch.tensor([[8.0, 4.0, 40.0, 60.0], [30.0, 10.0, 62.0, 50.0]])},
        {"boxes": torch.zeros(0, 4)},
        {"boxes": torch.tensor([[0.0, 0.0, 16.0, 32.0]])},
    ]
    dense = build_targets(targets, (64, 96), output_stride=4, max_objects=8)
    assert dense["heatmap"].shape == (3, 1, 16, 24)
    assert dense["wh"].shape == (3, 8, 2) and dense["index"].dtype == torch.int64
    for b, t in enumerate(targets):
        ref = center_targets(t["boxes"] / 4, (16, 24), max_objects=8)
        for k in ("heatmap", "wh", "offset", "index", "mask"):
            torch.testing.assert_close(dense[k][b], ref[k])
        m_x, m_y = center_line_heatmaps(t["boxes"] / 4, (16, 24))
        torch.testing.assert_close(dense["line_x"][b, 0], m_x)
        torch.testing.assert_close(dense["line_y"][b, 0], m_y)
    assert dense["mask"].sum(1).tolist() == [2, 0, 1]
    assert dense["heatmap"][1].abs().sum() == 0
    # the first box: 32x56 px -> 8x14 heatmap px, its center (24, 32) px -> (6, 8)
    assert dense["heatmap"][0, 0, 8, 6] == 1.0
    torch.testing.assert_close(dense["wh"][0, 0], torch.tensor([8.0, 14.0]))
