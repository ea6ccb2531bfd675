"""The built site in a real browser: every page opened from disk in headless Chromium
(docs/scripts/site_browser.py) loads without a console error or a request to another host,
draws every mermaid diagram as an SVG readable at its size, and hides no table column (nor,
on the hand-written pages, a code line) behind a horizontal scroll.

``mkdocs build --strict`` cannot see any of this: mermaid parses its diagrams in the browser.
Without Chromium the module is skipped, naming the package to install.
"""

import importlib.util
import re
import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("mkdocs")
pytest.importorskip("material")

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "site_browser", ROOT / "docs" / "scripts" / "site_browser.py"
)
site_browser = sys.modules.setdefault("site_browser", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(site_browser)  # registered first: its dataclass looks itself up

CHROMIUM = site_browser.find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason=f"the site's browser check needs Chromium, not found; install it: "
    f"{site_browser.INSTALL_HINT}",
)


@pytest.fixture(scope="module")
def reports(site) -> dict[str, "site_browser.PageReport"]:
    """Every page of the built site, opened from disk in one browser."""
    return {r.page: r for r in site_browser.check_site(site, CHROMIUM)}


def test_every_page_is_opened_the_404_page_included(site, reports):
    assert set(reports) == {p.relative_to(site).as_posix() for p in site.rglob("*.html")}
    assert len(reports) > 30 and "404.html" in reports


def test_no_console_error_and_nothing_from_another_host(reports):
    errors = {page: r.errors for page, r in reports.items() if r.errors}
    assert not errors, f"{len(errors)} pages report errors in the browser: {errors}"


def test_every_diagram_becomes_a_readable_svg(site, reports):
    fences = {
        page: n for page in reports
        if (n := len(site_browser.FENCE.findall((site / page).read_text(encoding="utf-8"))))
    }
    assert {"architecture.html", "concepts.html", "top-down.html"} <= set(fences)
    assert {page: len(r.diagrams) for page, r in reports.items() if r.diagrams} == fences
    bad = {
        page: found
        for page, r in reports.items()
        if (found := [line for line in site_browser.problems(r) if line.startswith("diagram")])
    }
    assert not bad, f"diagrams not drawn or unreadable: {bad}"


def test_no_table_and_no_hand_written_code_hides_behind_a_scroll(reports):
    hidden = {
        page: lines
        for page, r in reports.items()
        if (lines := [x for x in site_browser.problems(r) if x.startswith("hidden")])
    }
    assert not hidden, f"wider than the text column at 1300 px: {hidden}"
    # API doctests and notebook cells may scroll; the report still sees them
    assert any(x.startswith("code:") for r in reports.values() for x in r.hidden)


def test_the_check_sees_a_broken_diagram_an_error_a_wide_table_and_a_long_line(site, tmp_path):
    broken = tmp_path / "site"
    shutil.copytree(site, broken)
    page = broken / "concepts.html"
    html = page.read_text(encoding="utf-8")
    html, n = re.subn(
        r'(<pre class="mermaid"><code>)flowchart TB', r"\1flowchart TB\n    A -. eq. 6 .-> B",
        html, count=1,
    )
    assert n == 1
    wide_table = "<table><tr>" + "".join(f"<td>column_number_{i}</td>" for i in range(40))
    long_line = "x = 1  #" + " long" * 60
    html = html.replace(
        "<h2", '<div class="md-typeset__scrollwrap"><div class="md-typeset__table">'
        f"{wide_table}</tr></table></div></div><script>console.error('boom')</script>"
        f'<div class="language-python highlight"><pre><code>{long_line}</code></pre></div><h2', 1,
    )
    page.write_text(html, encoding="utf-8")
    (report,) = site_browser.check_site(broken, CHROMIUM, only="concepts.html")
    found = site_browser.problems(report)
    assert any("boom" in line for line in found), found
    assert any("Lexical error" in line or "Parse error" in line for line in found), found
    assert any(line.startswith("diagram 1 not drawn") for line in found), found
    assert any("table: column_number_0" in line for line in found), found
    assert any("code: x = 1  # long long" in line for line in found), found
