"""The built book's accessibility, as the appendix page Accessibility says.

axe-core (pinned in tests/pyodide/package.json, installed by `npm ci
--prefix tests/pyodide`) runs in Debian's Chromium on every page of the
strict build (shared with test_book.py and test_browser.py), at a phone's
and a desktop's width, in the light and the dark colour mode: no violation
it rates serious or critical, under its default rules. Every figure of
every chapter has a description of its own. The frame players work from
the keyboard alone and never move by themselves, even less so for a
reader who asks for reduced motion. Without Chromium, Playwright or
axe-core the tests fail, saying so; they are never skipped.
"""

import json
from pathlib import Path

import pytest
from book_build import book_build  # noqa: F401 (a fixture)
from browser_site import (  # noqa: F401 (fixtures)
    DESKTOP,
    PHONE,
    browser,
    pages,
    reader,
    site,
)

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "tests" / "pyodide" / "node_modules" / "axe-core" / "axe.min.js"
SEVERE = ("serious", "critical")
PLAYERS = (
    "book/06_attention.html",
    "book/09_training.html",
    "book/10_sampling.html",
)
FRAME = ".microgpt-player .animation img"
SLIDER = ".microgpt-player input.anim-slider"

# Colours settle at once: no transition is caught half-way by the
# colour-contrast rule.
STILL = "*, *::before, *::after { transition: none !important; }"

# axe's default rules (every WCAG A and AA rule and its best practices;
# not the experimental ones), on the whole page.
RUN_AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter((v) => ["serious", "critical"].includes(v.impact))
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.length} ` +
      `element(s), first ${v.nodes[0].target.join(" ")}: ` +
      `${v.nodes[0].failureSummary.replace(/\\s+/g, " ").slice(0, 200)})`);
}"""


@pytest.fixture(scope="module")
def axe_source():
    assert AXE.is_file(), (
        f"axe-core is missing at {AXE}: npm ci --prefix tests/pyodide "
        "(tests/pyodide/package.json pins it)"
    )
    return AXE.read_text(encoding="utf-8")


def set_mode(page, mode):
    """The colour mode a reader's system asks for; the theme follows it."""
    page.emulate_media(color_scheme=mode)


def views(names):
    """(page, width, mode) for every page: each at a desktop's width in
    the light mode; the book's own pages (not the source listings) also at
    a phone's width in the dark mode; one source listing in every view.

    The source listings are one template around highlighted code, and
    axe takes seconds a view: the widths and modes are read where they
    can differ.
    """
    listings = [n for n in names if n.startswith("_modules/")]
    largest = listings[-1] if listings else None
    for name in names:
        yield name, DESKTOP, "light"
        if name not in listings or name == largest:
            yield name, PHONE, "dark"
        if name == largest:
            yield name, DESKTOP, "dark"
            yield name, PHONE, "light"


@pytest.mark.browser
def test_no_serious_or_critical_violation_on_any_page(reader, axe_source):
    r = reader(DESKTOP)
    page = r.page
    found = {}
    names = pages(r.html)
    listings = sorted(
        (n for n in names if n.startswith("_modules/")),
        key=lambda n: (r.html / n).stat().st_size,
    )
    names = [n for n in names if n not in listings] + listings
    opened = None
    for name, width, mode in views(names):
        page.set_viewport_size({"width": width, "height": 900})
        set_mode(page, mode)
        if name != opened:
            r.open(name)
            if name == "index.html":  # the redirect to the cover
                page.wait_for_url(r.base + "book/cover.html")
            page.add_style_tag(content=STILL)
            page.add_script_tag(content=axe_source)
            opened = name
        page.wait_for_function(
            f"document.documentElement.dataset.theme === '{mode}'"
        )
        for v in page.evaluate(RUN_AXE):
            found.setdefault(v, []).append(f"{name} ({width} px, {mode})")
    assert len(found) == 0, "\n".join(
        f"{v}\n  in {len(where)} views, first {where[0]}"
        for v, where in found.items()
    )
    assert not r.problems and not r.outside, (r.problems, r.outside)


def figure_outputs(nb):
    """Every image a notebook shows: (cell id, alt text or None)."""
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data or "image/svg+xml" in data:
                image = cell.get("metadata", {}).get("mystnb", {})
                yield cell.get("id"), image.get("image", {}).get("alt")


def test_every_figure_has_a_description_of_its_own():
    missing = []
    seen = set()
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell_id, alt in figure_outputs(nb):
            text = (alt or "").strip()
            if len(text) < 20 or text.lower().endswith((".png", ".svg")):
                missing.append(f"{path.name} cell {cell_id}: {alt!r}")
            elif text in seen:
                missing.append(
                    f"{path.name} cell {cell_id}: the same "
                    f"description as another figure"
                )
            seen.add(text)
    assert seen, "no figure found in book/*.ipynb"
    assert not missing, (
        "figures without a description (the cell's metadata "
        "mystnb.image.alt, 20 characters or more):\n" + "\n".join(missing)
    )


def test_every_image_on_the_pages_has_a_description(book_build):
    from html.parser import HTMLParser

    class Images(HTMLParser):
        def __init__(self):
            super().__init__()
            self.bad = []

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            alt = (attrs.get("alt") or "").strip()
            if tag == "img" and (
                not alt or "_images/" in alt or alt.endswith((".png", ".svg"))
            ):
                self.bad.append(f"{alt!r} ({attrs.get('src', '')[:60]})")

    assert book_build.returncode == 0, book_build.log[-6000:]
    bad = {}
    for page in sorted((book_build.html / "book").glob("*.html")):
        parser = Images()
        parser.feed(page.read_text(encoding="utf-8"))
        if parser.bad:
            bad[page.name] = parser.bad
    assert not bad, "\n".join(
        f"{k}: {v[0]} and {len(v) - 1} more" for k, v in bad.items()
    )


@pytest.mark.browser
def test_frame_players_work_from_the_keyboard_alone(reader):
    r = reader(DESKTOP)
    page = r.page
    for name in PLAYERS:
        r.open(name)
        page.wait_for_function(
            f"document.querySelector('{FRAME}').naturalWidth > 0"
        )
        slider = page.locator(SLIDER)
        assert slider.get_attribute("aria-label") == "Frame", name
        assert slider.get_attribute("aria-valuetext").startswith(
            "frame 1 of "
        ), name
        frame = page.locator(FRAME)
        first = frame.get_attribute("src")
        # On the slider, an arrow key moves one frame; from there, Tab
        # reaches each of the player's buttons in turn.
        slider.focus()
        page.keyboard.press("ArrowRight")
        assert slider.input_value() == "1", f"{name}: arrow key"
        assert frame.get_attribute("src") != first, f"{name}: arrow key"
        assert slider.get_attribute("aria-valuetext").startswith(
            "frame 2 of "
        ), name
        titles = []
        for _ in range(9):
            page.keyboard.press("Tab")
            titles.append(page.evaluate("document.activeElement.title"))
        assert titles[:3] == [
            "Decrease speed",
            "First frame",
            "Previous frame",
        ], titles
        assert "Next frame" in titles, titles
        # The focused button "First frame" pressed with Enter.
        page.locator("button[title='First frame']").focus()
        page.keyboard.press("Enter")
        assert slider.input_value() == "0", f"{name}: Enter on a button"
        assert frame.get_attribute("src") == first, name
    assert not r.problems and not r.outside, (r.problems, r.outside)


@pytest.mark.browser
def test_frame_players_never_move_by_themselves(reader):
    r = reader(PHONE)
    page = r.page
    page.emulate_media(reduced_motion="reduce")
    assert page.evaluate(
        "matchMedia('(prefers-reduced-motion: reduce)').matches"
    )
    for name in PLAYERS:
        r.open(name)
        page.wait_for_function(
            f"document.querySelector('{FRAME}').naturalWidth > 0"
        )
        first = page.locator(FRAME).get_attribute("src")
        # Longer than the slowest player's time between two frames.
        page.wait_for_timeout(1_500)
        assert page.locator(FRAME).get_attribute("src") == first, name
        assert page.locator(SLIDER).input_value() == "0", name
    assert not r.problems and not r.outside, (r.problems, r.outside)
