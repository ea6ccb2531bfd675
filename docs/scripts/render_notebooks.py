"""Render the tutorial notebooks into the documentation site, outputs included.

Run:  python docs/scripts/render_notebooks.py [NAME ...]   (what ``make notebooks`` runs)

Executes each ``notebooks/NN_*.ipynb`` (or the ones named) in a fresh kernel, in
``notebooks/``, with the environment as given (``CGALIB_FAST=1`` for the quick sizes), and
writes ``docs/notebooks/NN_*.md`` with its figures in ``docs/notebooks/NN_*_files/``, so a
reader of the site sees the outputs without running anything. The ``.ipynb`` files stay
as they are, without outputs.

Large PNG figures are stored as JPEG. On the site, outputs that need a live kernel (ipywidgets) become one sentence naming the
controls; progress bars (text or tqdm's Jupyter widget) keep their last state. ``docs/notebooks/sources.json`` records a
hash of each notebook's cells with the settings of its run; ``tests/test_docs_site.py``
compares it with the notebooks and names the pages to render again.

A notebook that fails stops the script with one line naming it and the error; its
previous page and the pages already rendered are kept.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import html
import io
import json
import os
import platform
import re
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
OUT = ROOT / "docs" / "notebooks"
SOURCES = OUT / "sources.json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
CELL_TIMEOUT = 600
"""Seconds one cell may run (notebook 04 trains for at most two minutes) before the
notebook counts as failed."""
CONTROL_KINDS = {
    "FloatSliderModel": "slider",
    "IntSliderModel": "slider",
    "FloatLogSliderModel": "slider",
    "FloatRangeSliderModel": "range slider",
    "IntRangeSliderModel": "range slider",
    "DropdownModel": "drop-down list",
    "CheckboxModel": "check box",
    "ToggleButtonModel": "toggle button",
    "TextModel": "text box",
}
"""Widget models and the words the site uses for them; others are "control"."""
DISPLAY_ONLY = {"HTMLModel", "LabelModel", "FloatProgressModel", "IntProgressModel",
                "OutputModel", "HBoxModel", "VBoxModel", "BoxModel"}
"""Widget models that only show something: never counted as a control."""
JPEG_ABOVE = 300_000
"""PNG figures larger than this many bytes (photos of synthetic people) are stored as JPEG."""


def notebook_paths(names: list[str] | None = None) -> list[Path]:
    """The tutorial notebooks, ``notebooks/NN_*.ipynb`` in order, or those ``names`` give.

    Raises:
        FileNotFoundError: a name matches no notebook.
    """
    every = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if not names:
        return every
    chosen = []
    for name in names:
        match = [p for p in every if p.stem == Path(name).stem or p.name.startswith(name)]
        if not match:
            raise FileNotFoundError(
                f"no notebook {name!r} in {NOTEBOOKS}; choose from {[p.stem for p in every]}"
            )
        chosen += match
    return chosen


def source_hash(path: Path) -> str:
    """SHA-256 of a notebook's cells (types and sources), blind to outputs and metadata."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    text = json.dumps([[c["cell_type"], "".join(c["source"])] for c in cells])
    return hashlib.sha256(text.encode()).hexdigest()


def stale_pages(notebooks: list[Path] | None = None) -> list[str]:
    """Notebooks whose page in ``docs/notebooks/`` is missing or older than their cells."""
    recorded = json.loads(SOURCES.read_text()) if SOURCES.exists() else {}
    stale = []
    for path in notebook_paths() if notebooks is None else notebooks:
        entry = recorded.get(path.stem, {})
        page = OUT / f"{path.stem}.md"
        if not page.exists() or entry.get("sha256") != source_hash(path):
            stale.append(path.stem)
    return stale


def last_line_state(text: str) -> str:
    """A stream's text as a terminal shows it: each ``\\r`` rewrites its line."""
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


def _widget_parts(model_id: str, state: dict) -> list[tuple[str, dict]]:
    """``(model name, fields)`` of a widget and its children, depth first, in order."""
    model = state.get(model_id, {})
    fields = model.get("state", {})
    parts = [(model.get("model_name", ""), fields)]
    for child in fields.get("children", []):
        parts += _widget_parts(child.removeprefix("IPY_MODEL_"), state)
    return parts


def widget_for_the_site(view: dict, state: dict) -> dict:
    """What a static page shows for a widget output, as the output's new ``data``.

    A widget with controls (sliders, lists, boxes) becomes one sentence naming them; a
    widget that only displays (a tqdm bar in Jupyter: texts and a progress bar) becomes
    its last state as a text line, e.g. ``epoch 1/6:  78%|███████▊  | 29/37``.

    Args:
        view: the output's ``application/vnd.jupyter.widget-view+json`` (its ``model_id``).
        state: the notebook's widget state, model id to ``{"model_name", "state"}``.

    Returns:
        ``{"text/html": sentence}`` or ``{"text/plain": line}``; the sentence says "a
        control" when the state names nothing.
    """
    parts = _widget_parts(view.get("model_id", ""), state)
    controls = [(CONTROL_KINDS.get(kind, "control"), fields.get("description", ""))
                for kind, fields in parts
                if kind in CONTROL_KINDS or (fields.get("description") and kind not in DISPLAY_ONLY)]
    texts = []
    for kind, fields in parts:
        if kind in ("HTMLModel", "LabelModel"):
            texts.append(html.unescape(re.sub(r"<[^>]+>", "", str(fields.get("value", "")))))
        elif kind in ("FloatProgressModel", "IntProgressModel") and fields.get("max"):
            filled = round(10 * min(max(fields.get("value", 0) / fields["max"], 0), 1))
            texts.append("|" + "█" * filled + " " * (10 - filled) + "|")
    if not controls and "".join(texts).strip():
        return {"text/plain": "".join(texts).strip()}
    named = [f"<code>{html.escape(name)}</code>" for _, name in controls if name]
    kinds = sorted({kind for kind, _ in controls})
    if not named:
        what = "a control"
    elif len(named) == 1:
        what = f"the {kinds[0] if len(kinds) == 1 else 'control'} {named[0]}"
    else:
        noun = kinds[0] + "s" if len(kinds) == 1 else "controls"
        what = f"the {noun} " + ", ".join(named[:-1]) + " and " + named[-1]
    return {"text/html": (
        f'<p class="cgalib-live-control">Live in Jupyter: {what}. A live control needs a '
        "running kernel, so the site shows this sentence instead; run the notebook in "
        "JupyterLab or VS Code to use it.</p>"
    )}


def smaller_figure(data: dict) -> dict:
    """An output's ``data`` with a PNG over ``JPEG_ABOVE`` bytes stored as a JPEG (quality
    90) when that is smaller; other outputs unchanged. Keeps the site and git small."""
    png = base64.b64decode(data.get("image/png", ""))
    if len(png) <= JPEG_ABOVE:
        return data
    from PIL import Image

    buffer = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").save(buffer, "JPEG", quality=90)
    if buffer.tell() >= len(png):
        return data
    rest = {k: v for k, v in data.items() if k != "image/png"}
    return {"image/jpeg": base64.b64encode(buffer.getvalue()).decode(), **rest}


def for_the_site(nb) -> None:
    """Turn an executed notebook's outputs into what a static page can show, in place."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in cell.outputs:
            if out.output_type == "stream":
                if outputs and outputs[-1].output_type == "stream" and outputs[-1].name == out.name:
                    outputs[-1].text += out.text  # a progress bar's many updates: one block
                    continue
            elif WIDGET_VIEW in out.get("data", {}):
                out.data = widget_for_the_site(out.data[WIDGET_VIEW], state)
            elif "data" in out:
                out.data = smaller_figure(out.data)
            outputs.append(out)
        for out in outputs:
            if out.output_type == "stream":
                out.text = last_line_state(out.text)
        cell.outputs = outputs
    nb.metadata.pop("widgets", None)


def page_note(path: Path, seconds: float, fast: bool, device: str) -> str:
    """The admonition under a page's title that says where its outputs come from."""
    sizes = "the quick sizes (`CGALIB_FAST=1`)" if fast else "its full sizes"
    return (
        '!!! note "Executed notebook"\n'
        f"    The outputs below come from running `notebooks/{path.name}` with {sizes} on "
        f"{device} ({seconds:.0f} s, {datetime.date.today().isoformat()}); "
        "`make notebooks` renders this page again. Run it yourself with "
        f"`jupyter lab notebooks/{path.name}`.\n"
    )


def render(path: Path) -> dict:
    """Execute one notebook and write its page and figures to ``docs/notebooks/``.

    Returns:
        The notebook's entry of ``sources.json``: hash, date, sizes, device, seconds.

    Raises:
        RuntimeError: the notebook failed (one line naming it and the error); nothing of
            its previous page is changed.
    """
    import nbclient_wakeup  # noqa: F401  (replies whose wake-up was missed: see the module)
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from nbconvert import MarkdownExporter

    nb = nbformat.read(path, as_version=4)
    fast = os.environ.get("CGALIB_FAST") == "1"
    start = time.perf_counter()
    client = NotebookClient(
        nb, timeout=CELL_TIMEOUT, kernel_name="python3", store_widget_state=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
        last = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
        raise RuntimeError(f"{path.relative_to(ROOT)} failed: {last}; its page is unchanged") from None
    seconds = time.perf_counter() - start
    device = "a CUDA GPU" if _has_cuda() else f"a CPU ({platform.machine()})"
    for_the_site(nb)
    body, resources = MarkdownExporter().from_notebook_node(
        nb, resources={"output_files_dir": f"{path.stem}_files", "unique_key": path.stem}
    )
    title, _, rest = body.lstrip().partition("\n")
    if not title.startswith("# "):
        raise RuntimeError(f"{path.relative_to(ROOT)}: the first cell must start with a '# ' title")
    page = f"{title}\n\n{page_note(path, seconds, fast, device)}\n{rest.lstrip()}"
    page = re.sub(r"\n{3,}", "\n\n", page).rstrip() + "\n"
    files = OUT / f"{path.stem}_files"
    shutil.rmtree(files, ignore_errors=True)
    for name, data in resources.get("outputs", {}).items():
        (OUT / name).parent.mkdir(parents=True, exist_ok=True)
        (OUT / name).write_bytes(data)
    (OUT / f"{path.stem}.md").write_text(page, encoding="utf-8")
    return {
        "sha256": source_hash(path),
        "date": datetime.date.today().isoformat(),
        "fast": fast,
        "device": device,
        "seconds": round(seconds, 1),
    }


def _has_cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def main(argv: list[str] | None = None) -> int:
    """Render the notebooks named (default: all) and update ``sources.json``.

    Returns:
        0 when every page was written; 1 with one line on stderr when a notebook failed.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebooks to render (default: all), e.g. 02")
    parser.add_argument("--check", action="store_true",
                        help="only list the pages older than their notebook; exit 1 if any")
    args = parser.parse_args(argv)
    try:
        paths = notebook_paths(args.names)
    except FileNotFoundError as err:
        print(f"render_notebooks: {err}", file=sys.stderr)
        return 1
    if args.check:
        stale = stale_pages(paths)
        for name in stale:
            print(f"docs/notebooks/{name}.md is older than notebooks/{name}.ipynb")
        return 1 if stale else 0
    OUT.mkdir(parents=True, exist_ok=True)
    # the kernels import this checkout's cgalib, whatever the environment has installed
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    recorded = json.loads(SOURCES.read_text()) if SOURCES.exists() else {}
    for path in paths:
        print(f"rendering {path.relative_to(ROOT)} ...", flush=True)
        try:
            recorded[path.stem] = render(path)
        except RuntimeError as err:
            print(f"render_notebooks: {err}", file=sys.stderr)
            return 1
        finally:  # the pages already written stay recorded
            SOURCES.write_text(json.dumps(dict(sorted(recorded.items())), indent=2) + "\n")
        print(f"  wrote docs/notebooks/{path.stem}.md ({recorded[path.stem]['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
