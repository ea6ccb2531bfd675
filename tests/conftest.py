"""Shared fixtures: devices to test on, a seeded RNG, a small model trained by the CLI, the
built documentation site."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from cgalib.cli import main

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request) -> torch.device:
    return torch.device(request.param)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture
def default_stop_signals():
    """SIGINT and SIGHUP at their defaults for one test, in this process and the processes
    it starts, whatever the shell did: ``nohup`` and ``cmd &`` start the suite with them
    ignored, and cgalib keeps an inherited ignore (as it should), so the signal tests, which
    test the normal case, set it up themselves. Restored after the test."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGHUP)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """A synthetic set (8 train, 3 val images, 128 px) and a ``cganet_tnet_d1w16`` trained on
    it for one epoch, both made by the command line: the folder holding ``data/`` and
    ``run/model.pt`` (the CLI tests and ``evaluate_coco``'s share it)."""
    root = tmp_path_factory.mktemp("cli")
    assert (
        main(["synth", "--out", str(root / "data"), "--train", "8", "--val", "3", "--size", "128"])
        == 0
    )
    run = root / "run"
    assert (
        main(
            [
                "train",
                "--model",
                "cganet_tnet_d1w16",
                "--data",
                str(root / "data"),
                "--out",
                str(run),
                "--epochs",
                "1",
                "--batch",
                "4",
                "--input-size",
                "128",
                "--device",
                "cpu",
                "--workers",
                "0",
                "--model-kwargs",
                '{"input_size": 128}',
            ]
        )
        == 0
    )
    return root


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The documentation site as `make docs` builds it (strict), in a temporary folder; the
    site's tests (tests/test_docs_site.py, tests/test_site_browser.py) share one build."""
    pytest.importorskip("mkdocs")
    pytest.importorskip("material")
    root = Path(__file__).resolve().parents[1]
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
         "-f", str(root / "mkdocs.yml"), "--site-dir", str(out)],
        cwd=root, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    if proc.returncode:
        pytest.fail("mkdocs build --strict failed:\n" + (proc.stdout + proc.stderr)[-3000:])
    return out
