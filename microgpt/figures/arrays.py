"""Schematics of arrays: a NumPy layer, torch autograd and packing."""

import numpy as np

from ..batch import visible
from ..config import ModelConfig
from .draw import (
    GRAD,
    MUTED,
    SCHEME,
    arrow,
    box,
    canvas,
    grid,
    label,
    line,
    shade,
)


def _slab(ax, x, y, w, h, text, kind="data", depth=2):
    """Draw a (B, T, C) array as sheets behind a front box at (x, y)."""
    from matplotlib.patches import Rectangle

    face, edge = SCHEME[kind]
    for k in range(depth, 0, -1):
        ax.add_patch(
            Rectangle(
                (x - w / 2 + 0.07 * k, y - h / 2 + 0.07 * k),
                w,
                h,
                fc=face,
                ec=edge,
                lw=1,
                zorder=1,
            )
        )
    box(ax, x, y, w, h, text, kind=kind, round_=False)


def numpy_layer(cfg=None):
    """Draw a linear layer on (B, T, C) arrays, forward and backward."""
    cfg = cfg or ModelConfig()
    d, hidden = cfg.n_embd, 4 * cfg.n_embd
    fig, ax = canvas(6.8, 4.2)
    fwd, back = 2.95, 1.2
    _slab(ax, 0.7, fwd, 0.95, 0.75, f"x\n(B, T, {d})")
    box(ax, 3.0, fwd, 1.7, 0.62, "linear_forward\ny = x W\u1d40")
    _slab(ax, 5.75, fwd, 1.45, 0.75, f"y\n(B, T, {hidden})")
    arrow(ax, (1.25, fwd), (2.15, fwd))
    label(
        ax,
        3.1,
        2.52,
        "one product for\nall B\u00b7T rows",
        ha="left",
        color=MUTED,
    )
    arrow(ax, (3.85, fwd), (5.0, fwd))
    box(ax, 3.0, 3.85, 1.25, 0.36, f"W ({hidden}, {d})", kind="param")
    arrow(ax, (3.0, 3.67), (3.0, fwd + 0.31))
    box(ax, 3.0, 2.07, 1.45, 0.38, "cache: (x, W)", kind="plain")
    arrow(ax, (3.0, fwd - 0.31), (3.0, 2.26), dashed=True)
    arrow(ax, (3.0, 1.88), (3.0, back + 0.31), dashed=True)
    label(
        ax,
        3.8,
        2.07,
        "kept from forward\nfor backward",
        ha="left",
        color=MUTED,
    )
    _slab(ax, 5.75, back, 1.45, 0.75, f"dy\n(B, T, {hidden})", kind="loss")
    box(ax, 3.0, back, 1.7, 0.62, "linear_backward\n(dy, cache)")
    _slab(ax, 0.7, back, 0.95, 0.75, f"dx = dy W\n(B, T, {d})", kind="loss")
    arrow(ax, (5.0, back), (3.85, back), "from above", "above", color=GRAD)
    arrow(ax, (2.15, back), (1.25, back), color=GRAD)
    box(
        ax,
        3.0,
        0.25,
        2.3,
        0.36,
        f"dW = dy\u1d40 x  ({hidden}, {d})",
        kind="loss",
    )
    arrow(ax, (3.0, back - 0.31), (3.0, 0.43), color=GRAD)
    label(
        ax, 4.2, 0.25, "summed over all\nB\u00b7T rows", ha="left", color=MUTED
    )
    label(ax, 0.1, fwd + 0.68, "forward", size=10, ha="left")
    label(ax, 0.1, back + 0.68, "backward", size=10, ha="left", color=GRAD)
    return fig


def torch_autograd():
    """Draw what we write by hand in NumPy beside what autograd records."""
    fig, ax = canvas(6.8, 3.7)
    label(ax, 1.65, 3.45, "NumPy: written by hand", size=10)
    label(ax, 5.15, 3.45, "PyTorch: recorded by autograd", size=10)
    line(ax, [(3.4, 0.75), (3.4, 3.55)], color="#cccccc")
    # by hand
    box(ax, 0.6, 2.8, 0.85, 0.4, "x, W", kind="data")
    box(ax, 2.25, 2.8, 1.6, 0.46, "linear_forward", kind="op")
    arrow(ax, (1.03, 2.8), (1.45, 2.8))
    box(ax, 2.25, 2.0, 1.6, 0.4, "returns y, cache", kind="plain")
    arrow(ax, (2.25, 2.57), (2.25, 2.2))
    box(ax, 2.25, 1.2, 1.6, 0.46, "linear_backward", kind="op")
    arrow(ax, (2.25, 1.8), (2.25, 1.43), "we call it", "left")
    box(ax, 0.6, 1.2, 0.85, 0.4, "dx, dW", kind="loss")
    arrow(ax, (1.45, 1.2), (1.03, 1.2), color=GRAD)
    # autograd
    box(ax, 4.1, 2.8, 1.0, 0.4, "x, W", kind="data")
    label(ax, 4.1, 2.45, "requires_grad", color=MUTED)
    box(ax, 5.8, 2.8, 1.3, 0.46, "F.linear(x, W)", kind="op")
    arrow(ax, (4.6, 2.8), (5.15, 2.8))
    box(ax, 5.8, 2.0, 1.3, 0.4, "y.grad_fn", kind="plain")
    arrow(ax, (5.8, 2.57), (5.8, 2.2), "records", "right")
    box(ax, 5.8, 1.2, 1.3, 0.46, "loss.backward()", kind="op")
    arrow(ax, (5.8, 1.8), (5.8, 1.43), "walks", "right")
    box(ax, 4.1, 1.2, 1.0, 0.4, "W.grad", kind="loss")
    arrow(ax, (5.15, 1.2), (4.6, 1.2), color=GRAD)
    # devices
    box(
        ax,
        3.4,
        0.35,
        6.5,
        0.46,
        "a tensor lives on one device (cpu or "
        "cuda); every tensor of one operation must be on the same one",
        kind="plain",
        size=9,
    )
    return fig


def packing(names=("ava", "yuheng", "jo"), cfg=None, width=None):
    """Draw names packed into one row, and the row's block-diagonal mask.

    width is the row's length: by default as many positions as the names
    fill, as in a batch whose longest row is this one; a wider row ends in
    padding. It may not exceed the context, cfg.block_size.
    """
    cfg = cfg or ModelConfig()
    inputs, doc, pos = [], [], []
    for k, name in enumerate(names):
        for t, c in enumerate(["BOS", *name]):
            inputs.append(c)
            doc.append(k)
            pos.append(t)
    if len(inputs) > cfg.block_size:
        raise ValueError(f"{names} do not fit in {cfg.block_size} positions")
    T = len(inputs) if width is None else width
    if not len(inputs) <= T <= cfg.block_size:
        raise ValueError(
            f"a row of {T} positions cannot hold {names} "
            f"within {cfg.block_size}"
        )
    pad = T - len(inputs)
    hues = ["data", "op", "param"]
    docs = np.array([doc + [-1] * pad])
    seen = visible(docs)[0]
    cell = 0.27
    left = 1.2
    fig, ax = canvas(left + T * cell + 0.2, T * cell + 1.25)
    top = T * cell + 1.0

    def face(k, strength):
        return shade(strength, hues[k % 3]) if k >= 0 else "#c4c4c4"

    row = [face(k, 0.35) for k in doc] + ["#eeeeee"] * pad
    grid(ax, left, top, [row], (cell, cell), [inputs + [""] * pad])
    label(ax, left - 0.1, top - cell / 2, "inputs", ha="right")
    grid(
        ax,
        left,
        top - cell,
        [["white"] * T],
        (cell, cell),
        [[str(p) for p in pos] + [""] * pad],
        edge="#dddddd",
    )
    label(ax, left - 0.1, top - 1.5 * cell, "positions", ha="right")
    if pad:
        label(
            ax,
            left + (len(inputs) + pad / 2) * cell,
            top + 0.14,
            "padding",
            color=MUTED,
        )
    mtop = top - 2 * cell - 0.35
    colors = [
        [face(docs[0, i], 0.6) if seen[i, j] else "#f0f0f0" for j in range(T)]
        for i in range(T)
    ]
    grid(ax, left, mtop, colors, (cell, cell), edge="white")
    label(
        ax,
        left - 0.1,
        mtop - T * cell / 2,
        "mask\n\nrow: query\ncolumn: key",
        ha="right",
    )
    label(
        ax,
        left + T * cell / 2,
        mtop + 0.14,
        "colored: may attend" + (" (padding only to padding)" if pad else ""),
        color=MUTED,
    )
    return fig
