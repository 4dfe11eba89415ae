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

import re

import pytest
from book_build import book_build  # noqa: F401 (a fixture)
from browser_site import DESKTOP, INSPECT, PHONE, browser, pages, reader, site  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_every_page_is_self_contained_and_complete(reader, width):
    r = reader(width)  # fresh, as a first visit: no stored theme
    names = pages(r.html)
    assert "book/10_sampling.html" in names and "search.html" in names
    if width == PHONE:
        # The chapters again; the generated pages (source listings,
        # indexes) have nothing that depends on the width.
        names = [
            n for n in names if n == "index.html" or n.startswith("book/")
        ]
    found = {}
    for name in names:
        r.outside.clear()
        r.problems.clear()
        r.open(name)
        if name == "index.html":
            r.page.wait_for_url(r.base + "book/cover.html")
        seen = r.page.evaluate(INSPECT)
        issues = list(r.problems)
        issues += [f"fetched from outside: {u}" for u in r.outside]
        issues += [f"not typeset: {m}" for m in seen["untypeset"]]
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
        if issues:
            found[name] = issues
    assert not found, "\n".join(
        report(name, issues) for name, issues in found.items()
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
