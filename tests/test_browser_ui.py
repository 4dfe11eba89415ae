"""The built book's controls in a real browser: menus, search, players.

The ☰ and "Contents" toggles at phone and desktop widths, the search page,
and the frame players (chapters 6, 9 and 10), whose slider and buttons
change the frame with no kernel behind them. The harness is
browser_site.py; test_browser.py checks every page.
"""

import pytest
from book_build import book_build  # noqa: F401 (a fixture)
from browser_site import (  # noqa: F401 (fixtures)
    DESKTOP,
    LAPTOP,
    PHONE,
    TOC_PAGE,
    browser,
    reader,
    site,
)

pytestmark = pytest.mark.browser


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
        pytest.fail(
            f"{bar} {state} at {page.viewport_size['width']} px", pytrace=False
        )


def toggle(page, kind):
    """The one visible button for that sidebar."""
    buttons = page.locator(f".{kind}-toggle").filter(visible=True)
    assert buttons.count() == 1, f"{buttons.count()} visible {kind} toggles"
    return buttons


def dialog_open(page, kind):
    return page.evaluate(
        f"document.getElementById('pst-{kind}-sidebar-modal').open"
    )


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
        assert (
            page.locator(".secondary-toggle").filter(visible=True).count() == 0
        )
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
    # Sphinx lists the hits one by one and says when it has finished.
    r.page.locator("#search-results .search-summary").filter(
        has_text="Search finished"
    ).wait_for()
    hits = r.page.locator("#search-results ul.search li")
    links = hits.locator("a").evaluate_all("(a) => a.map((x) => x.href)")
    assert any(
        link.split("#")[0].endswith("/book/06_attention.html")
        for link in links
    ), links
    assert not r.problems and not r.outside, (r.problems, r.outside)


PLAYERS = (
    "book/06_attention.html",
    "book/09_training.html",
    "book/10_sampling.html",
)
FRAME = ".microgpt-player .animation img"
SLIDER = ".microgpt-player input.anim-slider[type=range]"


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_each_frame_player_changes_its_frame_without_a_kernel(reader, width):
    r = reader(width)
    for name in PLAYERS:
        r.open(name)
        page = r.page
        assert page.locator(".microgpt-player").count() == 1, name
        page.wait_for_function(
            f"document.querySelector('{FRAME}').naturalWidth > 0"
        )
        frame = page.locator(FRAME)
        assert frame.get_attribute("alt"), f"{name}: a frame without alt"
        first = frame.get_attribute("src")
        slider = page.locator(SLIDER)
        assert int(slider.get_attribute("max")) >= 9, name
        # The slider, as a reader drags it to the last frame.
        slider.evaluate(
            "(s) => { s.value = s.max; s.dispatchEvent(new Event('input')); }"
        )
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
            "document.documentElement.clientWidth"
        )
        assert fits, f"{name} is wider than {width} px"
    assert not r.problems and not r.outside, (r.problems, r.outside)
