"""A run's ``metrics.csv``: rows appended as training goes, cut back when a run resumes."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from cgalib.utils.files import atomic_open

__all__ = ["MetricsLog"]


class MetricsLog:
    """The CSV log of a run: a header, then one row per logged step (a ``step`` column).

    A run killed after logging steps its last checkpoint does not hold would log them
    again when it resumes; [`truncate()`][truncate] first removes every row past the checkpoint's
    step (and a last row cut short by the kill), so each step appears once.

    Args:
        path: the CSV file (created with the first row).

    Examples:
        >>> import tempfile, pathlib
        >>> with tempfile.TemporaryDirectory() as d:
        ...     log = MetricsLog(pathlib.Path(d) / "metrics.csv")
        ...     for step in (10, 20, 30):
        ...         log.append({"step": step, "loss": 1.0 / step})
        ...     log.truncate(20)
        ...     [row["step"] for row in log.rows()]
        1
        ['10', '20']
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def append(self, row: dict[str, float | int]) -> None:
        """Append one row; the first row also writes the header (its keys)."""
        new = not self.path.exists() or self.path.stat().st_size == 0
        with self.path.open("a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(row))
            if new:
                writer.writeheader()
            writer.writerow(row)

    def rows(self) -> list[dict[str, str]]:
        """The complete rows, as strings (a last line without its newline is left out)."""
        if not self.path.is_file():
            return []
        text = self.path.read_text()
        if not text.endswith("\n"):
            text = text[: text.rfind("\n") + 1]
        reader = csv.DictReader(io.StringIO(text))
        return [row for row in reader if None not in row.values() and None not in row]

    def truncate(self, step: int) -> int:
        """Keep the rows up to ``step``; returns how many were removed.

        The file is rewritten atomically, and only when there is something to remove.

        Raises:
            ValueError: if the file has no ``step`` column.
        """
        if not self.path.is_file():
            return 0
        with self.path.open(newline="") as f:
            header = next(csv.reader(f), None)
            total = sum(1 for _ in f)
        if not header:
            return 0
        if "step" not in header:
            raise ValueError(f"{self.path} has no 'step' column; it is not a cgalib metrics log")
        kept = [row for row in self.rows() if int(float(row["step"])) <= step]
        if len(kept) == total:
            return 0
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=header, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(kept)
        with atomic_open(self.path, newline="", encoding="utf-8") as f:
            f.write(out.getvalue())
        return total - len(kept)
