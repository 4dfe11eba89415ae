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
            r.page.wait_for_url(r.base + "book/01_introduction.html")
        seen = r.page.evaluate(INSPECT)
        issues = list(r.problems)
        issues += [f"fetched from outside: {u}" for u in r.outside]
        issues += [f"not typeset: {m}" for m in seen["untypeset"]]
        issues += [f"MathJax error: {m}" for m in seen["merror"]]
        issues += [f"raw TeX in the text: ...{t}..." for t in seen["tex"]]
        issues += [f"image not loaded: {u}" for u in seen["images"]]
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


REPEATED = {
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
