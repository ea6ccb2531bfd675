"""Write a benchmark's tables into a docs page between a pair of HTML-comment markers.

A page holds a block per benchmark and device, e.g.::

    <!-- peers:cpu:start -->
    ...written by the script...
    <!-- peers:cpu:end -->

Everything outside the block is kept byte for byte, so a GPU run never erases the CPU
block and hand-written text around the blocks survives every run.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["check_block", "markers", "replace_block", "write_block"]


def markers(name: str) -> tuple[str, str]:
    """The start and end markers of the block ``name``.

    Example:
        >>> markers("peers:cpu")
        ('<!-- peers:cpu:start -->', '<!-- peers:cpu:end -->')
    """
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def check_block(text: str, name: str, source: str = "the page") -> tuple[int, int]:
    """Where the block ``name`` lies in ``text``.

    Args:
        text: the page's content.
        name: the block's name, e.g. ``"peers:cpu"``.
        source: how to name the page in an error, e.g. its path.

    Returns:
        ``(begin, end)``: the index just after the start marker and that of the end marker.

    Raises:
        ValueError: one line naming ``source`` and the marker when a marker is missing,
            repeated, or the end comes before the start.
    """
    start, end = markers(name)
    for marker in (start, end):
        count = text.count(marker)
        if count != 1:
            found = "has no" if count == 0 else f"has {count} lines"
            raise ValueError(
                f"{source} {found} {marker!r}; it needs exactly one {start!r} line and one "
                f"{end!r} line after it, where the script writes its tables"
            )
    begin, stop = text.index(start) + len(start), text.index(end)
    if stop < begin:
        raise ValueError(f"{source}: {end!r} comes before {start!r}; put the end marker after")
    return begin, stop


def replace_block(text: str, name: str, body: str, source: str = "the page") -> str:
    """``text`` with the content between the markers of ``name`` replaced by ``body``.

    Args:
        text: the page's content.
        name: the block's name.
        body: the new content; it sits on its own lines between the markers.
        source: how to name the page in an error.

    Returns:
        The new page; everything up to the start marker and from the end marker on is
        unchanged.

    Raises:
        ValueError: as :func:`check_block`.

    Example:
        >>> page = "intro\\n<!-- t:start -->\\nold\\n<!-- t:end -->\\nrest\\n"
        >>> replace_block(page, "t", "new")
        'intro\\n<!-- t:start -->\\nnew\\n<!-- t:end -->\\nrest\\n'
    """
    begin, stop = check_block(text, name, source)
    return text[:begin] + "\n" + body.strip("\n") + "\n" + text[stop:]


def write_block(path: str | Path, name: str, body: str) -> None:
    """Replace the block ``name`` of the page at ``path`` (see :func:`replace_block`).

    The page is read and written as UTF-8 bytes, so its line endings are kept.

    Raises:
        FileNotFoundError: the page does not exist.
        ValueError: as :func:`check_block`, naming ``path``.
    """
    path = Path(path)
    text = path.read_bytes().decode("utf-8")
    path.write_bytes(replace_block(text, name, body, str(path)).encode("utf-8"))
