"""Write a script's results into a page between a pair of HTML-comment markers.

A page holds one block per script (and per device, where a script measures several),
between a start and an end marker line:

    <!-- peers:cpu:start -->
    ...written by the script...
    <!-- peers:cpu:end -->

Everything outside the block is kept byte for byte (line endings and encoding
included), so a GPU run never erases the CPU block and hand-written text around the
blocks survives every run. The markers are HTML comments: a rendered page shows only
the block's content.

Example:
    >>> page = "# Results\\n\\n<!-- speed:start -->\\nold\\n<!-- speed:end -->\\nnotes\\n"
    >>> print(replace_block(page, "speed", "| fps |\\n|---|\\n| 12 |"), end="")
    # Results
    <BLANKLINE>
    <!-- speed:start -->
    | fps |
    |---|
    | 12 |
    <!-- speed:end -->
    notes
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "block_content",
    "block_markers",
    "check_block",
    "page_with_block",
    "replace_block",
    "write_block",
]


def block_markers(name: str) -> tuple[str, str]:
    """The start and end markers of the block ``name``.

    Args:
        name: the block's name, e.g. ``"peers:cpu"``; any text without ``-->`` or a line
            break.

    Returns:
        ``(start, end)``, the two marker lines without their line breaks.

    Raises:
        ValueError: for an empty name, or one holding ``-->`` or a line break.

    Example:
        >>> block_markers("peers:cpu")
        ('<!-- peers:cpu:start -->', '<!-- peers:cpu:end -->')
    """
    if not name or "-->" in name or "\n" in name or "\r" in name:
        raise ValueError(f"a block name is one line of text without '-->', got {name!r}")
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def check_block(text: str, name: str, source: str = "the page") -> tuple[int, int]:
    """Where the block ``name`` lies in ``text``.

    A script that measures for a long time calls this on its page before it starts, so
    a page without the markers fails at once instead of after the measurement.

    Args:
        text: the page's content.
        name: the block's name, e.g. ``"peers:cpu"``.
        source: how to name the page in an error, e.g. its path.

    Returns:
        ``(begin, end)``: the index just after the start marker and that of the end
        marker.

    Raises:
        ValueError: one line naming ``source`` and the marker when a marker is missing,
            repeated, or the end comes before the start.

    Example:
        >>> text = "a\\n<!-- t:start -->\\nb\\n<!-- t:end -->\\n"
        >>> begin, end = check_block(text, "t")
        >>> text[begin:end]
        '\\nb\\n'
    """
    start, end = block_markers(name)
    for marker in (start, end):
        count = text.count(marker)
        if count != 1:
            found = "has no" if count == 0 else f"has {count} lines"
            raise ValueError(
                f"{source} {found} {marker!r}; it needs exactly one {start!r} line and one "
                f"{end!r} line after it, where the script writes its block"
            )
    begin, stop = text.index(start) + len(start), text.index(end)
    if stop < begin:
        raise ValueError(f"{source}: {end!r} comes before {start!r}; put the end marker after")
    return begin, stop


def page_with_block(*names: str) -> Callable[[str], Path]:
    """An argparse ``type`` for a page that a script will write the blocks ``names`` into.

    The page is read and its markers checked when the arguments are parsed, so a missing
    page or marker ends the script with argparse's one-line error before it measures,
    instead of a traceback after.

    Args:
        names: the blocks the script writes, e.g. ``"demo-steps"``.

    Returns:
        A function from the argument's text to the page's path, raising
        ``argparse.ArgumentTypeError`` (one line naming the page) for a page that cannot be
        read or lacks a block's markers.

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> _ = parser.add_argument("--write-docs", type=page_with_block("speed"))
        >>> page_with_block("speed")("no/such/page.md")
        Traceback (most recent call last):
        ...
        argparse.ArgumentTypeError: cannot read no/such/page.md (No such file or directory)
    """

    def page(text: str) -> Path:
        path = Path(text)
        try:
            content = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as err:
            reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
            raise argparse.ArgumentTypeError(f"cannot read {path} ({reason})") from None
        for name in names:
            try:
                check_block(content, name, str(path))
            except ValueError as err:
                raise argparse.ArgumentTypeError(str(err)) from None
        return path

    return page


def block_content(text: str, name: str, source: str = "the page") -> str:
    """The content of the block ``name``: what lies between its marker lines.

    The inverse of [`replace_block()`][replace_block]: ``replace_block(text, name,
    block_content(text, name))`` is ``text`` for a block written without blank lines
    around its content (pass the same ``blank_lines`` for one written with them).

    Args:
        text: the page's content.
        name: the block's name.
        source: how to name the page in an error.

    Returns:
        The text between the line break after the start marker and the one before the
        end marker.

    Raises:
        ValueError: as [`check_block()`][check_block].

    Example:
        >>> block_content("a\\n<!-- t:start -->\\nb\\nc\\n<!-- t:end -->\\n", "t")
        'b\\nc'
    """
    begin, stop = check_block(text, name, source)
    inner = text[begin:stop]
    inner = inner[2:] if inner.startswith("\r\n") else inner.removeprefix("\n")
    return inner[:-2] if inner.endswith("\r\n") else inner.removesuffix("\n")


def replace_block(
    text: str, name: str, body: str, source: str = "the page", blank_lines: bool = False
) -> str:
    """``text`` with the content of the block ``name`` replaced by ``body``.

    Args:
        text: the page's content.
        name: the block's name.
        body: the new content; its leading and trailing line breaks are dropped and it
            sits on its own lines between the markers.
        source: how to name the page in an error.
        blank_lines: put a blank line between each marker and ``body`` (pages whose block
            opens or closes with a table keep the layout they were written with).

    Returns:
        The new page; everything up to the start marker and from the end marker on is
        unchanged.

    Raises:
        ValueError: as [`check_block()`][check_block].

    Example:
        >>> page = "intro\\n<!-- t:start -->\\nold\\n<!-- t:end -->\\nrest\\n"
        >>> replace_block(page, "t", "new")
        'intro\\n<!-- t:start -->\\nnew\\n<!-- t:end -->\\nrest\\n'
        >>> replace_block(page, "t", "new", blank_lines=True)
        'intro\\n<!-- t:start -->\\n\\nnew\\n\\n<!-- t:end -->\\nrest\\n'
    """
    begin, stop = check_block(text, name, source)
    gap = "\n\n" if blank_lines else "\n"
    return text[:begin] + gap + body.strip("\r\n") + gap + text[stop:]


def write_block(path: str | os.PathLike, name: str, body: str, blank_lines: bool = False) -> bool:
    """Replace the block ``name`` of the page at ``path`` (see [`replace_block()`][replace_block]).

    The page is read and written as UTF-8 bytes, so its line endings are kept; a page
    whose block already holds ``body`` is not written again.

    Args:
        path: the page.
        name: the block's name.
        body: the new content.
        blank_lines: put a blank line between each marker and ``body``.

    Returns:
        Whether the page changed.

    Raises:
        FileNotFoundError: the page does not exist.
        ValueError: as [`check_block()`][check_block], naming ``path``.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     page = Path(d) / "page.md"
        ...     _ = page.write_text("<!-- t:start -->\\n<!-- t:end -->\\n")
        ...     changed = write_block(page, "t", "| a |"), write_block(page, "t", "| a |")
        ...     content = page.read_text()
        >>> changed, content
        ((True, False), '<!-- t:start -->\\n| a |\\n<!-- t:end -->\\n')
    """
    path = Path(path)
    text = path.read_bytes().decode("utf-8")
    new = replace_block(text, name, body, str(path), blank_lines)
    if new == text:
        return False
    path.write_bytes(new.encode("utf-8"))
    return True
