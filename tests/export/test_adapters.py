"""The tensor adapters return exactly what the model returns, as tuples of tensors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cgalib import create_model
from cgalib.export import DenseOutputs, EndToEnd


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return create_model("cganet_tnet_d1w16", input_size=128).eval()


def test_end_to_end_equals_forward(model):
    images = torch.rand(2, 3, 128, 128)
    with torch.no_grad():
        adapter = EndToEnd(model)
        got = dict(zip(adapter.output_names, adapter(images)))
        want = model(images)
    for b, det in enumerate(want):
        assert det.keys() == got.keys()
        for name, value in det.items():
            torch.testing.assert_close(got[name][b], value, rtol=0, atol=0)


def test_dense_equals_forward_dense(model):
    images = torch.rand(1, 3, 96, 128)
    with torch.no_grad():
        got = DenseOutputs(model)(images)
        _, want = model.forward_dense(images)
    assert len(got) == len(DenseOutputs.output_names) == len(want)
    for name, value in zip(DenseOutputs.output_names, got):
        torch.testing.assert_close(value, want[name], rtol=0, atol=0)


def test_adapters_share_the_weights(model):
    adapter = EndToEnd(model)
    assert adapter.model is model
    assert sum(p.numel() for p in adapter.parameters()) == sum(
        p.numel() for p in model.parameters()
    )


@pytest.mark.parametrize(
    ("adapter", "message"),
    [(EndToEnd, "EndToEnd needs a pose model"), (DenseOutputs, "wraps a model with dense outputs")],
)
def test_adapters_refuse_other_modules(adapter, message):
    with pytest.raises(TypeError, match=message):
        adapter(nn.Conv2d(3, 3, 1))


def test_end_to_end_of_a_top_down_model_equals_its_forward():
    model = create_model("topdown_tnet_d1w16").eval()
    crops = torch.rand(3, 3, 128, 96)
    adapter = EndToEnd(model)
    with torch.no_grad():
        (got,) = adapter(crops)
        want = model(crops)
    assert adapter.output_names == ("keypoints",)
    torch.testing.assert_close(got, want, rtol=0, atol=0)
