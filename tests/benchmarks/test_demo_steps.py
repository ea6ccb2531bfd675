"""benchmarks/demo_steps.py: its table's arithmetic, the runs it gathers, and the benchmarks
page holding the table of the results files."""

from pathlib import Path

import pytest

from cgalib.utils import block_content

from helpers import load_script

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def steps(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))  # as when run as a script
    return load_script(REPO / "benchmarks" / "demo_steps.py")


PAPER = [70 / 95, 85 / 95]


def _run(steps, seed, ap, seconds, note=None, weight_decay=1e-4, drops=PAPER):
    run = {"setting": "default", "seed": seed, "steps": steps, "weight_decay": weight_decay,
           "lr_milestones": drops, "train_seconds": seconds, "AP": ap,
           "machine": "CPU X, 2 threads", "date": "2026-12-06"}  # fmt: skip
    return {**run, "note": note} if note else run


def test_the_table_gives_each_recipe_and_step_count_its_seeds_mean_and_quiet_time(steps):
    late, paper = (
        "weight decay 0.05, lr drops at 0.85, 0.95",
        "weight decay 0.0001, lr drops at 0.737, 0.895",
    )
    assert steps.widths.recipe_words(_run(1500, 1, 0.2, None, None, 0.05, [0.85, 0.95])) == late
    assert steps.widths.recipe_words(_run(1500, 1, 0.2, None)) == paper
    by_recipe = {
        late: {1500: [_run(1500, 1, 0.28, 200.0, weight_decay=0.05, drops=[0.85, 0.95])]},
        paper: {
            1500: [_run(1500, 2, 0.24, 300.0), _run(1500, 1, 0.26, 240.0, note="shared the CPU")],
            3000: [_run(3000, 1, 0.30, None)],  # scored afterwards: not timed
        },
    }
    lines = steps.table(by_recipe, {late: [3600], paper: [2624, 3371]}).splitlines()
    assert lines[0].endswith(f"trained 3600 steps with {late}; 2624, 3371 steps with {paper}.")
    assert lines[4] == f"| {late} | 1500 | 1 | 0.280 | 0.280 | 3.3 |"
    assert lines[5] == f"| {paper} | 1500 | 1, 2 | 0.260, 0.240 | 0.250 | 5.0 |"  # shared: untimed
    assert lines[6] == f"| {paper} | 3000 | 1 | 0.300 | 0.300 | n/a |"
    # one row: no gain; 0.05 from 1500 to 3000 steps: 0.0333 per 1000; 0.35 beyond 0.300
    assert lines[8] == (
        f"With {late}: along the straight lines between the rows the demo's goal of 0.35 AP "
        f"lies beyond the last row. With {paper}: the mean AP gains 0.033 per 1000 steps from "
        "1500 to 3000; along the straight lines between the rows the demo's goal of 0.35 AP "
        "lies beyond the last row."
    )
    assert "No 9-minute demo run" in steps.table(by_recipe, {})
    reached = steps.table({late: {3000: [_run(3000, 1, 0.36, None, None, 0.05, [0.85, 0.95])]}}, {})
    assert reached.endswith(
        "the demo's goal of 0.35 AP is reached at 3000 steps already, the first row."
    )


def test_the_goal_is_found_on_the_straight_lines_between_the_rows(steps):
    means = {1500: 0.25, 3000: 0.33, 4500: 0.38}
    assert steps.steps_for(means, 0.35) == pytest.approx(3000 + 0.02 / 0.05 * 1500)  # 3600
    assert steps.steps_for(means, 0.20) == 1500.0  # the first row already reaches it
    assert steps.steps_for(means, 0.40) is None
    assert steps.gains(means) == (
        "0.053 per 1000 steps from 1500 to 3000, 0.033 per 1000 steps from 3000 to 4500"
    )


def test_the_runs_are_the_width_benchmarks_defaults_and_its_own_by_recipe(steps):
    by_recipe = steps.runs_by_steps()
    own = steps.widths.recipe_words(steps.widths.varied(steps.CPU_DEMO_RECIPE))
    assert own in by_recipe and list(by_recipe)[0] == own  # the demo's recipe first
    for words, by_steps in by_recipe.items():
        assert list(by_steps) == sorted(by_steps)
        for rs in by_steps.values():
            assert all(r["setting"] == "default" for r in rs)
            assert all(steps.widths.recipe_words(r) == words for r in rs)
    paper = "weight decay 0.0001, lr drops at 0.737, 0.895"
    assert len(by_recipe[paper][1500]) >= 3  # roi_width_accuracy.py's three seeds of the default
    demo = steps.demo_steps()
    assert all(s > 2000 for ss in demo.values() for s in ss)  # 9-minute demos of the recipe
    assert len(demo[paper]) >= 6  # recorded before the recipe had its own weight decay and drops


def test_the_page_holds_the_table_of_the_results_files(steps):
    page = (REPO / "docs" / "benchmarks.md").read_text()
    assert block_content(page, steps.BLOCK).strip() == (
        steps.table(steps.runs_by_steps(), steps.demo_steps()).strip()
    ), "run python benchmarks/demo_steps.py --write-docs docs/benchmarks.md"
    paper = "weight decay 0.0001, lr drops at 0.737, 0.895"
    assert len(steps.runs_by_steps()[paper]) >= 2  # more than the 1500-step point
