import pytest

from cgalib.cli import main


def test_models_lists_registered_builders(capsys):
    assert main(["models", "tnet_*"]) == 0
    assert capsys.readouterr().out.split() == ["tnet_d1w64", "tnet_d3w64", "tnet_d3w96"]


def test_summary_reports_pyramid(capsys):
    assert main(["summary", "tnet_d1w64", "--height", "64", "--width", "96"]) == 0
    out = capsys.readouterr().out
    assert "7.29M parameters" in out
    assert "| L3 | 32 | (1, 256, 2, 3) |" in out


def test_unknown_command_exits_with_usage():
    with pytest.raises(SystemExit):
        main(["nope"])
