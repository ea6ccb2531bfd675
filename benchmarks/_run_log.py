"""The results file of a benchmark that measures one run at a time (``demo_levers.py``,
``roi_width_accuracy.py``): ``{"runs": [...]}``, every run kept, the pages written from it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def recorded_runs(path: Path) -> list[dict[str, Any]]:
    """The runs of the results file at ``path`` (none before the first)."""
    return json.loads(path.read_text())["runs"] if path.is_file() else []


def record_run(path: Path, run: Mapping[str, Any], note: str | None = None) -> None:
    """Append ``run`` (with ``note``: what it shared the CPU with, when given) to the results
    file, read just before: other runs may have been recorded while this one ran."""
    runs = recorded_runs(path)
    runs.append({**run, "note": note} if note else dict(run))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"runs": runs}, indent=2) + "\n")
