"""The built documentation site: offline navigation, vendored scripts, one intro per API
module, no raw Sphinx roles, no issue numbers, notebook pages as new as the notebooks."""

import html
import importlib
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from cgalib import list_models, list_pretrained

from helpers import load_script

pytest.importorskip("mkdocs")
pytest.importorskip("material")

ROOT = Path(__file__).resolve().parents[1]
RENDER_SCRIPT = ROOT / "docs" / "scripts" / "render_notebooks.py"
SPHINX_ROLE = re.compile(r":(func|class|meth|mod|data|attr):")
ISSUE_NUMBER = re.compile(r"\bissues? #?\d+", re.IGNORECASE)
LINK = re.compile(r"""\b(?:href|src)="([^"]*)\"""")
SCRIPT_SRC = re.compile(r"""<script\b[^>]*\bsrc="([^"]*)\"""")
LINK_TAG_HREF = re.compile(r"""<link\b[^>]*\bhref="([^"]*)\"""")
CSS_REMOTE = re.compile(r"""(@import|url\()\s*["']?(https?:)?//""")


@pytest.fixture(scope="module")
def render_notebooks():
    return load_script(RENDER_SCRIPT)


def pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def text_of(page: Path) -> str:
    """A page's visible text, tags removed and whitespace collapsed."""
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", page.read_text(encoding="utf-8"), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", raw)).split())


def test_every_internal_link_opens_a_page_from_disk(site):
    broken = []
    for page in pages(site):
        for url in LINK.findall(page.read_text(encoding="utf-8")):
            parts = urlsplit(html.unescape(url))
            if parts.scheme or parts.netloc or not parts.path:  # external, or an anchor only
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            if not target.is_file():  # a folder would open as a directory listing on file://
                broken.append(f"{page.relative_to(site)} -> {url}")
    assert len(pages(site)) > 30
    assert not broken, f"{len(broken)} links open no file from disk: {broken[:10]}"


def test_scripts_load_from_the_site_not_a_cdn(site):
    remote = sorted({
        f"{page.relative_to(site)}: {src}"
        for page in pages(site)
        for src in SCRIPT_SRC.findall(page.read_text(encoding="utf-8"))
        if urlsplit(src).scheme or src.startswith("//")
    })
    assert not remote, f"scripts from another host: {remote[:10]}"
    architecture = (site / "architecture.html").read_text(encoding="utf-8")
    assert 'class="mermaid"' in architecture and "javascripts/mermaid.min.js" in architecture
    assert (site / "javascripts" / "mermaid.min.js").stat().st_size > 1_000_000
    assert (site / "search" / "search_index.js").is_file()  # offline search index


def test_fonts_and_stylesheets_load_from_the_site(site):
    remote = sorted({
        f"{page.relative_to(site)}: {href}"
        for page in pages(site)
        for href in LINK_TAG_HREF.findall(page.read_text(encoding="utf-8"))
        if urlsplit(href).scheme or href.startswith("//")
    })
    css = [p for p in site.rglob("*.css") if CSS_REMOTE.search(p.read_text(encoding="utf-8"))]
    assert not remote and not css, f"fetched from another host: {remote[:10]} {css}"


def test_the_build_scripts_are_not_published(site):
    assert (ROOT / "docs" / "scripts" / "render_notebooks.py").is_file()
    assert (ROOT / "docs" / "notebooks" / "sources.json").is_file()
    published = sorted(
        str(p.relative_to(site)) for p in site.rglob("*")
        if p.suffix in (".py", ".jinja") or p.name == "sources.json"
    )
    assert not published, f"repository files in the site: {published}"


@pytest.mark.parametrize("md", sorted((ROOT / "docs" / "api").glob("*.md")), ids=lambda p: p.stem)
def test_each_api_page_introduces_its_module_once(site, md):
    module = re.search(r"^::: (\S+)", md.read_text(), re.M).group(1)
    page = (site / "api" / f"{md.stem}.html").read_text(encoding="utf-8")
    assert len(re.findall(r"<h1\b", page)) == 1
    assert not re.search(rf'<h\d[^>]*id="{re.escape(module)}"', page), f"{module}: a second heading"
    first_line = (importlib.import_module(module).__doc__ or "").strip().splitlines()[0]
    if not re.search(r"[:`]", first_line.rstrip(":")):  # plain text renders as written
        assert first_line not in text_of(site / "api" / f"{md.stem}.html")


def test_no_raw_sphinx_roles_in_the_built_pages(site):
    found = {
        str(page.relative_to(site)): n
        for page in pages(site)
        if (n := len(SPHINX_ROLE.findall(text_of(page))))
    }
    assert not found, f"{sum(found.values())} raw Sphinx roles on {len(found)} pages: {found}"


def test_no_issue_numbers_in_user_docs(site):
    found = {
        str(page.relative_to(site)): ISSUE_NUMBER.findall(text_of(page))
        for page in pages(site)
        if ISSUE_NUMBER.search(text_of(page))
    }
    readme = ISSUE_NUMBER.findall((ROOT / "README.md").read_text())
    assert not found and not readme, f"issue numbers in the docs: {found}, README: {readme}"


def test_notebook_pages_are_as_new_as_the_notebooks(render_notebooks):
    stale = render_notebooks.stale_pages()
    assert not stale, (
        f"docs/notebooks/ is older than notebooks/ for {stale}: run `make notebooks` "
        f"(or python docs/scripts/render_notebooks.py {' '.join(s[:2] for s in stale)})"
    )


def test_a_notebook_cell_change_makes_its_page_stale(render_notebooks, tmp_path):
    nb = tmp_path / "01_x.ipynb"
    nb.write_text('{"cells": [{"cell_type": "code", "source": ["a = 1"], "outputs": []}]}')
    before = render_notebooks.source_hash(nb)
    nb.write_text('{"cells": [{"cell_type": "code", "source": ["a = 2"], "outputs": [1]}]}')
    assert render_notebooks.source_hash(nb) != before


def test_a_widget_becomes_a_sentence_naming_its_controls(render_notebooks):
    state = {
        "box": {"model_name": "VBoxModel",
                "state": {"children": ["IPY_MODEL_r", "IPY_MODEL_t", "IPY_MODEL_out"]}},
        "r": {"model_name": "FloatSliderModel", "state": {"description": "ratio"}},
        "t": {"model_name": "IntSliderModel", "state": {"description": "thre"}},
        "out": {"model_name": "OutputModel", "state": {}},
    }
    data = render_notebooks.widget_for_the_site({"model_id": "box"}, state)
    assert "the sliders <code>ratio</code> and <code>thre</code>" in data["text/html"]
    unknown = render_notebooks.widget_for_the_site({"model_id": "?"}, {})
    assert "Live in Jupyter: a control." in unknown["text/html"]


def test_a_tqdm_widget_becomes_its_last_line(render_notebooks):
    state = {
        "bar": {"model_name": "HBoxModel",
                "state": {"children": ["IPY_MODEL_l", "IPY_MODEL_p", "IPY_MODEL_r"]}},
        "l": {"model_name": "HTMLModel", "state": {"value": "epoch 1/6:  50%", "description": ""}},
        "p": {"model_name": "FloatProgressModel", "state": {"value": 2, "max": 4}},
        "r": {"model_name": "HTMLModel", "state": {"value": " 2/4 [00:02&lt;00:02]"}},
    }
    data = render_notebooks.widget_for_the_site({"model_id": "bar"}, state)
    assert data == {"text/plain": "epoch 1/6:  50%|█████     | 2/4 [00:02<00:02]"}


def test_a_progress_bar_keeps_its_last_state(render_notebooks):
    text = "epoch 1:   0%|   | 0/3\repoch 1:  67%|## | 2/3\repoch 1: 100%|###| 3/3\ndone\n"
    assert render_notebooks.last_line_state(text) == "epoch 1: 100%|###| 3/3\ndone\n"


def test_a_large_png_figure_is_stored_as_jpeg(render_notebooks):
    import base64
    import io

    import numpy as np
    from PIL import Image

    def png(side):
        pixels = np.random.default_rng(0).integers(0, 256, (side, side, 3), dtype=np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, "PNG")
        return base64.b64encode(buffer.getvalue()).decode()

    small = {"image/png": png(16), "text/plain": "<Figure>"}
    assert render_notebooks.smaller_figure(small) == small
    large = render_notebooks.smaller_figure({"image/png": png(400), "text/plain": "<Figure>"})
    assert set(large) == {"image/jpeg", "text/plain"}
    assert Image.open(io.BytesIO(base64.b64decode(large["image/jpeg"]))).size == (400, 400)


def test_the_rendered_pages_show_outputs_and_no_widget_repr():
    page = (ROOT / "docs" / "notebooks" / "02_dichotomy_extended_area.md").read_text()
    assert "interactive(children=" not in page
    assert 'class="cgalib-live-control"' in page and "<code>max_iters</code>" in page
    for md in sorted((ROOT / "docs" / "notebooks").glob("*.md")):
        figures = re.findall(r"!\[(?:png|jpeg)\]\(([^)]+)\)", md.read_text())
        assert figures, f"{md.name} shows no figure"
        assert all((md.parent / f).is_file() for f in figures)


def test_the_cli_page_shows_what_the_commands_print(tmp_path):
    cli_outputs = load_script(ROOT / "docs" / "scripts" / "cli_outputs.py")
    assert cli_outputs.stale_blocks() == [], "run python docs/scripts/cli_outputs.py"
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for name in list_models() + list_pretrained():
        assert f"\n{name}" in page, f"docs/cli.md does not list {name}"
    older = tmp_path / "cli.md"
    older.write_text(page.replace("\ntopdown_tnet_d1w16\n", "\n", 1), encoding="utf-8")
    assert cli_outputs.stale_blocks(older) == ["cli-models"]


def test_the_install_page_says_what_pyproject_and_the_makefile_install(tmp_path):
    install_facts = load_script(ROOT / "docs" / "scripts" / "install_facts.py")
    assert not install_facts.is_stale(), "run python docs/scripts/install_facts.py"
    text = install_facts.block_text()
    project = install_facts.tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert all(f"| `{extra}` |" in text for extra in project["optional-dependencies"])
    narrower = tmp_path / "pyproject.toml"
    narrower.write_text((ROOT / "pyproject.toml").read_text().replace("<2.15", "<2.14"))
    assert "< 2.14" in install_facts.block_text(pyproject=narrower)
