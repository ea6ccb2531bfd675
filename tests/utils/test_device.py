import pytest
import torch

from cgalib.utils import resolve_device


def test_default_and_cpu():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device(None).type == expected
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks a machine without CUDA")
def test_cuda_without_cuda_is_one_clear_error():
    with pytest.raises(ValueError, match=r"device 'cuda:1' needs CUDA.*use 'cpu'"):
        resolve_device("cuda:1")


def test_cuda_index_past_the_last_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(ValueError, match=r"has 2 CUDA GPU\(s\), cuda:0..cuda:1"):
        resolve_device("cuda:2")


@pytest.mark.parametrize("name", ["gpu", "cuda:x", "meta"])
def test_unknown_devices(name):
    with pytest.raises(ValueError, match="use 'cpu', 'cuda', 'cuda:N' or 'mps'"):
        resolve_device(name)
