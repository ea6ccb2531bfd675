"""cgalib.utils.doc_blocks: only the marked block of a page changes, byte for byte."""

import pytest

from cgalib.utils import block_content, block_markers, check_block, replace_block, write_block

PAGE = (
    "# Benchmarks\r\n\r\nHand-written text, ünïcödé.\n"
    "<!-- peers:cpu:start -->\nold cpu tables\n<!-- peers:cpu:end -->\n"
    "between\n\n"
    "<!-- peers:cuda:start -->\nold gpu tables\n<!-- peers:cuda:end -->\n"
    "tail without a final newline"
)


def test_write_block_replaces_only_the_marked_block(tmp_path):
    page = tmp_path / "benchmarks.md"
    page.write_bytes(PAGE.encode("utf-8"))
    assert write_block(page, "peers:cpu", "\n| new | table |\n")
    after = page.read_bytes()
    before = PAGE.encode("utf-8")
    start, end = (m.encode() for m in block_markers("peers:cpu"))
    head = before[: before.index(start) + len(start)]
    rest = before[before.index(end) :]
    assert after == head + b"\n| new | table |\n" + rest
    assert not write_block(page, "peers:cpu", "| new | table |")  # idempotent
    assert page.read_bytes() == after


@pytest.mark.parametrize("blank_lines", [False, True])
def test_writing_a_block_its_own_content_leaves_the_page_unchanged(blank_lines):
    page = replace_block(PAGE, "peers:cuda", "| a |\n|---|\n| 1 |", blank_lines=blank_lines)
    content = block_content(page, "peers:cuda")
    assert content == ("\n| a |\n|---|\n| 1 |\n" if blank_lines else "| a |\n|---|\n| 1 |")
    assert replace_block(page, "peers:cuda", content, blank_lines=blank_lines) == page


def test_blank_lines_separate_the_body_from_both_markers():
    page = "a\n<!-- t:start -->\nold\n<!-- t:end -->\nb"
    new = replace_block(page, "t", "| x |\n|---|", blank_lines=True)
    assert new == "a\n<!-- t:start -->\n\n| x |\n|---|\n\n<!-- t:end -->\nb"


def test_the_content_of_a_page_with_windows_line_endings():
    page = "a\r\n<!-- t:start -->\r\nrow 1\r\nrow 2\r\n<!-- t:end -->\r\n"
    assert block_content(page, "t") == "row 1\r\nrow 2"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no markers at all\n", "has no '<!-- peers:cpu:start -->'"),
        (PAGE.replace("<!-- peers:cpu:end -->", ""), "has no '<!-- peers:cpu:end -->'"),
        (PAGE + "\n<!-- peers:cpu:start -->\n", "has 2 lines '<!-- peers:cpu:start -->'"),
        ("<!-- peers:cpu:end -->\n<!-- peers:cpu:start -->\n", "comes before"),
    ],
)
def test_check_block_refuses_a_bad_page(text, message):
    with pytest.raises(ValueError, match="^page.md") as info:
        check_block(text, "peers:cpu", "page.md")
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_missing_page_is_named(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_block(tmp_path / "absent.md", "t", "x")


@pytest.mark.parametrize("name", ["", "a -->", "two\nlines"])
def test_a_name_that_cannot_be_a_marker_is_refused(name):
    with pytest.raises(ValueError, match="one line of text"):
        block_markers(name)


def test_a_page_argument_is_checked_when_the_arguments_are_parsed(tmp_path, capsys):
    import argparse

    from cgalib.utils import page_with_block

    good = tmp_path / "good.md"
    good.write_text("<!-- a:start -->\n<!-- a:end -->\n<!-- b:start -->\n<!-- b:end -->\n")
    bad = tmp_path / "bad.md"
    bad.write_text("<!-- a:start -->\n<!-- a:end -->\n")
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--write-docs", type=page_with_block("a", "b"))
    assert parser.parse_args(["--write-docs", str(good)]).write_docs == good
    assert parser.parse_args([]).write_docs is None
    for page, reason in ((bad, "has no '<!-- b:start -->'"), (tmp_path / "no.md", "cannot read")):
        with pytest.raises(SystemExit) as stop:
            parser.parse_args(["--write-docs", str(page)])
        assert stop.value.code == 2
        error = capsys.readouterr().err.strip().splitlines()[-1]  # argparse: usage, then one line
        assert error.startswith("bench: error: argument --write-docs:") and reason in error
        assert str(page) in error
