"""The README's quickstart must run as written."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_quickstart_runs(capsys, monkeypatch, tmp_path):
    text = (ROOT / "README.md").read_text()
    code = re.search(r"## Quickstart\s+```python\n(.*?)```", text, re.S).group(1)
    assert len(code.strip().splitlines()) <= 12
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README quickstart", "exec"), {})
    count, scores = capsys.readouterr().out.strip().split(" ", 1)
    assert int(count) >= 1 and eval(scores) == sorted(eval(scores), reverse=True)
    assert (tmp_path / "poses.png").stat().st_size > 10_000


def test_readme_gives_the_two_commands():
    text = (ROOT / "README.md").read_text()
    assert "make demo" in text and "make test" in text
