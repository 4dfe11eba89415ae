"""Primitives for the book's schematics: a canvas, boxes, arrows, grids.

A canvas is a figure whose one axes fills it, with data units in inches:
a box 1.2 wide is 1.2 inches wide on the page, whatever the picture. A
box shrinks its label until it fits (never below MIN_SIZE points) and
remembers it, so that layout_problems can check that every label stays
inside its box, inside the canvas, and clear of every other label.
"""

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

DPI = 100  # the notebooks' inline figures
MAX_WIDTH = 7.0  # inches: the width of a page, shrunk to a phone's
MIN_SIZE = 8  # points: the smallest label
SIZE = 10  # points: a label's size unless it must shrink
SMALL = 9  # points: labels on arrows and beside things
MARGIN = 0.05  # inches kept between a box's edge and its label

# One color per kind of thing, the same in every picture:
# (face, edge) for boxes, and the color of the text on them.
SCHEME = {
    "data": ("#dbe9f6", "#4a7ab0"),  # arrays and vectors
    "op": ("#fde6cc", "#d9822b"),  # functions and operations
    "param": ("#dcefd8", "#4f9a4a"),  # learned weights
    "loss": ("#f6d5d5", "#b03a3a"),  # the loss and what leads to it
    "plain": ("#f2f2f2", "#8a8a8a"),  # anything else
    "mask": ("#d0d0d0", "#8a8a8a"),  # positions that may not be seen
}
INK = "#222222"  # text
MUTED = "#555555"  # arrows and their labels
GRAD = "#c0392b"  # gradients, flowing back


def canvas(width, height):
    """Make a figure of width x height inches; return (fig, ax).

    The axes are measured in inches too, so sizes read as on the page.
    """
    if width > MAX_WIDTH:
        raise ValueError(f"{width} in is wider than {MAX_WIDTH} in")
    fig = plt.figure(figsize=(width, height), dpi=DPI)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    # layout_problems checks the (patch, text) pairs that box adds here.
    fig.schematic_boxes = []
    return fig, ax


def _fit(ax, text, width, height, size):
    """Shrink text by half points until it is within width x height."""
    fig = ax.figure
    limit = (width * fig.dpi, height * fig.dpi)
    while True:
        text.set_fontsize(size)
        extent = text.get_window_extent()
        if extent.width <= limit[0] and extent.height <= limit[1]:
            return
        if size <= MIN_SIZE:
            raise ValueError(
                f"{text.get_text()!r} does not fit in a box "
                f"{width:.2f} x {height:.2f} in at "
                f"{MIN_SIZE} pt"
            )
        size = max(MIN_SIZE, size - 0.5)


def box(
    ax,
    x,
    y,
    w,
    h,
    text="",
    kind="op",
    size=SIZE,
    sub=None,
    sub_color=None,
    round_=True,
    weight="normal",
):
    """A box centered at (x, y), w x h inches, with text fitted inside.

    sub is a second line under text, in sub_color (for a gradient under
    a value, say). Returns the patch.
    """
    face, edge = SCHEME[kind]
    style = "round,pad=0,rounding_size=0.06" if round_ else "square,pad=0"
    patch = FancyBboxPatch(
        (x - w / 2, y - h / 2),
        w,
        h,
        boxstyle=style,
        fc=face,
        ec=edge,
        lw=1.2,
        zorder=2,
    )
    ax.add_patch(patch)
    lines = (
        [(text, INK, 0.0)]
        if sub is None
        else [(text, INK, h / 4), (sub, sub_color or INK, -h / 4)]
    )
    room = (h - 2 * MARGIN) / len(lines)
    for line, color, dy in lines:
        if not line:
            continue
        t = ax.text(
            x,
            y + dy,
            line,
            ha="center",
            va="center",
            color=color,
            zorder=3,
            fontweight=weight,
        )
        _fit(ax, t, w - 2 * MARGIN, room, size)
        ax.figure.schematic_boxes.append((patch, t))
    return patch


def label(
    ax, x, y, text, size=SMALL, color=INK, ha="center", va="center", **kw
):
    """Write text at (x, y), at least MIN_SIZE points large."""
    return ax.text(
        x,
        y,
        text,
        fontsize=max(size, MIN_SIZE),
        color=color,
        ha=ha,
        va=va,
        zorder=4,
        **kw,
    )


def arrow(
    ax,
    start,
    end,
    text=None,
    side="above",
    color=MUTED,
    size=SMALL,
    dashed=False,
    lw=1.3,
):
    """Draw an arrow from start to end, with text beside its middle.

    side is where the text goes: above, below, left or right.
    """
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=11,
            color=color,
            lw=lw,
            shrinkA=0,
            shrinkB=0,
            zorder=1,
            linestyle=(0, (4, 2)) if dashed else "-",
        )
    )
    if text:
        _beside(ax, start, end, text, side, color, size)


def line(ax, points, color=MUTED, dashed=False):
    """Draw a line through the corners points, without a head."""
    xs, ys = zip(*points)
    ax.plot(
        xs,
        ys,
        color=color,
        lw=1.3,
        zorder=1,
        linestyle=(0, (4, 2)) if dashed else "-",
        solid_capstyle="butt",
    )


def path(
    ax,
    points,
    text=None,
    side="above",
    color=MUTED,
    size=SMALL,
    at=0,
    dashed=False,
):
    """Draw an arrow along the corners points, text beside segment at."""
    line(ax, points[:-1], color, dashed)
    arrow(ax, points[-2], points[-1], color=color, dashed=dashed)
    if text:
        _beside(ax, points[at], points[at + 1], text, side, color, size)


def _beside(ax, start, end, text, side, color, size):
    mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
    gap = 0.06
    where = {
        "above": (mx, my + gap, "center", "bottom"),
        "below": (mx, my - gap, "center", "top"),
        "left": (mx - gap, my, "right", "center"),
        "right": (mx + gap, my, "left", "center"),
    }[side]
    label(
        ax,
        where[0],
        where[1],
        text,
        size=size,
        color=color,
        ha=where[2],
        va=where[3],
    )


def grid(
    ax,
    x,
    y,
    colors,
    cell,
    texts=None,
    size=MIN_SIZE,
    edge="white",
    text_colors=None,
):
    """Draw a matrix of cells whose top-left corner is at (x, y).

    colors[i][j] is cell (i, j)'s face color, row 0 at the top; texts,
    if given, the same shape, is what each cell says (fitted inside it).
    Returns the grid's (left, bottom, width, height).
    """
    rows, cols = len(colors), len(colors[0])
    for i in range(rows):
        for j in range(cols):
            left, bottom = x + j * cell[0], y - (i + 1) * cell[1]
            patch = Rectangle(
                (left, bottom), *cell, fc=colors[i][j], ec=edge, lw=1, zorder=2
            )
            ax.add_patch(patch)
            if texts is not None and texts[i][j]:
                color = text_colors[i][j] if text_colors else INK
                t = ax.text(
                    left + cell[0] / 2,
                    bottom + cell[1] / 2,
                    texts[i][j],
                    ha="center",
                    va="center",
                    color=color,
                    zorder=3,
                )
                _fit(ax, t, cell[0] - 0.02, cell[1] - 0.02, size)
                ax.figure.schematic_boxes.append((patch, t))
    return x, y - rows * cell[1], cols * cell[0], rows * cell[1]


def shade(value, kind="data"):
    """Mix white and kind's edge color: value 0 is white, 1 the edge."""
    from matplotlib.colors import to_rgb

    edge = to_rgb(SCHEME[kind][1])
    v = min(max(value, 0.0), 1.0)
    return tuple(1 - v * (1 - c) for c in edge)


def layout_problems(fig, tolerance=0.5):
    """List what is wrong with fig's labels as sentences; [] if nothing.

    Draws fig, then checks its size and every visible text: at least
    MIN_SIZE points, inside the canvas, inside its box if it has one,
    and overlapping no other text. tolerance is in pixels.
    """
    problems = []
    width, height = fig.get_size_inches()
    if width > MAX_WIDTH + 1e-9:
        problems.append(f"{width:.2f} in wide, more than {MAX_WIDTH}")
    fig.canvas.draw()
    texts = [
        t
        for t in fig.findobj(plt.Text)
        if t.get_visible() and t.get_text().strip()
    ]
    frame = fig.bbox
    boxes = []
    for t in texts:
        name = repr(t.get_text())
        if t.get_fontsize() < MIN_SIZE - 1e-9:
            problems.append(f"{name} is {t.get_fontsize()} pt")
        box_ = t.get_window_extent()
        boxes.append((name, box_))
        if (
            box_.x0 < frame.x0 - tolerance
            or box_.y0 < frame.y0 - tolerance
            or box_.x1 > frame.x1 + tolerance
            or box_.y1 > frame.y1 + tolerance
        ):
            problems.append(f"{name} leaves the canvas")
    for patch, t in getattr(fig, "schematic_boxes", []):
        outer, inner = patch.get_window_extent(), t.get_window_extent()
        if (
            inner.x0 < outer.x0 - tolerance
            or inner.y0 < outer.y0 - tolerance
            or inner.x1 > outer.x1 + tolerance
            or inner.y1 > outer.y1 + tolerance
        ):
            problems.append(f"{t.get_text()!r} leaves its box")
    for i, (a, ea) in enumerate(boxes):
        for b, eb in boxes[i + 1 :]:
            w = min(ea.x1, eb.x1) - max(ea.x0, eb.x0)
            h = min(ea.y1, eb.y1) - max(ea.y0, eb.y0)
            if w > tolerance and h > tolerance:
                problems.append(f"{a} overlaps {b}")
    return problems
