"""The book's frame players and training snapshots (microgpt.figures)."""

import base64
import re
import subprocess
import sys
from pathlib import Path

import pytest
from nbval.plugin import get_sanitize_patterns

from microgpt import figures

pytestmark = pytest.mark.model  # chapters 6, 9 and 10 show the players

SANITIZE = Path(__file__).resolve().parents[1] / "book" / "sanitize.cfg"
FRAME = re.compile(
    r'frames\[\d+\] = "data:image/png;base64,'
    r'([A-Za-z0-9+/=\\\n]+)"'
)


def player(frames=(1, 2, 3), alt="a line, steeper in each frame"):
    """A small player: a line whose slope is the frame."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2), dpi=50, layout="constrained")

    def draw(slope):
        ax.clear()
        ax.plot([0, 1], [0, slope])
        ax.set(title=f"slope {slope}", ylim=(0, 3))

    return fig, figures.frame_player(fig, draw, frames, alt)


def pngs(html):
    """The frames' PNG files, in order."""
    return [
        base64.b64decode(data.replace("\\\n", ""))
        for data in FRAME.findall(html)
    ]


def test_a_player_has_one_picture_per_frame_and_closes_its_figure():
    import matplotlib.pyplot as plt

    fig, p = player()
    frames = pngs(p.html)
    assert len(frames) == 3 and "new Array(3)" in p.html
    assert all(f.startswith(b"\x89PNG") for f in frames)
    assert len(set(frames)) == 3  # each frame drawn anew
    assert repr(p) == "<frame player: 3 frames>"
    assert p._repr_html_() == p.html
    assert not plt.fignum_exists(fig.number)


def test_a_player_needs_nothing_from_elsewhere():
    _, p = player(alt='slopes "1" to 3 & more')
    assert "://" not in p.html and "<link" not in p.html
    assert "<i " not in p.html and "fa-" not in p.html  # no icon font
    assert p.html.count("<svg") == len(figures.ICONS)
    assert 'alt="slopes &quot;1&quot; to 3 &amp; more"' in p.html
    assert p.html.startswith('<div class="microgpt-player">')


def test_a_changed_template_is_refused():
    with pytest.raises(ValueError, match="template has changed"):
        figures.self_contained("<div><img id=x></div>", "alt")
    with pytest.raises(ValueError, match="no icon"):
        figures.self_contained(
            '<link rel="stylesheet" href="x"><img id=x>'
            '<i class="fa fa-new"></i>',
            "alt",
        )


def test_the_sanitizer_masks_ids_and_pixels_but_not_the_frame_count():
    patterns = get_sanitize_patterns(SANITIZE.read_text())

    def sanitized(html):
        for regex, replace in patterns:
            html = re.sub(regex, replace, html)
        return html

    _, a = player((1, 2, 3))
    _, b = player((3, 2, 1))
    _, c = player((1, 2))
    assert a.html != b.html
    assert sanitized(a.html) == sanitized(b.html)
    assert sanitized(a.html) != sanitized(c.html)
    assert not re.search("[0-9a-f]{32}", sanitized(a.html))


def test_the_models_do_not_import_matplotlib():
    code = (
        "import sys, microgpt.figures, microgpt.gpt_numpy, "
        "microgpt.gpt_scalar, microgpt.train; "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert out.strip() == "False"
