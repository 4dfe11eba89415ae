"""The built book in a real browser, as a reader gets it, with no network.

Debian's Chromium, driven by Playwright, reads the strict build (shared
with test_book.py) over HTTP from 127.0.0.1. Every request to any other
host is aborted and recorded: a page must need nothing from outside. On
every page: no console error, no failed request, every equation typeset by
the site's own MathJax, every image loaded, no ipywidget (no widget runs on
a static page). Then the ☰ and "Contents" toggles at phone and desktop
widths, the search page, and the frame players (chapters 6, 9 and 10),
whose slider and buttons change the frame with no kernel behind them.

Needs `apt-get install chromium` (or MICROGPT_CHROMIUM=/path/to/chromium)
and `pip install -r requirements.txt` (playwright, without its own browser
download). Without them the tests fail, saying so; they are never skipped.
"""

import functools
import http.server
import os
import re
import threading
from pathlib import Path

import pytest

from book_build import book_build  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("MICROGPT_CHROMIUM", "/usr/lib/chromium/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PHONE, LAPTOP, DESKTOP = 390, 1024, 1280
# Sphinx 7.4's search page looks up a result's anchor as a CSS
# selector without escaping it, so an id with dots (every module's,
# "#module-microgpt.course.checks.attention") is not found; it warns and shows
# the page's text instead. The one console message tolerated.
SPHINX7_SEARCH_ANCHOR = re.compile(
    r"Anchored content block not found\. .*'\[role=main\] #module-[\w.]+'")
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
    names = sorted(p.relative_to(html).as_posix()
                   for p in html.rglob("*.html"))
    return ["index.html"] + [n for n in names if n != "index.html"
                             and not n.startswith("_static/")]


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
        yield ("playwright is missing: .venv/bin/pip install -r "
               "requirements.txt (it pins playwright)")
        return
    if not Path(CHROMIUM).is_file():
        yield (f"Chromium is missing at {CHROMIUM}: apt-get install chromium"
               " (Debian), or set MICROGPT_CHROMIUM to a Chromium binary")
        return
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM,
                                     args=CHROMIUM_ARGS)
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
            viewport={"width": width, "height": 900})
        self.context.set_default_timeout(20_000)
        # One parameter: Playwright passes (route, request) to a
        # handler that takes two.
        self.context.route("**/*", self.route)
        self.page = self.context.new_page()
        note = self.problems.append
        self.page.on("console", lambda m: m.type in ("error", "warning")
                     and not SPHINX7_SEARCH_ANCHOR.search(m.text)
                     and note(f"console {m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: note(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: r.url not in self.outside
                     and note(f"failed: {r.url} ({r.failure})"))
        self.page.on("response", lambda r: r.status >= 400
                     and note(f"HTTP {r.status}: {r.url}"))

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


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_every_page_is_self_contained_and_complete(reader, width):
    r = reader(width)  # fresh, as a first visit: no stored theme
    names = pages(r.html)
    assert "book/10_sampling.html" in names and "search.html" in names
    if width == PHONE:
        # The chapters again; the generated pages (source listings,
        # indexes) have nothing that depends on the width.
        names = [n for n in names
                 if n == "index.html" or n.startswith("book/")]
    found = {}
    for name in names:
        r.outside.clear()
        r.problems.clear()
        r.open(name)
        if name == "index.html":
            r.page.wait_for_url(r.base + "book/01_introduction.html")
        seen = r.page.evaluate(INSPECT)
        issues = list(r.problems)
        issues += [f"fetched from outside: {u}" for u in r.outside]
        issues += [f"not typeset: {m}" for m in seen["untypeset"]]
        issues += [f"MathJax error: {m}" for m in seen["merror"]]
        issues += [f"raw TeX in the text: ...{t}..." for t in seen["tex"]]
        issues += [f"image not loaded: {u}" for u in seen["images"]]
        if seen["widgets"]:
            issues.append(f"{seen['widgets']} ipywidget(s): nothing runs "
                          "them here; tag the cell remove-output")
        if issues:
            found[name] = issues
    assert not found, "\n".join(report(name, issues)
                                for name, issues in found.items())


REPEATED = {"fetched from outside", "not typeset", "MathJax error",
            "raw TeX in the text", "image not loaded"}


def report(name, issues):
    """A page's issues: each error, and the first of each repeated kind."""
    kinds = {}
    for issue in dict.fromkeys(issues):
        kind = issue.split(":")[0]
        kinds.setdefault(kind if kind in REPEATED else issue, []).append(issue)
    return f"{name}:" + "".join(
        f"\n  {same[0]}" + (f" (and {len(same) - 1} more)" if same[1:] else "")
        for same in kinds.values())


def test_equations_use_the_sites_mathjax_and_the_books_macros(reader):
    r = reader(DESKTOP)
    r.open("book/05_building_blocks.html")
    seen = r.page.evaluate(INSPECT)
    assert seen["math"] > 10 and not seen["untypeset"], seen
    src = r.page.evaluate("window.MathJax.startup && [...document.scripts]"
                          ".map((s) => s.src).find((s) => /mathjax/.test(s))")
    assert src and src.startswith(r.base + "_static/mathjax/"), src
    # the \softmax and \rms macros from _config.yml: an unknown macro
    # would be an <merror> "Undefined control sequence"
    mml = r.page.evaluate("MathJax.tex2mml('\\\\softmax(x) + \\\\rms(x)')")
    assert "merror" not in mml and ">softmax<" in mml and ">RMS<" in mml, mml
    assert not r.problems and not r.outside, (r.problems, r.outside)


SHOWN = """([kind, shown]) => {
  const dialog = document.getElementById(`pst-${kind}-sidebar-modal`);
  const bar = dialog.open ? dialog
    : document.getElementById(`pst-${kind}-sidebar`);
  const box = bar.getBoundingClientRect();
  const seen = getComputedStyle(bar).visibility === "visible"
    && box.width > 100 && box.left >= 0 && box.right <= innerWidth;
  return seen === shown;
}"""


def settles(page, kind, shown):
    """Wait until that sidebar is in full view, or wholly out of it.

    The sidebars slide: a wait, not a snapshot. Its timeout is the
    failure.
    """
    from playwright.sync_api import TimeoutError

    try:
        page.wait_for_function(SHOWN, arg=[kind, shown], timeout=5_000)
    except TimeoutError:
        bar = {"primary": "the menu", "secondary": "the contents"}[kind]
        state = "did not come into view" if shown else "did not go away"
        pytest.fail(f"{bar} {state} at {page.viewport_size['width']} px",
                    pytrace=False)


def toggle(page, kind):
    """The one visible button for that sidebar."""
    buttons = page.locator(f".{kind}-toggle").filter(visible=True)
    assert buttons.count() == 1, f"{buttons.count()} visible {kind} toggles"
    return buttons


def dialog_open(page, kind):
    return page.evaluate(
        f"document.getElementById('pst-{kind}-sidebar-modal').open")


def test_menu_and_contents_open_and_close_on_a_phone(reader):
    r = reader(PHONE)
    r.open(TOC_PAGE)
    page = r.page
    for kind, close in (("primary", "Escape"), ("secondary", "backdrop")):
        settles(page, kind, shown=False)
        toggle(page, kind).click()
        settles(page, kind, shown=True)
        assert dialog_open(page, kind), kind
        if close == "Escape":
            page.keyboard.press("Escape")
        else:
            page.mouse.click(5, 450)  # the backdrop, left of the dialog
        settles(page, kind, shown=False)
        assert not dialog_open(page, kind), kind
    assert not r.problems and not r.outside, (r.problems, r.outside)


@pytest.mark.parametrize("width", [LAPTOP, DESKTOP])
def test_menu_and_contents_open_and_close_on_a_desktop(reader, width):
    r = reader(width)
    r.open(TOC_PAGE)
    page = r.page
    # The menu is a column beside the text: the button folds it away.
    settles(page, "primary", shown=True)
    toggle(page, "primary").click()
    settles(page, "primary", shown=False)
    toggle(page, "primary").click()
    settles(page, "primary", shown=True)
    assert not dialog_open(page, "primary")
    if width >= 1200:
        # Wide enough for the page's contents as a third column: no button.
        settles(page, "secondary", shown=True)
        assert page.locator(".secondary-toggle").filter(
            visible=True).count() == 0
    else:
        settles(page, "secondary", shown=False)
        toggle(page, "secondary").click()
        settles(page, "secondary", shown=True)
        assert dialog_open(page, "secondary")
        page.keyboard.press("Escape")
        settles(page, "secondary", shown=False)
    assert not r.problems and not r.outside, (r.problems, r.outside)


def test_one_search_box_and_it_finds_attention(reader):
    r = reader(DESKTOP)
    r.open(TOC_PAGE)
    fields = r.page.locator(".search-button-field").filter(visible=True)
    assert fields.count() == 1
    r.open("search.html?q=attention")
    hits = r.page.locator("#search-results ul.search li")
    hits.first.wait_for()
    links = hits.locator("a").evaluate_all("(a) => a.map((x) => x.href)")
    assert any(link.split("#")[0].endswith("/book/06_attention.html")
               for link in links), links
    assert not r.problems and not r.outside, (r.problems, r.outside)


PLAYERS = ("book/06_attention.html", "book/09_training.html",
           "book/10_sampling.html")
FRAME = ".microgpt-player .animation img"
SLIDER = ".microgpt-player input.anim-slider[type=range]"


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_each_frame_player_changes_its_frame_without_a_kernel(reader,
                                                               width):
    r = reader(width)
    for name in PLAYERS:
        r.open(name)
        page = r.page
        assert page.locator(".microgpt-player").count() == 1, name
        page.wait_for_function(
            f"document.querySelector('{FRAME}').naturalWidth > 0")
        frame = page.locator(FRAME)
        assert frame.get_attribute("alt"), f"{name}: a frame without alt"
        first = frame.get_attribute("src")
        slider = page.locator(SLIDER)
        assert int(slider.get_attribute("max")) >= 9, name
        # The slider, as a reader drags it to the last frame.
        slider.evaluate("(s) => { s.value = s.max;"
                        " s.dispatchEvent(new Event('input')); }")
        assert frame.get_attribute("src") != first, f"{name}: slider"
        page.locator("button[title='First frame']").click()
        assert frame.get_attribute("src") == first, name
        page.locator("button[title='Next frame']").click()
        assert slider.input_value() == "1", f"{name}: Next frame"
        # The player fits the page: no sideways scrolling.
        fits = page.evaluate(
            f"document.querySelector('{FRAME}').getBoundingClientRect()"
            ".right <= document.documentElement.clientWidth && "
            "document.documentElement.scrollWidth <= "
            "document.documentElement.clientWidth")
        assert fits, f"{name} is wider than {width} px"
    assert not r.problems and not r.outside, (r.problems, r.outside)
