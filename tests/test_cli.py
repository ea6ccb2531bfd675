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


def test_the_precision_choices_are_the_library_precisions():
    import argparse

    from cgalib.cli import build_parser
    from cgalib.utils.precision import PRECISIONS

    commands = next(
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    for name in ("eval", "predict"):
        (flag,) = [a for a in commands.choices[name]._actions if "--precision" in a.option_strings]
        assert tuple(flag.choices) == PRECISIONS
