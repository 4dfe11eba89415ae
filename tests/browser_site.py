"""The browser tests' harness: Chromium, the served book, a Reader.

Debian's Chromium under Playwright reads the strict build (shared with
test_book.py) over HTTP from 127.0.0.1; every request to another host is
aborted and recorded. test_browser.py and test_browser_ui.py use it.
"""

import functools
import http.server
import os
import re
import threading
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("MICROGPT_CHROMIUM", "/usr/lib/chromium/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE, LAPTOP, DESKTOP = 390, 1024, 1280
# Sphinx 7.4's search page looks up a result's anchor as a CSS
# selector without escaping it, so an id with dots (every module's,
# "#module-microgpt.course.checks.attention") is not found; it warns and shows
# the page's text instead. The one console message tolerated.
SPHINX7_SEARCH_ANCHOR = re.compile(
    r"Anchored content block not found\. .*'\[role=main\] #module-[\w.]+'"
)
TOC_PAGE = "book/06_attention.html"  # a chapter with equations and a TOC

# After the load event: wait for MathJax's first typeset, then report.
INSPECT = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  // MathJax's fonts are requested at the layout after typesetting.
  document.body.getBoundingClientRect();
  await document.fonts.ready;
  const short = (s) => s.trim().replace(/\\s+/g, " ").slice(0, 80);
  const math = [...document.querySelectorAll(".math")];
  // Prose as a reader sees it: code, scripts and typeset math left out.
  const prose = (document.querySelector("main") || document.body)
    .cloneNode(true);
  prose.querySelectorAll("pre, code, script, style, mjx-container")
    .forEach((e) => e.remove());
  const text = prose.textContent;
  // \\( \\) \\[ \\] or a $, except before an environment variable's name
  const tex = [...text.matchAll(/\\\\[()[\\]]|\\$(?![A-Z][A-Z0-9]*_\\w)/g)]
    .map((m) => short(text.slice(Math.max(0, m.index - 30), m.index + 30)));
  return {
    math: math.length,
    untypeset: math.filter((m) => !m.querySelector("mjx-container"))
      .map((m) => short(m.textContent)),
    merror: [...document.querySelectorAll("mjx-merror")]
      .map((e) => short(e.textContent)),
    tex: tex,
    images: [...document.images]
      .filter((i) => !(i.complete && i.naturalWidth > 0)).map((i) => i.src),
    widgets: document.querySelectorAll(
      "script[type^='application/vnd.jupyter.widget'], .jupyter-widgets"
    ).length,
  };
}"""


def pages(html):
    """Every page a reader can reach, index.html (a redirect) first.

    _static/*.html are the themes' template parts, not pages.
    """
    names = sorted(
        p.relative_to(html).as_posix() for p in html.rglob("*.html")
    )
    return ["index.html"] + [
        n for n in names if n != "index.html" and not n.startswith("_static/")
    ]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium under Playwright, or why there is none.

    A reason, not a failure here: each test then fails with it (a
    failure in a fixture reads as an error), and no book is built for
    nothing.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        yield (
            "playwright is missing: .venv/bin/pip install -r "
            "requirements.txt (it pins playwright)"
        )
        return
    if not Path(CHROMIUM).is_file():
        yield (
            f"Chromium is missing at {CHROMIUM}: apt-get install chromium"
            " (Debian), or set MICROGPT_CHROMIUM to a Chromium binary"
        )
        return
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def site(request, browser):
    """The built book, served on 127.0.0.1 (a free port): (html, base)."""
    if isinstance(browser, str):
        yield None
        return
    build = request.getfixturevalue("book_build")
    assert build.returncode == 0, build.log[-6000:]
    handler = functools.partial(QuietHandler, directory=str(build.html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield build.html, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Reader:
    """A fresh browser context (no stored theme) at one width.

    Every request outside the site is aborted and kept in `outside`;
    console errors, page errors and failed requests go to `problems`.
    """

    def __init__(self, browser, site, width):
        self.html, self.base = site
        self.outside, self.problems = [], []
        self.context = browser.new_context(
            viewport={"width": width, "height": 900}
        )
        self.context.set_default_timeout(20_000)
        # One parameter: Playwright passes (route, request) to a
        # handler that takes two.
        self.context.route("**/*", self.route)
        self.page = self.context.new_page()
        note = self.problems.append
        self.page.on(
            "console",
            lambda m: (
                m.type in ("error", "warning")
                and not SPHINX7_SEARCH_ANCHOR.search(m.text)
                and note(f"console {m.type}: {m.text}")
            ),
        )
        self.page.on("pageerror", lambda e: note(f"page error: {e}"))
        # A request cut short because the page moved on (ERR_ABORTED, a
        # font still loading when a test opens the next page) is no fault
        # of the site; any other failure is.
        self.page.on(
            "requestfailed",
            lambda r: (
                r.url not in self.outside
                and r.failure != "net::ERR_ABORTED"
                and note(f"failed: {r.url} ({r.failure})")
            ),
        )
        self.page.on(
            "response",
            lambda r: r.status >= 400 and note(f"HTTP {r.status}: {r.url}"),
        )

    def route(self, route):
        if route.request.url.startswith(self.base):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def open(self, path):
        self.page.goto(self.base + path)

    def close(self):
        self.context.close()


@pytest.fixture
def reader(browser, site):
    """reader(width): a new Reader; the test fails if there is no browser."""
    readers = []

    def at(width):
        if isinstance(browser, str):
            pytest.fail(browser, pytrace=False)
        readers.append(Reader(browser, site, width))
        return readers[-1]

    yield at
    for r in readers:
        r.close()


# axe-core, pinned in tests/pyodide/package.json and installed by `npm ci
# --prefix tests/pyodide`.
AXE = (
    Path(__file__).resolve().parent
    / "pyodide"
    / "node_modules"
    / "axe-core"
    / "axe.min.js"
)

# Colours settle at once: no transition is caught half-way by the
# colour-contrast rule.
STILL = "*, *::before, *::after { transition: none !important; }"

# The page's own text: the colours of its article are those of the mode,
# whatever the width. What surrounds it (the header, the sidebars and
# their buttons, the footer) is laid out, shown and hidden by the width.
ARTICLE = ".bd-article"

# axe's default rules (every WCAG A and AA rule and its best practices;
# not the experimental ones), on the whole page or on all of it but the
# article; the serious and critical violations, one line each.
RUN_AXE = (
    """async (whole) => {
  const where = whole ? document : { exclude: [[%r]] };
  const result = await axe.run(where, { resultTypes: ["violations"] });
  return result.violations
    .filter((v) => ["serious", "critical"].includes(v.impact))
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.length} ` +
      `element(s), first ${v.nodes[0].target.join(" ")}: ` +
      `${v.nodes[0].failureSummary.replace(/\\s+/g, " ").slice(0, 200)})`);
}"""
    % ARTICLE
)


def axe_source():
    """axe-core's script, or AssertionError saying how to install it."""
    assert AXE.is_file(), (
        f"axe-core is missing at {AXE}: npm ci --prefix tests/pyodide "
        "(tests/pyodide/package.json pins it)"
    )
    return AXE.read_text(encoding="utf-8")
