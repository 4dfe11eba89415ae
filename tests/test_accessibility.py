"""The built book's accessibility, as the appendix page Accessibility says.

axe-core runs on every page, at a phone's and a desktop's width, in the
light and the dark colour mode, in test_browser.py, which opens every
page once per width for all its checks. Here: every figure of every
chapter has a description of its own. The frame players work from
the keyboard alone and never move by themselves, even less so for a
reader who asks for reduced motion. Without Chromium or Playwright the
tests fail, saying so; they are never skipped.
"""

import json
from pathlib import Path

import pytest
from book_build import book_build  # noqa: F401 (a fixture)
from browser_site import (  # noqa: F401 (fixtures)
    DESKTOP,
    PHONE,
    browser,
    reader,
    site,
)

ROOT = Path(__file__).resolve().parents[1]
PLAYERS = (
    "book/06_attention.html",
    "book/09_training.html",
    "book/10_sampling.html",
)
FRAME = ".microgpt-player .animation img"
SLIDER = ".microgpt-player input.anim-slider"


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
