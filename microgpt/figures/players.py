"""Figures that move, for the book: frame players.

A frame player is matplotlib's ``Animation.to_jshtml``: every frame is a
PNG inside the HTML, and a slider and buttons in plain JavaScript flip
between them. It needs no kernel, so it works on the book's static pages
as well as in Jupyter. ``frame_player`` makes it self-contained (the
buttons' icons drawn inline instead of fetched from a font CDN) and lets
it shrink to a phone's width.

matplotlib is imported inside the functions: the model modules never
import this one, and the package does not depend on matplotlib.
"""

import re
from html import escape
from pathlib import Path
from tempfile import TemporaryDirectory

# The buttons' icons, 16 x 16, by the Font Awesome 4 classes that
# matplotlib's template gives them.
ICONS = {
    "fa-minus": "M3 7h10v2H3z",
    "fa-fast-backward": "M2 3h2v10H2zM9 3v10L4 8zM14 3v10L9 8z",
    "fa-step-backward": "M3 3h2v10H3zM13 3v10L6 8z",
    "fa-play fa-flip-horizontal": "M12 3v10L4 8z",
    "fa-pause": "M4 3h3v10H4zM9 3h3v10H9z",
    "fa-play": "M4 3v10l8-5z",
    "fa-step-forward": "M3 3v10l7-5zM11 3h2v10h-2z",
    "fa-fast-forward": "M2 3v10l5-5zM7 3v10l5-5zM12 3h2v10h-2z",
    "fa-plus": "M7 3h2v4h4v2H9v4H7V9H3V7h4z",
}
SVG = (
    '<svg viewBox="0 0 16 16" width="14" height="14" '
    'fill="currentColor" aria-hidden="true"><path d="{}"/></svg>'
)

# The frame scales down with the page, the slider is as wide as the frame,
# and the buttons fit in one row at a phone's width.
STYLE = """<style>
.microgpt-player .animation { max-width: 100%; }
.microgpt-player .animation img { max-width: 100%; height: auto; }
.microgpt-player input[type=range].anim-slider { width: 100%; }
.microgpt-player .anim-buttons { display: flex; flex-wrap: wrap;
  justify-content: center; gap: 2px; }
.microgpt-player .anim-buttons button { width: 34px; line-height: 1; }
</style>
"""


class Player:
    """A frame player: HTML for Jupyter and for the book's pages."""

    def __init__(self, html, frames):
        self.html = html
        self.frames = frames

    def _repr_html_(self):
        return self.html

    def __repr__(self):
        return f"<frame player: {self.frames} frames>"


def _icon(match):
    classes = match.group(1)
    if classes not in ICONS:
        raise ValueError(f"no icon for the button {classes!r}")
    return SVG.format(ICONS[classes])


def self_contained(html, alt):
    """to_jshtml's HTML with nothing to fetch and a width that can shrink.

    Drops the stylesheet link to Font Awesome on a CDN, puts an inline
    SVG in each button instead of its icon-font glyph, and gives the
    frame the text alt.
    """
    html, links = re.subn(r"<link\b[^>]*>\s*", "", html)
    html = re.sub(r'<i class="fa ([^"]*)"></i>', _icon, html)
    html, images = re.subn(r"<img id=", f'<img alt="{escape(alt)}" id=', html)
    if links != 1 or images != 1 or "<i " in html or "://" in html:
        raise ValueError("matplotlib's player template has changed")
    return f'<div class="microgpt-player">\n{STYLE}{html}</div>\n'


def frame_player(fig, draw, frames, alt, interval=500):
    """A player of the figure fig, redrawn by draw(frame) for each frame.

    draw redraws what changes; frames is a list of its arguments, one per
    picture, each saved as a PNG at fig's dpi. The layout is computed for
    the first frame and kept, so that nothing jumps from frame to frame.
    alt describes the pictures for those who cannot see them. interval is
    the time between frames when playing, in ms. Closes fig, so that
    Jupyter does not also show it as a still image. Returns a Player,
    shown as the player in Jupyter and on the page.
    """
    import matplotlib.pyplot as plt
    from matplotlib.animation import HTMLWriter

    # The writer behind Animation.to_jshtml, fed directly: an
    # Animation would draw every frame once more before saving it.
    frames = list(frames)
    writer = HTMLWriter(
        fps=1000 / interval, embed_frames=True, default_mode="once"
    )
    with TemporaryDirectory() as folder:
        path = Path(folder, "player.html")
        with writer.saving(fig, path, dpi=fig.dpi):
            for i, frame in enumerate(frames):
                draw(frame)
                if i == 0:
                    fig.draw_without_rendering()  # lays out the figure
                    fig.set_layout_engine("none")
                writer.grab_frame()
        html = path.read_text(encoding="utf-8")
    plt.close(fig)
    return Player(self_contained(html, alt), len(frames))
