"""The demo's figures on README.md and docs/index.md are the ones its results file holds."""

import json
from pathlib import Path

import pytest

from helpers import load_script

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "scripts" / "demo_numbers.py"


@pytest.fixture(scope="module")
def numbers():
    return load_script(SCRIPT)


def test_the_pages_state_what_the_results_file_holds(numbers):
    assert numbers.RESULTS.is_file(), "record demo runs: python docs/scripts/demo_numbers.py demo"
    assert numbers.main(["--check"]) == 0, "run python docs/scripts/demo_numbers.py"
    runs = json.loads(numbers.RESULTS.read_text())["runs"]
    page = numbers.PAGES[0].read_text()
    for run in runs:  # every run's AP is on the page, to three decimals
        assert f"{run['metrics']['AP']:.3f}" in page


def test_the_text_from_hand_made_summaries(numbers):
    run = {"metrics": {"AP": 0.3456, "AP50": 0.6}, "model": "m", "input_size": 192,
           "num_train": 2000, "num_val": 100, "budget_minutes": 8, "total_minutes": 8.26,
           "steps": 1200, "date": "2026-12-06", "machine": "CPU X", "load_average": 1.04}  # fmt: skip
    two = [run, {**run, "metrics": {"AP": 0.3, "AP50": 0.5}, "total_minutes": 8.44, "steps": 1100}]
    text = numbers.demo_text(two)
    assert text.startswith("Measured: 2 runs of `make demo` on CPU X, 2026-12-06 (load average "
                           "1.0, its own threads included): 8.3–8.4 minutes each")  # fmt: skip
    assert "(1100–1200 steps) and scores **0.323 keypoint AP** (runs: 0.346, 0.300; spread " \
        "0.046) on 100 held-out images" in text
    one = numbers.demo_text([run])
    assert "one run of `make demo` on CPU X, 2026-12-06 (load average 1.0, its own threads included): 8.3 " \
        "minutes after set-up" in one
    assert "(1200 steps) and scores **0.346 keypoint AP** (AP50 0.600)" in one


def test_a_page_that_differs_is_named(numbers, tmp_path, monkeypatch, capsys):
    runs = [{"metrics": {"AP": 0.25, "AP50": 0.5}, "model": "m", "input_size": 192,
             "num_train": 10, "num_val": 5, "budget_minutes": 8, "total_minutes": 8.0,
             "steps": 10, "date": "d", "machine": "M"}]  # fmt: skip
    results = tmp_path / "demo_runs.json"
    results.write_text(json.dumps({"runs": runs}))
    page = tmp_path / "README.md"
    text = numbers.demo_text(runs)
    page.write_text(f"<!-- demo-result:start -->\n{text}\n<!-- demo-result:end -->\n")
    monkeypatch.setattr(numbers, "RESULTS", results)
    monkeypatch.setattr(numbers, "PAGES", (page,))
    assert numbers.main(["--check"]) == 0
    page.write_text(page.read_text().replace("0.250", "0.265"))
    assert numbers.main(["--check"]) == 1
    assert "README.md: the demo-result block differs from demo_runs.json" in capsys.readouterr().err
