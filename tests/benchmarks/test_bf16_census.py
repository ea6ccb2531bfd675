"""benchmarks/bf16_census.py: the convolutions' time from profiler rows, and the block."""

from pathlib import Path
from types import SimpleNamespace

import pytest

from helpers import load_script

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def bf16_census(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    return load_script(BENCHMARKS / "bf16_census.py")


def test_convolution_seconds_sums_every_convolution_row_once(bf16_census):
    """The dispatcher's wrappers and the backend kernel each hold their own self time."""
    rows = [
        SimpleNamespace(key="aten::conv2d", self_cpu_time_total=1_000.0),
        SimpleNamespace(key="aten::convolution", self_cpu_time_total=2_000.0),
        SimpleNamespace(key="aten::_convolution", self_cpu_time_total=3_000.0),
        SimpleNamespace(key="aten::mkldnn_convolution", self_cpu_time_total=400_000.0),
        SimpleNamespace(key="aten::grid_sampler_2d", self_cpu_time_total=50_000.0),
        SimpleNamespace(key="aten::add", self_cpu_time_total=20_000.0),
    ]
    assert bf16_census.convolution_seconds(rows) == pytest.approx(0.406)


def test_the_block_states_both_ratios(bf16_census):
    result = bf16_census.Census(
        table=[("aten::mkldnn_convolution", 0.75, "bf16"), ("aten::grid_sampler_2d", 0.06, "fp32")],
        seconds={"fp32": 0.700, "bf16": 0.400},
        conv_seconds={"fp32": 0.570, "bf16": 0.300},
        gmacs=54.72,
        peak_gmacs={"fp32": 100.0, "bf16": 200.0},
    )
    text = bf16_census.render(result, threads=2)
    assert "fp32 700 ms, bf16 autocast 400 ms (1.75x)" in text
    assert "fp32 570 ms, bf16 300 ms (1.90x)" in text
    # 54.72 / 0.570 = 96 GMAC/s, 54.72 / 0.300 = 182.4
    assert "the network's 54.7 GMAC (`count_macs`) run at 96 GMAC/s in fp32 and 182 in bf16" in text
    assert "of 100 and 200 GMAC/s (2.00x): 96% and 91% of it." in text
    assert "| `aten::grid_sampler_2d` | 6.0% | fp32 |" in text


def test_input_dtypes_names_the_floating_point_inputs_per_operator(bf16_census):
    events = [
        SimpleNamespace(name="aten::add", input_dtypes=["c10::BFloat16", "float", "Scalar"]),
        SimpleNamespace(name="aten::add", input_dtypes=["float", "float", "Scalar"]),
        SimpleNamespace(name="aten::bmm", input_dtypes=["float", "float"]),
        SimpleNamespace(name="aten::empty", input_dtypes=["ScalarList", ""]),
    ]
    assert bf16_census.input_dtypes(events) == {
        "aten::add": {"bf16", "fp32"},
        "aten::bmm": {"fp32"},
        "aten::empty": set(),
    }
