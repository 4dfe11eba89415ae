"""The built book in a real browser, as a reader gets it, with no network.

Debian's Chromium, driven by Playwright, reads the strict build (shared
with test_book.py) over HTTP from 127.0.0.1. Every request to any other
host is aborted and recorded: a page must need nothing from outside. On
every page: no console error, no failed request, every equation typeset by
the site's own MathJax, every image loaded, no ipywidget (no widget runs on
a static page), and no serious or critical violation that axe-core finds,
at both widths and in both colour modes (see every_view). Then the ☰ and
"Contents" toggles at phone and desktop
widths, the search page, and the frame players (chapters 6, 9 and 10),
whose slider and buttons change the frame with no kernel behind them.

Needs `apt-get install chromium` (or MICROGPT_CHROMIUM=/path/to/chromium)
and `pip install -r requirements.txt` (playwright, without its own browser
download). Without them the tests fail, saying so; they are never skipped.
"""

import re

import pytest
from book_build import book_build  # noqa: F401 (a fixture)
from browser_site import (  # noqa: F401 (fixtures)
    DESKTOP,
    INSPECT,
    PHONE,
    RUN_AXE,
    STILL,
    Reader,
    axe_source,
    browser,
    pages,
    reader,
    site,
)

pytestmark = pytest.mark.browser


def load(r, name, mode, axe):
    """Open a page in a colour mode, ready for axe; what went wrong."""
    r.outside.clear()
    r.problems.clear()
    set_mode(r.page, mode)
    r.open(name)
    if name == "index.html":  # the redirect to the cover
        r.page.wait_for_url(r.base + "book/cover.html")
    r.page.add_style_tag(content=STILL)
    r.page.add_script_tag(content=axe)
    return list(r.problems) + [f"fetched from outside: {u}" for u in r.outside]


def set_mode(page, mode):
    """The colour mode a reader's system asks for; the theme follows it."""
    page.emulate_media(color_scheme=mode)
    if page.url.startswith("http"):
        page.wait_for_function(
            f"document.documentElement.dataset.theme === '{mode}'"
        )


def inspect(r, name, width):
    """What is wrong with the page as shown: equations, images, tables."""
    seen = r.page.evaluate(INSPECT)
    issues = [f"not typeset: {m}" for m in seen["untypeset"]]
    issues += [f"MathJax error: {m}" for m in seen["merror"]]
    issues += [f"raw TeX in the text: ...{t}..." for t in seen["tex"]]
    issues += [f"image not loaded: {u}" for u in seen["images"]]
    if width == PHONE and re.match(r"book/\d\d_", name):
        # A chapter's tables; the appendix's reference tables (the
        # notation, the corrections) scroll sideways on a phone.
        issues += [
            f"table wider than a phone: {t}"
            for t in r.page.evaluate(WIDE_TABLES)
        ]
    if seen["widgets"]:
        issues.append(
            f"{seen['widgets']} ipywidget(s): nothing runs "
            "them here; tag the cell remove-output"
        )
    return issues


@pytest.fixture(scope="module")
def every_view(browser, site):
    """Every page at a desktop's and a phone's width, in the light and the
    dark mode: {(page, width, mode): {"issues": [...], "axe": [...]}}, or
    why there is none (each test then fails with it).

    Each page is opened afresh at each width, as a first visit (no stored
    theme), and checked as shown (test_every_page_is_self_contained_and_
    complete) at both widths, the source listings at a desktop's. axe
    runs on the whole page in one mode at each width, the light one at a
    desktop's and the dark one at a phone's, and in the other mode on all
    but the article (browser_site.ARTICLE), since only what surrounds the
    article changes with the width; so every element is checked in both
    modes at each width where it is shown. The source listings, one
    template around highlighted code, are read at a phone's width after
    their desktop views, without a second load, each on all but its
    article, and the largest of them whole in all four views.
    """
    if isinstance(browser, str):
        yield browser
        return
    axe = axe_source()
    html = site[0]
    names = pages(html)
    listings = sorted(
        (n for n in names if n.startswith("_modules/")),
        key=lambda n: (html / n).stat().st_size,
    )
    largest = listings[-1]
    seen = {}

    def views(r, name, width, modes, checked, whole_first=True):
        for mode in modes:
            set_mode(r.page, mode)
            if r.page.viewport_size["width"] != width:
                r.page.set_viewport_size({"width": width, "height": 900})
            view = seen.setdefault((name, width, mode), {"issues": []})
            if checked:
                view["issues"] += inspect(r, name, width)
                checked = False
            whole = (whole_first and mode == modes[0]) or name == largest
            view["axe"] = r.page.evaluate(RUN_AXE, whole)

    for width, modes in (
        (DESKTOP, ("light", "dark")),
        (PHONE, ("dark", "light")),
    ):
        r = Reader(browser, site, width)
        for name in names:
            if width == PHONE and name in listings:
                continue
            problems = load(r, name, modes[0], axe)
            seen[name, width, modes[0]] = {"issues": problems}
            views(r, name, width, modes, checked=True)
            if width == DESKTOP and name in listings:
                views(r, name, PHONE, ("dark", "light"), False, False)
                r.page.set_viewport_size({"width": DESKTOP, "height": 900})
        r.close()
    yield seen


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_every_page_is_self_contained_and_complete(every_view, width):
    if isinstance(every_view, str):
        pytest.fail(every_view, pytrace=False)
    names = {name for name, _, _ in every_view}
    assert "book/10_sampling.html" in names and "search.html" in names
    found = {}
    for (name, w, mode), view in every_view.items():
        if w == width and view["issues"]:
            found.setdefault(name, []).extend(view["issues"])
    assert not found, "\n".join(
        report(name, issues) for name, issues in found.items()
    )


@pytest.mark.browser
def test_no_serious_or_critical_violation_on_any_page(every_view):
    if isinstance(every_view, str):
        pytest.fail(every_view, pytrace=False)
    names = {name for name, _, _ in every_view}
    for name in names:
        for width in (DESKTOP, PHONE):
            for mode in ("light", "dark"):
                assert "axe" in every_view[name, width, mode], (
                    name,
                    width,
                    mode,
                )
    found = {}
    for (name, width, mode), view in every_view.items():
        for v in view["axe"]:
            found.setdefault(v, []).append(f"{name} ({width} px, {mode})")
    assert not found, "\n".join(
        f"{v}\n  in {len(where)} views, first {where[0]}"
        for v, where in found.items()
    )


# A table that needs sideways scrolling (the theme lets it scroll rather
# than widen the page): its first words.
WIDE_TABLES = """[...document.querySelectorAll(".bd-article table")]
  .filter((t) => t.scrollWidth > t.parentElement.clientWidth + 1
    || t.getBoundingClientRect().right > innerWidth)
  .map((t) => t.textContent.trim().replace(/\\s+/g, " ").slice(0, 40))"""

REPEATED = {
    "table wider than a phone",
    "fetched from outside",
    "not typeset",
    "MathJax error",
    "raw TeX in the text",
    "image not loaded",
}


def report(name, issues):
    """A page's issues: each error, and the first of each repeated kind."""
    kinds = {}
    for issue in dict.fromkeys(issues):
        kind = issue.split(":")[0]
        kinds.setdefault(kind if kind in REPEATED else issue, []).append(issue)
    return f"{name}:" + "".join(
        f"\n  {same[0]}" + (f" (and {len(same) - 1} more)" if same[1:] else "")
        for same in kinds.values()
    )


def test_equations_use_the_sites_mathjax_and_the_books_macros(reader):
    r = reader(DESKTOP)
    r.open("book/05_building_blocks.html")
    seen = r.page.evaluate(INSPECT)
    assert seen["math"] > 10 and not seen["untypeset"], seen
    src = r.page.evaluate(
        "window.MathJax.startup && [...document.scripts]"
        ".map((s) => s.src).find((s) => /mathjax/.test(s))"
    )
    assert src and src.startswith(r.base + "_static/mathjax/"), src
    # the \softmax and \rms macros from _config.yml: an unknown macro
    # would be an <merror> "Undefined control sequence"
    mml = r.page.evaluate("MathJax.tex2mml('\\\\softmax(x) + \\\\rms(x)')")
    assert "merror" not in mml and ">softmax<" in mml and ">RMS<" in mml, mml
    assert not r.problems and not r.outside, (r.problems, r.outside)


def test_chapters_are_numbered_as_their_files_and_pages_have_an_icon(
    book_build,
):
    assert book_build.returncode == 0, book_build.log[-6000:]
    html = book_build.html
    heading = re.compile(r'<h1><span class="section-number">(\d+)\. </span>')
    numbered = {}
    for page in sorted((html / "book").glob("*.html")):
        text = page.read_text(encoding="utf-8")
        found = heading.search(text)
        numbered[page.stem] = int(found.group(1)) if found else None
        # The favicon, so that no browser asks for a missing one, and
        # the whole book as a PDF.
        assert '<link rel="icon" href="../_static/favicon.svg"' in text
        assert "Download the book as PDF" in text, page.name
    assert (html / "_static" / "favicon.svg").is_file()
    chapters = {n: v for n, v in numbered.items() if n[:2].isdigit()}
    assert len(chapters) >= 19, chapters
    for name, number in chapters.items():
        assert number == int(name[:2]), f"{name} is numbered {number}"
    others = {n: v for n, v in numbered.items() if not n[:2].isdigit()}
    assert set(others.values()) == {None}, others  # cover, appendix
    assert "cover" in others
    redirect = (html / "index.html").read_text(encoding="utf-8")
    assert 'url=book/cover.html"' in redirect


def test_search_excerpts_start_with_the_pages_text(reader):
    r = reader(DESKTOP)
    r.open("search.html?q=attention")
    hit = r.page.locator(
        "#search-results li:has(a[href*='06_attention.html'])"
    ).first
    hit.locator("p.context").wait_for()
    excerpt = hit.locator("p.context").inner_text()
    for menu in (".ipynb", ".pdf", "Color mode", "Download"):
        assert menu not in excerpt, excerpt
    assert "attention" in excerpt.lower(), excerpt
    assert not r.problems and not r.outside, (r.problems, r.outside)


# The selectors that a width's media query gives colours of their own:
# the theme's off-canvas menus and sidebars, and the toggle of a margin
# note (which no page of the book has).
CHROME_COLOURED = re.compile(
    r"^(\.navbar-expand-\w+ )?\.offcanvas(-\w+)?( \.offcanvas-body)?$"
    r"|^\.bd-sidebar-secondary$|^label\.margin-toggle$"
)


def width_dependent_colours(css):
    """The selectors of rules that set a colour inside a width's @media."""
    found = []
    for query in re.finditer(r"@media[^{]*(min|max)-width[^{]*\{", css):
        depth, end = 1, query.end()
        while depth and end < len(css):
            depth += {"{": 1, "}": -1}.get(css[end], 0)
            end += 1
        for selector, body in re.findall(
            r"([^{}]*)\{([^}]*)\}", css[query.end() : end]
        ):
            if re.search(r"(?<![-\w])(color|background(-color)?)\s*:", body):
                found += [s.strip() for s in selector.split(",")]
    return found


def test_only_what_surrounds_the_article_changes_colour_with_the_width(
    book_build,
):
    # What lets every_view read the article in one mode per width.
    assert book_build.returncode == 0, book_build.log[-6000:]
    html = book_build.html
    selectors = []
    for css in sorted((html / "_static").rglob("*.css")):
        selectors += width_dependent_colours(css.read_text(encoding="utf-8"))
    assert selectors, "no width-dependent colour found: the scan is broken"
    assert all(CHROME_COLOURED.match(s) for s in selectors), [
        s for s in selectors if not CHROME_COLOURED.match(s)
    ]
    for page in html.rglob("*.html"):
        assert "margin-toggle" not in page.read_text(encoding="utf-8"), page
    assert width_dependent_colours(
        "@media (max-width: 9px) { .bd-article p { color: red } }"
    ) == [".bd-article p"]
