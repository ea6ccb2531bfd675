"""benchmarks/roi_width_accuracy.py: its table's arithmetic, the settings it compares, and the
benchmarks page holding the table of the results file."""

import json
from pathlib import Path

import pytest

from cgalib.utils import block_content

from helpers import load_script

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def widths(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))  # as when run as a script: _run_log
    return load_script(REPO / "benchmarks" / "roi_width_accuracy.py")


def _run(setting, seed, ap, seconds, note=None):
    run = {"setting": setting, "seed": seed, "steps": 1500, "weight_decay": 1e-4,
           "lr_milestones": [70 / 95, 85 / 95],
           "train_seconds": seconds, "AP": ap, "AP50": 0.5, "machine": "CPU X, 2 threads",
           "date": "2026-12-06"}  # fmt: skip
    return {**run, "note": note} if note else run


def test_the_table_gives_mean_spread_and_the_quiet_runs_time(widths):
    runs = [
        _run("default", 1, 0.25, None),  # scored afterwards: not timed
        _run("default", 2, 0.24, 300.0),
        _run("narrow", 2, 0.20, 400.0, note="shared the CPU"),
        _run("narrow", 1, 0.22, 250.0),
    ]
    lines = widths.table(runs).splitlines()
    assert lines[0].startswith(
        "`cganet_tnet_d1w16` at 192 px, 1500 steps per run, `CPU_DEMO_RECIPE` with weight "
        "decay 0.0001, lr drops at 0.737, 0.895; CPU X, 2 threads; 2026-12-06."
    )
    default, narrow = lines[4], lines[5]
    assert default.startswith("| default: (32, 64, 128), blocks (1, 1, 1), head 32 | 1.300 | 18.1 ")
    assert default.endswith("| 1, 2 | 0.250, 0.240 | 0.245 | 0.010 | 300 (1 quiet run) |")
    # seeds in order; the run that shared the CPU is left out of the time
    assert narrow.endswith("| 1, 2 | 0.220, 0.200 | 0.210 | 0.020 | 250 (1 quiet run) |")


def test_the_narrow_settings_are_the_paper_scale_candidates_divided_by_four(widths):
    from cgalib import create_model

    for setting, big in (("narrow", (64, 96, 512)), ("cascade narrow", (64, 128, 512))):
        kwargs = widths._builder_kwargs(setting)
        assert tuple(c * 4 for c in kwargs["head_kwargs"]["channels"]) == big
        head = create_model("cganet_tnet_d1w16", input_size=192, **kwargs).keypoint_head
        assert head.stages[0].out_channels == kwargs["head_kwargs"]["channels"]
        assert head.num_stages == kwargs.get("cascade", 1)


def test_the_page_holds_the_table_of_the_results_file(widths):
    runs = json.loads(widths.RESULTS.read_text())["runs"]
    page = (REPO / "docs" / "benchmarks.md").read_text()
    assert block_content(page, widths.BLOCK).strip() == widths.table(runs).strip(), (
        "run python benchmarks/roi_width_accuracy.py --write-docs docs/benchmarks.md"
    )
    seeds = {s: {r["seed"] for r in runs if r["setting"] == s} for s in ("default", "narrow")}
    assert all(len(found) >= 3 for found in seeds.values())  # the decision's three seeds
