"""Robustness of benchmarks/peers.py, run as a user runs it: one line, no traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "peers.py"


def _peers(*args: str, pythonpath: tuple[Path, ...] = ()) -> subprocess.CompletedProcess:
    path = os.pathsep.join(map(str, (*pythonpath, ROOT)))  # this worktree's cgalib
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=240,
        env=dict(os.environ, PYTHONPATH=path),
        check=False,
    )


def _one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    (line,) = proc.stderr.splitlines()
    return line


def test_docs_page_without_the_markers(tmp_path):
    """`--write-docs` names a page that has no `<!-- peers:cpu:start -->` line.

    The script stops before measuring anything, with one line naming the page and the
    start and end marker lines it needs; the page is left unchanged."""
    page = tmp_path / "benchmarks.md"
    page.write_text("# Benchmarks\n\nno markers here\n")
    line = _one_line_error(_peers("--device", "cpu", "--write-docs", str(page)))
    assert str(page) in line and "'<!-- peers:cpu:start -->'" in line
    assert "'<!-- peers:cpu:end -->'" in line
    assert page.read_text() == "# Benchmarks\n\nno markers here\n"


def test_unknown_model_name():
    """`--models cganet_tnet_d1w65`, a name no builder is registered under.

    The script stops before measuring, with one line naming `--models`, the unknown name
    and the registered CGANet models."""
    line = _one_line_error(_peers("--device", "cpu", "--models", "cganet_tnet_d1w65"))
    assert "--models: unknown model 'cganet_tnet_d1w65'" in line
    assert "cganet_tnet_d1w64" in line


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_device_without_a_gpu():
    """`--device cuda` on a machine without a GPU.

    The script stops with one line saying CUDA is not available and to use `--device cpu`."""
    line = _one_line_error(_peers("--device", "cuda"))
    assert "CUDA is not available" in line and "--device cpu" in line


def test_quick_run_asked_to_write_the_docs(tmp_path):
    """`--quick --write-docs docs/benchmarks.md`: smoke-test numbers headed for the docs.

    The script refuses with one line (a quick run is not a measurement), before measuring;
    the page is left unchanged."""
    page = tmp_path / "benchmarks.md"
    page.write_text("<!-- peers:cpu:start -->\n<!-- peers:cpu:end -->\n")
    line = _one_line_error(_peers("--device", "cpu", "--quick", "--write-docs", str(page)))
    assert "--write-docs with --quick" in line
    assert page.read_text() == "<!-- peers:cpu:start -->\n<!-- peers:cpu:end -->\n"


def test_torchvision_that_does_not_load(tmp_path):
    """A torchvision that is installed but fails to import (built for another torch).

    The run goes on: the Keypoint R-CNN row is skipped with one line saying torchvision does
    not load beside this torch and why, and CGANet's rows are measured and printed."""
    broken = tmp_path / "torchvision"
    broken.mkdir()
    (broken / "__init__.py").write_text(
        'raise RuntimeError("operator torchvision::nms does not exist")\n'
    )
    proc = _peers(
        *["--device", "cpu", "--quick", "--threads", "1", "--parts", "inference"],
        *["--models", "cganet_tnet_d1w16", "--warmup", "0", "--iters", "1"],
        pythonpath=(tmp_path,),
    )
    assert proc.returncode == 0, proc.stderr
    assert "| cganet_tnet_d1w16 | fp32 eager |" in proc.stdout
    assert (
        f"skipped: torchvision does not load beside torch {torch.__version__} (RuntimeError: "
        "operator torchvision::nms does not exist): Keypoint R-CNN skipped"
    ) in proc.stdout


def test_training_child_of_a_large_parent():
    """A training subprocess started by a benchmark process that already holds 512 MiB.

    The child's peak memory is its own: the kernel's high-water mark is reset before the
    model is built, so the parent's peak (which `ru_maxrss` carries across exec) is not
    counted."""
    parent = b"x" * (512 * 2**20)  # the parent's resident set, as after the inference part
    child = (
        "import mmap\n"
        "from _memory import PeakRSS\n"
        "peak = PeakRSS()\n"
        "block = mmap.mmap(-1, 64 * 2**20)\n"
        "for offset in range(0, len(block), mmap.PAGESIZE):\n"
        "    block[offset] = 1\n"
        "print(peak.method, '|', peak.increase_mib())\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", child],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, PYTHONPATH=str(ROOT / "benchmarks")),
        check=True,
    )
    del parent
    method, increase = proc.stdout.split("|")
    assert method.strip() == "VmHWM reset by clear_refs"
    assert 60 < float(increase) < 200
