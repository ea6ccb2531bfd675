"""Open the built site in headless Chromium, from disk, the way a reader's browser shows it.

Run:  python docs/scripts/site_browser.py SITE_DIR [--screenshots DIR] [--width 1300]

Every page of ``SITE_DIR`` (a ``mkdocs build`` output) is opened as ``file://`` in one
browser, driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: the
standard library only, no websocket client). For each page it records

- the console errors, uncaught exceptions, failed loads (``Runtime``/``Log`` events) and
  any request that leaves the disk (``Network``: a font or script from another host);
- every mermaid diagram: whether it became an SVG (mkdocs-material draws it in a closed
  shadow root; a script added before the page's own opens it for reading) and the size
  the SVG is drawn at;
- with ``--screenshots``, a PNG of the whole page.

``tests/test_site_browser.py`` fails on any error or undrawn diagram; the command prints
the same report. Chromium: ``/usr/bin/chromium`` (Debian's ``chromium`` package) or the
``CHROMIUM`` environment variable.
"""

from __future__ import annotations

import argparse
import base64
import fcntl
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = "sudo apt-get install -y chromium  (Debian/Ubuntu; `make test` does it as root)"

# Before any script of the page: closed shadow roots open (material draws mermaid diagrams
# into one), so the check can find each diagram's SVG.
OPEN_SHADOW_ROOTS = """
(() => {
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    return attach.call(this, Object.assign({}, init, {mode: "open"}));
  };
})();
"""

# Every diagram on the page: drawn (an SVG) or not, its drawn size and its scale (drawn
# width over the width mermaid laid it out at: below 1 its text is shrunk to fit the column).
DIAGRAMS = """
(() => Array.from(document.querySelectorAll(".mermaid")).map((el) => {
  const svg = el.shadowRoot ? el.shadowRoot.querySelector("svg") : el.querySelector("svg");
  if (!svg) return {svg: false, source: el.textContent.slice(0, 80)};
  const box = svg.getBoundingClientRect();
  const natural = svg.viewBox.baseVal ? svg.viewBox.baseVal.width : box.width;
  return {svg: true, width: box.width, height: box.height,
          scale: natural ? box.width / natural : 1};
}))()
"""

# What the text column hides behind a horizontal scroll: code blocks (their longest line)
# and tables (their header row).
HIDDEN = """
(() => {
  const wide = (el) => el.scrollWidth > el.clientWidth + 1;
  const code = Array.from(document.querySelectorAll(".md-content pre > code")).filter(wide)
    .map((el) => "code: " + el.textContent.split("\\n")
      .reduce((a, b) => (b.length > a.length ? b : a), "").trim().slice(0, 120));
  const tables = Array.from(document.querySelectorAll(".md-content .md-typeset__scrollwrap"))
    .filter(wide).map((el) => "table: " + (el.querySelector("tr") || el).textContent
      .replace(/\\s+/g, " ").trim().slice(0, 120));
  return code.concat(tables);
})()
"""

# Drawn diagrams: material swaps each `<pre class="mermaid">` for a `<div class="mermaid">`
# holding the SVG; a diagram mermaid cannot parse stays a `<pre>` and throws.
DRAWN = """
(() => document.readyState === "complete" ?
  Array.from(document.querySelectorAll("div.mermaid")).filter((el) => el.shadowRoot).length : -1)()
"""
LOCAL_SCHEMES = ("file", "data", "blob", "about")
"""Where a page opened from disk may load from; anything else needs the network."""
FENCE = re.compile(r'<pre class="mermaid"')


def find_chromium() -> str | None:
    """The Chromium executable: ``$CHROMIUM`` when set (None if it names nothing runnable),
    else the first of :data:`CANDIDATES` on PATH."""
    if os.environ.get("CHROMIUM"):
        return shutil.which(os.environ["CHROMIUM"])
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


@dataclass
class PageReport:
    """What one page did in the browser.

    Attributes:
        page: the page's path inside the site.
        errors: console errors, uncaught exceptions and failed loads, as one line each.
        diagrams: one dict per mermaid diagram (``svg``; when drawn ``width`` and
            ``height`` in CSS pixels and ``scale``, drawn over laid-out width).
        hidden: code blocks and tables wider than the text column, one line each.
        screenshot: the PNG written for the page, or None.
    """

    page: str
    errors: list[str] = field(default_factory=list)
    diagrams: list[dict] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)
    screenshot: Path | None = None


class Browser:
    """Headless Chromium over ``--remote-debugging-pipe`` (fd 3 in, fd 4 out, JSON + NUL).

    Args:
        executable: the Chromium binary.
        width: the window's width in CSS pixels.
    """

    def __init__(self, executable: str, width: int = 1300) -> None:
        self.width = width
        self._profile = tempfile.TemporaryDirectory(prefix="cgalib-chromium-")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # The child's ends moved above fd 9 (close-on-exec), so that placing them on fds 3
        # and 4 in the child never overwrites one with the other.
        ends = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_chrome_r, from_chrome_w)]
        for fd in (to_chrome_r, from_chrome_w):
            os.close(fd)

        def _protocol_fds() -> None:  # in the child, before exec: dup2 leaves 3 and 4 open
            os.dup2(ends[0], 3)
            os.dup2(ends[1], 4)

        self._proc = subprocess.Popen(
            [executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--hide-scrollbars", "--mute-audio",
             f"--user-data-dir={self._profile.name}",
             f"--window-size={width},900", "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False, preexec_fn=_protocol_fds,
        )
        for fd in ends:
            os.close(fd)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=True)
        self.call("Page.addScriptToEvaluateOnNewDocument", session=True, source=OPEN_SHADOW_ROOTS)
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=width, height=900,
                  deviceScaleFactor=1, mobile=False)

    def _read(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium sent nothing")
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                raise RuntimeError(f"Chromium closed the pipe (exit {self._proc.poll()})")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, session: bool = False, timeout: float = 60, **params) -> dict:
        """Send one protocol command and return its result (events meanwhile are kept)."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self._session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read(timeout)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._events.append(reply)

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page."""
        result = self.call("Runtime.evaluate", session=True, expression=expression,
                           returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{result['result'].get('description')} in {expression[:80]!r}")
        return result["result"].get("value")

    def open(self, url: str, diagrams: int = 0, timeout: float = 20) -> list[str]:
        """Load ``url`` and wait until its ``diagrams`` are drawn or it reports an error.

        Returns:
            The errors it reported, one line each, a diagram left undrawn included.
        """
        self._events.clear()
        self.call("Page.navigate", session=True, url=url)
        deadline = time.monotonic() + timeout
        while (drawn := self.evaluate(DRAWN)) < diagrams:
            if drawn >= 0 and any(map(_error_line, self._events)):
                break
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        time.sleep(0.3)  # late console messages
        self.evaluate("0")  # collect the events sent meanwhile
        errors = [line for event in self._events if (line := _error_line(event))]
        if drawn < diagrams:
            errors.append(f"{max(drawn, 0)} of {diagrams} diagrams drawn after {timeout} s")
        return errors

    def screenshot(self, path: Path) -> None:
        """The whole page (not only the window) as a PNG."""
        height = int(self.evaluate("document.documentElement.scrollHeight"))
        shot = self.call("Page.captureScreenshot", session=True, format="png",
                         captureBeyondViewport=True,
                         clip={"x": 0, "y": 0, "width": self.width, "height": height,
                               "scale": 1})
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        """Quit Chromium and remove its profile."""
        try:
            self.call("Browser.close", timeout=10)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)
        self._profile.cleanup()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _error_line(event: dict) -> str | None:
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
        args = params.get("args", [])
        return "console: " + " ".join(
            str(a.get("value", a.get("description", ""))) for a in args
        )[:300]
    if method == "Runtime.exceptionThrown":
        details = params.get("exceptionDetails", {})
        text = details.get("exception", {}).get("description") or details.get("text", "")
        return "exception: " + text[:300]
    if method == "Network.requestWillBeSent":
        url = params.get("request", {}).get("url", "")
        if url.split(":", 1)[0] not in LOCAL_SCHEMES:
            return f"remote request: {url[:200]}"
        return None
    if method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
        if "net::ERR_NAME_NOT_RESOLVED" in params["entry"].get("text", ""):
            return None  # offline: the remote request above already says it
        entry = params["entry"]
        return f"{entry.get('source')}: {entry.get('text', '')[:200]} {entry.get('url', '')}"
    return None


def check_site(site: Path, executable: str, screenshots: Path | None = None,
               width: int = 1300, only: str = "*") -> list[PageReport]:
    """Open every page of ``site`` (those matching the glob ``only``) from disk in one
    browser; one report per page."""
    reports = []
    with Browser(executable, width=width) as browser:
        for page in sorted(site.rglob("*.html")):
            if not fnmatch.fnmatch(page.relative_to(site).as_posix(), only):
                continue
            name = page.relative_to(site).as_posix()
            fences = len(FENCE.findall(page.read_text(encoding="utf-8")))
            report = PageReport(name, errors=browser.open(page.resolve().as_uri(), fences))
            report.diagrams = browser.evaluate(DIAGRAMS) or []
            report.hidden = browser.evaluate(HIDDEN) or []
            if screenshots is not None:
                report.screenshot = screenshots / (name.replace("/", "__")[:-5] + ".png")
                browser.screenshot(report.screenshot)
            reports.append(report)
    return reports


MIN_SCALE = 0.8
"""A diagram drawn below this fraction of its laid-out width has text under ~13 px."""
MAX_HEIGHT = 1000
"""A diagram taller than this (CSS px) does not fit a laptop's screen twice over."""


CODE_MAY_SCROLL = ("api/", "notebooks/")
"""Pages whose code is written for the source files (doctests, notebook cells: 100
columns), where a code line may scroll; elsewhere code is written for the page."""


def problems(report: PageReport) -> list[str]:
    """What a reader would see broken on the page, one line each (empty: nothing).

    Errors, undrawn diagrams, diagrams shrunk below :data:`MIN_SCALE` or taller than
    :data:`MAX_HEIGHT`, tables hidden behind a horizontal scroll, and code lines hidden
    so outside the pages of :data:`CODE_MAY_SCROLL`.
    """
    found = list(report.errors)
    for i, d in enumerate(report.diagrams, 1):
        if not d["svg"]:
            found.append(f"diagram {i} not drawn: {d['source']!r}")
        elif d["scale"] < MIN_SCALE:
            found.append(f"diagram {i} shrunk to {d['scale']:.2f} of its size "
                         f"({d['width']:.0f} px wide): its text is too small to read")
        elif d["height"] > MAX_HEIGHT:
            found.append(f"diagram {i} is {d['height']:.0f} px tall")
    code_may_scroll = report.page.startswith(CODE_MAY_SCROLL)
    return found + [
        f"hidden behind a scroll: {line}" for line in report.hidden
        if not (code_may_scroll and line.startswith("code:"))
    ]


def main(argv: list[str] | None = None) -> int:
    """Print each page's diagrams and problems; exit 1 when a page has any."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="a built site (mkdocs build --site-dir)")
    parser.add_argument("--screenshots", type=Path, help="write one PNG per page here")
    parser.add_argument("--width", type=int, default=1300, help="window width, CSS px")
    parser.add_argument("--only", default="*", help="pages matching this glob (default: all)")
    args = parser.parse_args(argv)
    executable = find_chromium()
    if executable is None:
        print(f"no Chromium found; install it: {INSTALL_HINT}", file=sys.stderr)
        return 2
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    failed = 0
    for report in check_site(args.site, executable, args.screenshots, args.width, args.only):
        found = problems(report)
        failed += bool(found)
        sizes = ", ".join(
            f"{d['width']:.0f}x{d['height']:.0f} px at {d['scale']:.2f}" if d["svg"] else "not drawn"
            for d in report.diagrams
        )
        print(f"{report.page}: {len(found)} problems" + (f"; diagrams {sizes}" if sizes else ""))
        for line in found:
            print("   ", line)
    print(f"{failed} pages with problems")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
