"""docs/reliability.md's catalogue is the robustness tests' own docstrings, kept in step."""

from pathlib import Path

import pytest

from helpers import load_script

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "scripts" / "reliability_catalogue.py"


@pytest.fixture(scope="module")
def catalogue():
    return load_script(SCRIPT)


def test_the_page_lists_every_robustness_test(catalogue):
    assert catalogue.main(["--check"]) == 0, "run python docs/scripts/reliability_catalogue.py"


def test_a_docstring_without_two_paragraphs_is_refused(catalogue, tmp_path):
    (tmp_path / "test_x.py").write_text('def test_a():\n    """Only one paragraph."""\n')
    with pytest.raises(ValueError, match="two paragraphs"):
        catalogue.cases(tmp_path / "test_x.py")


def test_only_the_marked_block_is_replaced(catalogue):
    page = f"intro\n{catalogue.START}\nstale rows\n{catalogue.END}\noutro\n"
    new = catalogue.render(page)
    assert new.startswith("intro\n" + catalogue.START) and new.endswith(catalogue.END + "\noutro\n")
    assert "stale rows" not in new and "| case | behaviour |" in new
