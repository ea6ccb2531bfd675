"""stable_topk: the k largest, ties in index order; topk inside an ONNX export."""

from __future__ import annotations

import pytest
import torch

from cgalib.utils import stable_topk


def test_ties_come_in_index_order_where_topk_reorders_them():
    values = torch.zeros(2, 40)
    values[:, ::5] = 1.0
    top, index = stable_topk(values, 12)
    assert index[0].tolist() == [0, 5, 10, 15, 20, 25, 30, 35, 1, 2, 3, 4]
    assert torch.equal(index[0], index[1]) and top[0, :8].eq(1).all() and top[0, 8:].eq(0).all()


@pytest.mark.parametrize("seed", range(3))
def test_the_values_are_those_of_topk(seed):
    values = torch.randn(3, 50, generator=torch.Generator().manual_seed(seed))
    top, index = stable_topk(values, 7)
    torch.testing.assert_close(top, values.topk(7).values)
    torch.testing.assert_close(values.gather(-1, index), top)
