"""benchmarks/speed_gpu.py runs as a CPU smoke test; its peer rows run with stand-ins.

torchvision and timm are optional: without them the script skips the peers' rows, and the
report logic is exercised here with small stand-in peers instead.
"""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SCRIPT = BENCHMARKS / "speed_gpu.py"


@pytest.fixture
def speed_gpu(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # as when run as a script: finds _timing
    spec = importlib.util.spec_from_file_location("speed_gpu", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def test_quick_cpu_run_writes_the_tables_and_json(tmp_path):
    out = tmp_path / "speed_gpu.json"
    cmd = [sys.executable, str(SCRIPT), "--device", "cpu", "--quick", "--threads", "1"]
    proc = subprocess.run(
        [*cmd, "--out", str(out)], capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "| cganet_tnet_d1w64 | fp32 | eager |" in proc.stdout
    assert "| topdown_tnet_d3w64 | fp32 |" in proc.stdout
    result = json.loads(out.read_text())
    assert result["quick"] is True
    models = {r["model"] for r in result["inference"]["rows"]}
    assert {"cganet_tnet_d1w64", "cganet_tnet_d1w64_cascade"} <= models
    for row in result["inference"]["rows"]:
        assert row["fps"] > 0
        if row["model"].startswith("cganet"):
            assert 0 <= row["post_share"] <= 1 and 0 <= row["post_dense_share"] <= 1
    trained = {r["model"] for r in result["training"]["rows"]}
    assert {"topdown_tnet_d3w64", "topdown_tnet_d3w96"} <= trained
    assert all(r["samples_per_s"] > 0 for r in result["training"]["rows"])
    if not _installed("torchvision"):
        assert any("torchvision is not installed" in s for s in result["skipped"])
    if not _installed("timm"):
        assert any("timm is not installed" in s for s in result["skipped"])


class _FakeKeypointRCNN(nn.Module):
    """Keypoint R-CNN's calling convention: a list of images in, a list of dicts out."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, images):
        return [{"keypoints": self.conv(img[None]).mean().expand(20, 17, 3)} for img in images]


class _FakeFeatures(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 12, 4, stride=4)

    def forward(self, x):
        return [x[:, :2, ::2, ::2], self.conv(x)]


def test_peer_rows_ratios_and_targets_with_stand_ins(speed_gpu, monkeypatch):
    monkeypatch.setattr(speed_gpu, "_keypoint_rcnn", lambda skipped: _FakeKeypointRCNN())
    monkeypatch.setattr(
        speed_gpu,
        "simple_baseline_r50",
        lambda skipped: speed_gpu.SimpleBaseline(nn.Conv2d(3, 8, 32, stride=32), 8, 17),
    )
    monkeypatch.setattr(
        speed_gpu, "hrnet_w32", lambda skipped: speed_gpu.FeatureHead(_FakeFeatures(), 1, 12, 17)
    )
    args = speed_gpu.parse_args(
        ["--device", "cpu", "--quick", "--models", "cganet_tnet_d1w16"]
        + ["--topdown-models", "topdown_tnet_d3w64"]
    )
    device = torch.device("cpu")
    skipped = []
    inference = speed_gpu.inference_rows(args, device, skipped)
    training = speed_gpu.training_rows(args, device, skipped)
    assert skipped == []
    assert [r["model"] for r in inference] == ["keypointrcnn_resnet50_fpn", "cganet_tnet_d1w16"]
    ref, ours = inference
    assert ref["ratio_to_keypoint_rcnn"] == pytest.approx(1.0)
    assert ours["ratio_to_keypoint_rcnn"] == pytest.approx(ref["seconds"] / ours["seconds"])
    assert [r["model"] for r in training] == [
        "topdown_tnet_d3w64",
        "simplebaseline_r50",
        "hrnet_w32",
    ]
    simple = training[1]
    assert simple["samples_vs_simple_baseline"] == pytest.approx(1.0)
    assert training[0]["samples_vs_simple_baseline"] == pytest.approx(
        training[0]["samples_per_s"] / simple["samples_per_s"]
    )
    assert training[0]["memory_vs_simple_baseline"] is None  # no peak memory on the CPU
    checks = speed_gpu.target_checks(inference, training)
    # the fps targets are about cganet_tnet_d1w64 (not in this run); the top-down ones:
    assert [c["target"] for c in checks] == [">= 1.2", "<= 0.85"]
    assert checks[0]["met"] == (checks[0]["ratio"] >= 1.2) and checks[1]["met"] is None


def test_peer_heads_give_stride_4_heatmaps(speed_gpu):
    simple = speed_gpu.SimpleBaseline(nn.Conv2d(3, 8, 32, stride=32), 8, 17)
    assert simple(torch.rand(2, 3, 256, 192)).shape == (2, 17, 64, 48)
    hrnet = speed_gpu.FeatureHead(_FakeFeatures(), 1, 12, 17)
    assert hrnet(torch.rand(2, 3, 256, 192)).shape == (2, 17, 64, 48)


@pytest.mark.skipif(not _installed("torchvision"), reason="needs torchvision")
def test_real_simple_baseline_shapes(speed_gpu):
    model = speed_gpu.simple_baseline_r50([])
    assert model(torch.rand(1, 3, 256, 192)).shape == (1, 17, 64, 48)


@pytest.mark.skipif(not _installed("timm"), reason="needs timm")
def test_real_hrnet_shapes(speed_gpu):
    model = speed_gpu.hrnet_w32([])
    assert model(torch.rand(1, 3, 256, 192)).shape == (1, 17, 64, 48)
