"""benchmarks/roi_widths.py: its table arithmetic and the parameter counts it reports."""

import importlib.util
from pathlib import Path

import pytest

from cgalib import create_model

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def widths(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # as when run as a script: finds _timing
    spec = importlib.util.spec_from_file_location("roi_widths", BENCHMARKS / "roi_widths.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_table_gives_the_speed_up_over_the_first_row_and_the_parameter_gap(widths):
    rows = {
        "default": {"params_m": 20.2, "gmac_per_box": 2.0, "head_ms": 300.0, "total_ms": 500.0},
        "narrow": {"params_m": 21.21, "gmac_per_box": 1.1, "head_ms": 150.0, "total_ms": 250.0},
    }
    lines = widths.table(rows).splitlines()
    assert lines[2] == "| default | 20.20 | +0.0% | 2.00 | 300 | 500 | 1.00x |"
    assert lines[3] == "| narrow | 21.21 | +5.0% | 1.10 | 150 | 250 | 2.00x |"


def test_the_narrow_setting_keeps_the_paper_parameter_count_within_5_percent(widths):
    kwargs = widths.SETTINGS["(64, 96, 512), blocks (1, 1, 2)"]
    model = create_model("cganet_tnet_d1w64", head_kwargs=kwargs)
    params = sum(p.numel() for p in model.parameters()) / 1e6
    assert abs(params / widths.PAPER_PARAMS_M - 1) <= 0.05
    head = model.keypoint_head
    assert head.stages[0].out_channels == (64, 96, 512)
    assert len(head.stages[0].blocks[2]) == 2
