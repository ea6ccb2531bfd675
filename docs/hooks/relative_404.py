"""mkdocs hook: the built ``404.html`` opens from disk as well as from a web server.

mkdocs renders the error page with root-absolute links (``/assets/...``), which a
``file://`` page resolves against the file system's root. After the build, the page's links
become relative to the site root (where ``404.html`` lies) and, unless the page was opened
from disk, a ``<base href="/">`` added first in ``<head>`` resolves them as before.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT_ABSOLUTE = re.compile(r'\b(href|src)="/(?!/)')
CONFIG_PATHS = re.compile(r'"(base|search)": "/')
BASE = (
    '<script>if (location.protocol !== "file:") '
    'document.head.appendChild(Object.assign(document.createElement("base"), {href: "/"}))'
    "</script>"
)


def relative_404(html: str) -> str:
    """The error page's root-absolute links made relative, with the server's base restored.

    Example:
        >>> relative_404('<head><link href="/assets/a.css"></head>')[:6]
        '<head>'
        >>> 'href="assets/a.css"' in relative_404('<head><link href="/assets/a.css"></head>')
        True
    """
    html = ROOT_ABSOLUTE.sub(r'\1="', html)
    html = CONFIG_PATHS.sub(lambda m: f'"{m.group(1)}": "' + ("." if m.group(1) == "base" else ""), html)
    return html.replace("<head>", "<head>" + BASE, 1)


def on_post_build(config, **kwargs) -> None:
    """Rewrite ``site_dir/404.html`` (mkdocs calls this once the site is written)."""
    page = Path(config["site_dir"]) / "404.html"
    if page.is_file():
        page.write_text(relative_404(page.read_text(encoding="utf-8")), encoding="utf-8")
