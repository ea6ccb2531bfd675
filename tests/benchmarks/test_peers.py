"""benchmarks/peers.py: the CPU smoke run, the peers' rows with stand-ins, targets, docs.

torchvision and timm are optional: without them the script skips the peers' rows, and the
ratio, target and report logic is exercised here with stand-in peers and made-up rows.
"""

import importlib.util
import json
import mmap
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "benchmarks"
SCRIPT = BENCHMARKS / "peers.py"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def peers(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # as when run as a script: finds _timing
    return _load("peers")


@pytest.fixture
def memory(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    return _load("_memory")


@pytest.fixture
def zoo(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    return _load("_peer_models")


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def _run(*args: str, timeout: int = 240) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))  # this worktree's cgalib
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def test_quick_cpu_run_writes_the_tables_and_json(tmp_path):
    out = tmp_path / "peers.json"
    proc = _run(
        *["--device", "cpu", "--quick", "--threads", "1", "--out", str(out)],
        *["--models", "cganet_tnet_d1w16", "--topdown-models", "topdown_tnet_d3w64"],
        *["--size", "64", "--image", "60", "80", "--warmup", "0", "--iters", "1"],
        *["--crop", "64", "32", "--train-warmup", "0", "--train-iters", "1"],
    )
    assert proc.returncode == 0, proc.stderr
    assert "| cganet_tnet_d1w16 | fp32 eager |" in proc.stdout
    assert "| topdown_tnet_d3w64 | fp32 |" in proc.stdout
    assert "peak RSS increase, VmHWM reset by clear_refs" in proc.stdout
    assert "quick smoke test, not a measurement" in proc.stdout
    result = json.loads(out.read_text())
    assert result["quick"] is True and result["device"] == "cpu"
    assert result["environment"]["threads"] == 1
    assert "--quick" in result["environment"]["command"]
    (row,) = [r for r in result["inference"]["rows"] if r["model"] == "cganet_tnet_d1w16"]
    assert row["fps"] > 0 and row["gmacs"] > 0 and 0 <= row["post_share"] <= 1
    (trained,) = [r for r in result["training"]["rows"] if r["model"] == "topdown_tnet_d3w64"]
    assert trained["samples_per_s"] > 0 and trained["params_m"] == pytest.approx(24.3, abs=0.1)
    # at least its fp32 weights: 24.3M x 4 bytes = 93 MiB (gradients and Adam come on top)
    assert trained["peak_memory_mib"] > 93
    assert result["errors"] == []
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


def _fake_training_row(name, samples, memory):
    return {
        "model": name,
        "precision": "fp32",
        "params_m": 1.0,
        "gmacs": 1.0,
        "samples_per_s": samples,
        "peak_memory_mib": memory,
        "memory_measure": "peak RSS increase, VmHWM reset by clear_refs",
    }


def test_inference_rows_with_a_stand_in_keypoint_rcnn(peers, monkeypatch):
    monkeypatch.setattr(peers, "keypoint_rcnn", lambda skipped: _FakeKeypointRCNN())
    args = peers.parse_args(
        ["--device", "cpu", "--quick", "--models", "cganet_tnet_d1w16", "--size", "64"]
        + ["--image", "60", "80", "--warmup", "0", "--iters", "1"]
    )
    skipped, errors = [], []
    rows = peers.inference_rows(args, torch.device("cpu"), skipped, errors)
    assert skipped == [] and errors == []
    assert [r["model"] for r in rows] == ["keypointrcnn_resnet50_fpn", "cganet_tnet_d1w16"]
    ref, ours = rows
    assert ref["ratio_to_keypoint_rcnn"] == pytest.approx(1.0)
    assert ours["ratio_to_keypoint_rcnn"] == pytest.approx(ref["seconds"] / ours["seconds"])
    assert ref["gmacs"] > 0 and ours["gmacs"] > 0  # count_macs takes the list input too


def test_training_rows_keep_the_others_when_one_fails(peers, monkeypatch):
    """A failing peer is skipped, a failing model of ours is an error; ratios still come."""
    monkeypatch.setattr(peers, "unavailable", lambda module, rows: None)

    def measure(name, args, precision):
        if name == "hrnet_w32":
            raise RuntimeError("training subprocess failed: out of memory\n(more)")
        if name == "topdown_tnet_d3w96":
            raise RuntimeError("training subprocess failed: ValueError: bad")
        return _fake_training_row(name, {"simplebaseline_r50": 4.0}.get(name, 5.0), 1000.0)

    args = peers.parse_args(["--device", "cpu"])
    skipped, errors = [], []
    rows = peers.training_rows(args, skipped, errors, measure=measure)
    assert [r["model"] for r in rows] == ["topdown_tnet_d3w64", "simplebaseline_r50"]
    failed = "fp32 training: RuntimeError: training subprocess failed:"
    assert skipped == [f"hrnet_w32 {failed} out of memory"]  # its first line only
    assert errors == [f"topdown_tnet_d3w96 {failed} ValueError: bad"]
    assert rows[0]["samples_vs_simple_baseline"] == pytest.approx(1.25)
    assert rows[0]["memory_vs_simple_baseline"] == pytest.approx(1.0)


def test_missing_peer_packages_skip_without_a_subprocess(peers, monkeypatch):
    monkeypatch.setattr(peers, "unavailable", lambda module, rows: f"{module} is not installed")
    calls = []
    args = peers.parse_args(["--device", "cpu", "--topdown-models", "topdown_tnet_d3w64"])
    skipped = []
    peers.training_rows(
        args,
        skipped,
        [],
        measure=lambda name, *a: calls.append(name) or _fake_training_row(name, 1, 1),
    )
    assert calls == ["topdown_tnet_d3w64"]
    assert skipped == ["torchvision is not installed", "timm is not installed"]


def test_measure_training_in_process_with_a_stand_in_peer(peers, zoo, monkeypatch):
    stand_in = dict(peers.TRAINING_PEERS)
    stand_in["simplebaseline_r50"] = lambda skipped: zoo.SimpleBaseline(
        nn.Conv2d(3, 8, 32, stride=32), 8, 17
    )
    monkeypatch.setattr(peers, "TRAINING_PEERS", stand_in)
    cpu = torch.device("cpu")
    row = peers.measure_training("simplebaseline_r50", cpu, "fp32", (64, 32), 2, 0, 1)
    assert row["model"] == "simplebaseline_r50" and row["samples_per_s"] > 0
    assert row["gmacs"] > 0 and row["peak_memory_mib"] >= 0
    assert row["memory_measure"] == "peak RSS increase, VmHWM reset by clear_refs"


def test_the_cpu_targets(peers):
    inference = [
        {"model": "cganet_tnet_d1w64", "path": "eager", "precision": "fp32", "params_m": 20.42}
        | {"ratio_to_keypoint_rcnn": 4.5, "post_share": 0.12, "fps": 2.0},
        {"model": "cganet_tnet_d1w64", "path": "eager", "precision": "bf16", "params_m": 20.42}
        | {"ratio_to_keypoint_rcnn": 7.0, "post_share": 0.08, "fps": 4.2},
        {"model": "cganet_tnet_d1w64_cascade", "path": "eager", "precision": "fp32"}
        | {"params_m": 29.0, "ratio_to_keypoint_rcnn": 2.0, "post_share": 0.05},
    ]
    training = [_fake_training_row("topdown_tnet_d3w64", 5.0, 800.0)]
    training[0] |= {"params_m": 24.32}
    training.append(_fake_training_row("hrnet_w32", 4.0, 1000.0))  # 1.25x, 0.8x: over 0.75
    checks = peers.target_checks(peers.TARGETS["cpu"], inference, training)
    table = {c["what"]: (c["target"], c["met"]) for c in checks}
    assert table == {
        "cganet_tnet_d1w64 eager fp32 fps / Keypoint R-CNN fp32 fps": (">= 4", True),
        "cganet_tnet_d1w64_cascade eager fp32 fps / Keypoint R-CNN fp32 fps": (">= 3", False),
        "cganet_tnet_d1w64 eager bf16 fps / Keypoint R-CNN bf16 fps": (">= 4", True),
        "cganet_tnet_d1w64 fp32 post-processing share of the time": ("<= 0.1", False),
        "cganet_tnet_d1w64 bf16 post-processing share of the time": ("<= 0.1", True),
        "cganet_tnet_d1w64_cascade fp32 post-processing share of the time": ("<= 0.1", True),
        "cganet_tnet_d1w64 eager bf16 fps / fp32 fps": (">= 2", True),  # 4.2 / 2.0
        "topdown_tnet_d3w64 fp32 samples/s / HRNet-W32": (">= 1.25", True),
        "topdown_tnet_d3w64 fp32 peak memory / HRNet-W32": ("<= 0.75", False),
        "cganet_tnet_d1w64 parameters / paper's 20.2M": ("0.95–1.05", True),
        "cganet_tnet_d1w64_cascade parameters / paper's 26.9M": ("0.95–1.05", False),
        "topdown_tnet_d3w64 parameters / paper's 24.7M": ("0.95–1.05", True),
    }


def test_the_gpu_targets(peers):
    inference = [
        {"model": "cganet_tnet_d1w64", "path": "eager", "precision": "fp32", "fps": 30.0}
        | {"ratio_to_keypoint_rcnn": 3.5, "ratio_to_keypoint_rcnn_fp32": 3.5},
        {"model": "cganet_tnet_d1w64", "path": "cuda_graphs", "precision": "bf16", "fps": 90.0}
        | {"ratio_to_keypoint_rcnn": 7.0, "ratio_to_keypoint_rcnn_fp32": 10.5},
    ]
    checks = peers.target_checks(peers.TARGETS["cuda"], inference, [])
    assert [(c["target"], c["met"]) for c in checks] == [(">= 3", True), (">= 10", True)]
    assert "best fast path (cuda_graphs, bf16)" in checks[1]["what"]


def _resident(mib: int) -> mmap.mmap:
    """``mib`` MiB of fresh pages, every page written (so resident), outside malloc's reuse."""
    block = mmap.mmap(-1, mib * 2**20)
    for offset in range(0, len(block), mmap.PAGESIZE):
        block[offset] = 1
    return block


def test_peak_rss_counts_from_construction_not_from_earlier_peaks(memory):
    _resident(256).close()  # a peak before the measurement starts
    peak = memory.PeakRSS()
    assert peak.method == "VmHWM reset by clear_refs"  # Linux, as on every machine here
    block = _resident(64)
    assert 60 < peak.increase_mib() < 200
    block.close()


@pytest.mark.parametrize(
    ("loads", "warned"), [([2.3, 2.4], False), ([2.1, 6.8], True), ([None], False), ([], False)]
)
def test_a_loaded_machine_is_flagged_in_the_report(peers, loads, warned):
    env = {"threads": 2, "load_during": loads}
    warning = peers.shared_machine_warning(env)
    assert (warning is not None) == warned
    if warned:
        assert "load average reached 6.8" in warning and "not a clean measurement" in warning


def test_peer_heads_give_stride_4_heatmaps(zoo):
    simple = zoo.SimpleBaseline(nn.Conv2d(3, 8, 32, stride=32), 8, 17)
    assert simple(torch.rand(2, 3, 256, 192)).shape == (2, 17, 64, 48)
    hrnet = zoo.FeatureHead(_FakeFeatures(), 1, 12, 17)
    assert hrnet(torch.rand(2, 3, 256, 192)).shape == (2, 17, 64, 48)


@pytest.mark.skipif(not _installed("torchvision"), reason="needs torchvision")
def test_real_simple_baseline_shapes(zoo):
    model = zoo.simple_baseline_r50([])
    assert model(torch.rand(1, 3, 256, 192)).shape == (1, 17, 64, 48)


@pytest.mark.skipif(not _installed("timm"), reason="needs timm")
def test_real_hrnet_shapes(zoo):
    model = zoo.hrnet_w32([])
    assert model(torch.rand(1, 3, 256, 192)).shape == (1, 17, 64, 48)


@pytest.mark.skipif(not _installed("torchvision"), reason="needs torchvision")
def test_count_macs_traces_keypoint_rcnn(peers, zoo):
    model = zoo.keypoint_rcnn([]).eval()
    gmacs, why = peers.macs_g(model, [torch.rand(3, 480, 640)])
    assert why is None and gmacs > 50  # ResNet-50-FPN at 512x683 alone is ~60 GMACs


PAGE = (
    "# Benchmarks\r\n\r\nHand-written text, ünïcödé.\n"
    "<!-- peers:cpu:start -->\nold cpu tables\n<!-- peers:cpu:end -->\n"
    "between\n\n"
    "<!-- peers:cuda:start -->\nold gpu tables\n<!-- peers:cuda:end -->\n"
    "tail without a final newline"
)


def test_main_writes_its_block_and_keeps_the_page(peers, monkeypatch, tmp_path, capsys):
    def training_rows(*args):
        rows = [_fake_training_row("topdown_tnet_d3w64", 3.0, 512.0)]
        peers.add_training_ratios(rows)
        return rows

    monkeypatch.setattr(peers, "inference_rows", lambda *args: [])
    monkeypatch.setattr(peers, "training_rows", training_rows)
    page = tmp_path / "benchmarks.md"
    page.write_bytes(PAGE.encode("utf-8"))
    out = tmp_path / "r.json"
    threads = str(torch.get_num_threads())  # leaves this process's setting as it is
    peers.main(
        ["--device", "cpu", "--threads", threads, "--write-docs", str(page)] + ["--out", str(out)]
    )
    text = page.read_bytes().decode("utf-8")
    cpu_block = text.split("<!-- peers:cpu:start -->")[1].split("<!-- peers:cpu:end -->")[0]
    assert "Measured on" in cpu_block and f"{threads} CPU threads" in cpu_block
    assert "`python benchmarks/peers.py --device cpu --threads" in cpu_block
    assert "| topdown_tnet_d3w64 | fp32 | 1.0 | 1.00 | 3.00 | 512 | n/a | n/a |" in cpu_block
    assert "peak memory: peak RSS increase, VmHWM reset by clear_refs:" in cpu_block
    assert "| peak memory (MiB) |" in cpu_block
    assert text.replace(cpu_block, "\nold cpu tables\n") == PAGE
    assert json.loads(out.read_text())["training"]["rows"][0]["peak_memory_mib"] == 512.0
    assert cpu_block.strip() in capsys.readouterr().out
