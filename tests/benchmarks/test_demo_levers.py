"""benchmarks/demo_levers.py: each variant changes only its levers, and the benchmarks page
holds the table of the results file."""

import json
from pathlib import Path

import pytest

from cgalib.engine.recipes import CPU_DEMO_RECIPE, for_this_cpu
from cgalib.utils import block_content

from helpers import load_script

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def levers(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))  # as when run as a script: _run_log
    return load_script(REPO / "benchmarks" / "demo_levers.py")


def test_each_variant_changes_only_its_levers(levers):
    assert levers.recipe("before") == dict(levers.BEFORE)
    assert levers.recipe("bf16") == {**levers.BEFORE, "amp": "bf16"}
    assert levers._levers("bf16+ema") == "amp=bf16, ema_decay=0.998"
    assert levers._levers("before") == "(none)"
    assert levers.recipe("demo") == {**levers.BEFORE, **for_this_cpu(CPU_DEMO_RECIPE)}


def test_the_page_holds_the_table_of_the_results_file(levers):
    runs = json.loads(levers.RESULTS.read_text())["runs"]
    page = (REPO / "docs" / "benchmarks.md").read_text()
    assert block_content(page, levers.BLOCK).strip() == levers.table(runs).strip(), (
        "run python benchmarks/demo_levers.py --write-docs docs/benchmarks.md"
    )
    assert {"before", "bf16", "bf16+ema"} <= {r["variant"] for r in runs}


def test_a_recorded_run_is_appended_to_what_the_file_holds_then(levers, tmp_path):
    from _run_log import record_run, recorded_runs

    path = tmp_path / "results" / "runs.json"
    assert recorded_runs(path) == []
    record_run(path, {"variant": "a"})
    path.write_text(json.dumps({"runs": [*recorded_runs(path), {"variant": "b"}]}))  # another
    record_run(path, {"variant": "c"}, note="shared the CPU")
    assert recorded_runs(path) == [
        {"variant": "a"},
        {"variant": "b"},
        {"variant": "c", "note": "shared the CPU"},
    ]
