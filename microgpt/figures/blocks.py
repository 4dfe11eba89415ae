"""Schematics of the building blocks, one block and the whole model."""

import math

from ..config import ModelConfig
from .draw import (
    MUTED,
    SCHEME,
    arrow,
    box,
    canvas,
    grid,
    label,
    line,
    path,
    shade,
)


def _column(ax, x, top, values, cell=(0.55, 0.27), kind="data", name=None):
    """Draw a vector as a column of cells; return the y of its middle."""
    face = SCHEME[kind][0]
    texts = [[f"{v:.2f}".replace("-", "\u2212")] for v in values]
    grid(ax, x, top, [[face]] * len(values), cell, texts, size=9)
    if name:
        label(ax, x + cell[0] / 2, top + 0.13, name)
    return top - len(values) * cell[1] / 2


def _linear(ax, top):
    """Draw y = W x, one row of W times x giving one entry of y."""
    W = [
        [0.5, -1.0, 0.2],
        [1.0, 0.3, -0.4],
        [-0.2, 0.8, 0.6],
        [0.1, -0.5, 1.0],
    ]
    x = [1.0, 2.0, -1.0]
    y = [sum(w * v for w, v in zip(row, x)) for row in W]
    cell = (0.55, 0.27)
    face, hot = SCHEME["param"][0], shade(0.45, "param")
    colors = [[hot if i == 0 else face] * 3 for i in range(4)]
    texts = [[f"{v:.1f}".replace("-", "\u2212") for v in row] for row in W]
    grid(ax, 1.3, top, colors, cell, texts, size=9)
    label(ax, 1.3 + 1.5 * cell[0], top + 0.13, "W  (out, in)")
    mid = top - 2 * cell[1]
    label(ax, 3.15, mid, "\u00b7", size=16)
    _column(ax, 3.35, top - cell[1] / 2, x, name="x  (in,)")
    label(ax, 4.15, mid, "=", size=12)
    grid(
        ax,
        4.35,
        top,
        [[shade(0.45) if i == 0 else SCHEME["data"][0]] for i in range(4)],
        cell,
        [[f"{v:.2f}".replace("-", "\u2212")] for v in y],
        size=9,
    )
    label(ax, 4.35 + cell[0] / 2, top + 0.13, "y  (out,)")
    label(
        ax,
        5.05,
        top - cell[1] / 2,
        r"$y_1 = \sum_j W_{1j}\, x_j$",
        ha="left",
        size=10,
    )
    label(ax, 0.1, mid, "linear", size=11, ha="left", weight="bold")


def _softmax(ax, top):
    z = [2.0, 1.0, 0.1, -1.0]
    e = [math.exp(v) for v in z]
    p = [v / sum(e) for v in e]
    cell = (0.55, 0.27)
    mid = _column(ax, 1.3, top, z, name="logits z")
    box(ax, 2.45, mid, 0.75, 0.4, "exp")
    arrow(ax, (1.85, mid), (2.07, mid))
    arrow(ax, (2.83, mid), (3.1, mid))
    _column(ax, 3.1, top, e, name="e\u1d62")
    box(ax, 4.25, mid, 0.75, 0.4, f"\u00f7 {sum(e):.2f}")
    label(ax, 4.25, mid - 0.36, "(the sum)", color=MUTED)
    arrow(ax, (3.1 + cell[0], mid), (3.87, mid))
    arrow(ax, (4.63, mid), (4.9, mid))
    _column(ax, 4.9, top, p, name="p (sums to 1)")
    label(ax, 0.1, mid, "softmax", size=11, ha="left", weight="bold")


def _rmsnorm(ax, top):
    x = [2.0, -1.0, 0.5, 1.5]
    ms = sum(v * v for v in x) / len(x)
    s = (ms + 1e-5) ** -0.5
    mid = _column(ax, 1.3, top, x, name="x")
    box(ax, 2.55, mid + 0.25, 0.95, 0.42, f"mean x\u00b2\n= {ms:.3f}")
    box(
        ax,
        3.75,
        mid + 0.25,
        1.05,
        0.42,
        f"\u03c1 = 1/\u221a(\u00b7 + \u03b5)\n= {s:.3f}",
    )
    arrow(ax, (1.85, mid + 0.25), (2.07, mid + 0.25))
    arrow(ax, (3.03, mid + 0.25), (3.22, mid + 0.25))
    box(ax, 4.55, mid - 0.3, 0.55, 0.34, "\u00d7 s")
    path(ax, [(1.85, mid - 0.3), (4.27, mid - 0.3)])
    arrow(ax, (3.75, mid + 0.04), (4.45, mid - 0.13))
    arrow(ax, (4.83, mid - 0.3), (5.1, mid - 0.3))
    _column(ax, 5.1, top, [s * v for v in x], name="y = s x")
    label(ax, 0.1, mid, "rmsnorm", size=11, ha="left", weight="bold")


def building_blocks():
    """Draw linear, softmax and rmsnorm as data flowing through them."""
    fig, ax = canvas(6.6, 4.85)
    _linear(ax, 4.55)
    _softmax(ax, 2.95)
    _rmsnorm(ax, 1.35)
    return fig


def transformer_block():
    """Draw one block on the residual stream."""
    fig, ax = canvas(6.8, 2.35)
    y = 0.55  # the height of the residual stream
    up = 1.55  # the height of the sublayers above it
    path(ax, [(0.15, y), (6.65, y)])
    label(ax, 0.15, y - 0.22, "x from the embeddings", ha="left")
    label(ax, 6.65, y - 0.22, "x to lm_head", ha="right")
    label(
        ax,
        3.4,
        y - 0.22,
        "the residual stream  (T, 16)",
        color=SCHEME["data"][1],
    )

    def sublayer(x0, names, kind_names, first):
        read, add = x0, x0 + 0.45 + 0.82 * len(names)
        xs = [read + 0.45 + 0.82 * k for k in range(len(names))]
        for k, (x, name) in enumerate(zip(xs, names)):
            box(ax, x, up, 0.7, 0.46, name, kind=kind_names[k])
            if k:
                arrow(ax, (xs[k - 1] + 0.35, up), (x - 0.35, up))
        path(ax, [(read, y), (read, up), (xs[0] - 0.35, up)])
        path(ax, [(xs[-1] + 0.35, up), (add, up), (add, y + 0.13)])
        ax.add_patch(_circle(add, y))
        label(ax, add, y, "+", size=11)
        if first:
            label(ax, read - 0.05, y + 0.3, "read", ha="right", color=MUTED)
        else:
            label(ax, add - 0.05, up - 0.4, "add", ha="right", color=MUTED)

    sublayer(
        0.4, ["rmsnorm", "attention", "$W_o$"], ["op", "op", "param"], True
    )
    sublayer(
        3.55, ["rmsnorm", "fc1, relu", "fc2"], ["op", "op", "param"], False
    )
    label(ax, 1.85, up + 0.5, "attention sublayer", size=10)
    label(ax, 5.0, up + 0.5, "MLP sublayer  (16 \u2192 64 \u2192 16)", size=10)
    return fig


def _circle(x, y, r=0.13):
    from matplotlib.patches import Circle

    return Circle(
        (x, y), r, fc="white", ec=SCHEME["data"][1], lw=1.3, zorder=3
    )


def model_shapes(cfg=None):
    """Draw the whole model, with the data's shape at every arrow."""
    cfg = cfg or ModelConfig()
    d, V = cfg.n_embd, cfg.vocab_size
    steps = [  # box, its kind, the shape of what comes out
        ("wte[ids]: token embedding", "param", f"(T, {d})"),
        ("+ wpe[0..T-1]: positions", "param", f"(T, {d})"),
        ("rmsnorm", "op", f"(T, {d})"),
        ("attention sublayer (+)", "op", f"(T, {d})"),
        (f"MLP sublayer (+), {4 * d} wide inside", "op", f"(T, {d})"),
        ("lm_head", "param", f"(T, {V})"),
    ]
    gap = 0.66
    height = 0.85 + gap * len(steps) + 0.1
    fig, ax = canvas(5.4, height)
    x, w = 2.6, 3.0
    top = height - 0.3
    box(ax, x, top, 1.6, 0.36, "token ids", kind="data")
    label(ax, x + 0.9, top, f"T \u2264 {cfg.block_size} positions", ha="left")
    y = top
    for k, (text, kind, shape) in enumerate(steps):
        ny = top - gap * (k + 1)
        arrow(
            ax,
            (x, y - 0.18),
            (x, ny + 0.18),
            steps[k - 1][2] if k else "(T,)",
            "right",
        )
        box(ax, x, ny, w, 0.36, text, kind=kind)
        y = ny
    arrow(ax, (x, y - 0.18), (x, y - 0.5), f"(T, {V})  logits", "right")
    hi, lo = top - gap * 4 + 0.25, top - gap * 5 - 0.25
    line(
        ax,
        [
            (x - w / 2 - 0.05, hi),
            (x - w / 2 - 0.2, hi),
            (x - w / 2 - 0.2, lo),
            (x - w / 2 - 0.05, lo),
        ],
    )
    label(
        ax,
        x - w / 2 - 0.27,
        (hi + lo) / 2,
        f"one block\n\u00d7 {cfg.n_layer}",
        ha="right",
        color=MUTED,
    )
    return fig
