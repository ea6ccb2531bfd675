"""Every example script runs on tiny inputs."""

import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_backbone_pyramid_example(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["backbone_pyramid.py", "--size", "64"])
    runpy.run_path(str(EXAMPLES / "backbone_pyramid.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "L0: stride  4, shape (1, 96, 16, 16)" in out


@pytest.mark.parametrize("bad", ["--size", "nope"])
def test_example_rejects_bad_arguments(bad, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["backbone_pyramid.py", bad])
    with pytest.raises(SystemExit):
        runpy.run_path(str(EXAMPLES / "backbone_pyramid.py"), run_name="__main__")
