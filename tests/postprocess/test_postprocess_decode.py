import pytest
import torch

from cgalib.postprocess import decode_centers, heatmap_nms

from helpers import requires_cuda


def test_by_hand():
    heat = torch.zeros(1, 1, 10, 12)
    heat[0, 0, 2, 3] = 0.9
    heat[0, 0, 2, 4] = 0.8  # suppressed by its 0.9 neighbour
    heat[0, 0, 7, 9] = 0.6
    wh = torch.zeros(1, 2, 10, 12)
    offset = torch.zeros(1, 2, 10, 12)
    wh[0, :, 2, 3] = torch.tensor([4.0, 6.0])
    offset[0, :, 2, 3] = torch.tensor([0.25, 0.5])
    wh[0, :, 7, 9] = torch.tensor([2.0, 2.0])
    boxes, scores = decode_centers(heat, wh, offset, k=3)
    assert boxes.shape == (1, 3, 4) and scores.shape == (1, 3)
    torch.testing.assert_close(scores[0], torch.tensor([0.9, 0.6, 0.0]))
    # center (3.25, 2.5), size (4, 6)
    torch.testing.assert_close(boxes[0, 0], torch.tensor([1.25, -0.5, 5.25, 5.5]))
    torch.testing.assert_close(boxes[0, 1], torch.tensor([8.0, 6.0, 10.0, 8.0]))


def test_nms_keeps_only_local_maxima():
    heat = torch.rand(2, 1, 16, 16)
    kept = heatmap_nms(heat)
    for b in range(2):
        for y in range(16):
            for x in range(16):
                window = heat[b, 0, max(y - 1, 0) : y + 2, max(x - 1, 0) : x + 2]
                is_max = bool(heat[b, 0, y, x] == window.max())
                assert kept[b, 0, y, x] == (heat[b, 0, y, x] if is_max else 0)
    with pytest.raises(ValueError, match="odd"):
        heatmap_nms(heat, kernel=2)


def test_scores_sorted_and_batch_matches_single_images():
    heat, wh, offset = (
        torch.rand(3, 1, 12, 12),
        torch.rand(3, 2, 12, 12) * 5,
        torch.rand(3, 2, 12, 12),
    )
    boxes, scores = decode_centers(heat, wh, offset, k=10)
    assert (scores[:, :-1] >= scores[:, 1:]).all()
    for b in range(3):
        single = decode_centers(heat[b : b + 1], wh[b : b + 1], offset[b : b + 1], k=10)
        torch.testing.assert_close(single[0][0], boxes[b])
        torch.testing.assert_close(single[1][0], scores[b])
    w = boxes[..., 2] - boxes[..., 0]
    assert (w >= 0).all()


def test_k_larger_than_the_map():
    boxes, scores = decode_centers(
        torch.rand(2, 1, 3, 4), torch.ones(2, 2, 3, 4), torch.zeros(2, 2, 3, 4), k=100
    )
    assert boxes.shape == (2, 12, 4) and scores.shape == (2, 12)


def test_shape_errors():
    heat, wh = torch.rand(1, 1, 4, 4), torch.rand(1, 2, 4, 4)
    with pytest.raises(ValueError, match="heatmap"):
        decode_centers(torch.rand(1, 2, 4, 4), wh, wh)
    with pytest.raises(ValueError, match="offset"):
        decode_centers(heat, wh, torch.rand(1, 2, 4, 5))
    with pytest.raises(ValueError, match="k must"):
        decode_centers(heat, wh, wh, k=0)


@requires_cuda
def test_cpu_cuda_parity():
    heat, wh, off = torch.rand(2, 1, 32, 32), torch.rand(2, 2, 32, 32) * 8, torch.rand(2, 2, 32, 32)
    cpu = decode_centers(heat, wh, off, k=20)
    gpu = decode_centers(heat.cuda(), wh.cuda(), off.cuda(), k=20)
    for a, b in zip(cpu, gpu):
        torch.testing.assert_close(b.cpu(), a)


def test_negative_sizes_give_degenerate_not_inverted_boxes():
    heat = torch.zeros(1, 1, 4, 4)
    heat[0, 0, 1, 1] = 1.0
    wh = torch.full((1, 2, 4, 4), -3.0)
    boxes, _ = decode_centers(heat, wh, torch.zeros(1, 2, 4, 4), k=1)
    assert boxes[0, 0].tolist() == [1.0, 1.0, 1.0, 1.0]
