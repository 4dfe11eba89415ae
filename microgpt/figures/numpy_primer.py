"""Schematics of the NumPy primer: splitting an array into heads."""

import numpy as np

from .draw import INK, arrow, canvas, grid, label, shade

# One color per position, so that a number keeps the color of its row.
POSITION_KINDS = ["data", "op", "param", "loss", "plain"]


def head_splits(T=3, n_head=2, head_dim=2):
    """Split arange(T * n_embd), shaped (T, n_embd), into heads two ways.

    Returns x, the right split (reshape to (T, n_head, head_dim), then
    transpose to (n_head, T, head_dim)) and the wrong one (reshape
    straight to (n_head, T, head_dim)), as integer arrays.
    """
    n_embd = n_head * head_dim
    x = np.arange(T * n_embd).reshape(T, n_embd)  # (T, C)
    right = x.reshape(T, n_head, head_dim).transpose(1, 0, 2)  # (nh, T, hd)
    wrong = x.reshape(n_head, T, head_dim)  # (nh, T, hd)
    return x, right, wrong


def _cells(values, n_embd):
    """Give each number its text and the color of its position."""
    colors = [
        [shade(0.35, POSITION_KINDS[v // n_embd % 5]) for v in row]
        for row in values
    ]
    texts = [[str(v) for v in row] for row in values]
    return colors, texts


def first_mixed(heads, n_embd):
    """Find the first (head, row) whose numbers are not from position row.

    It returns None when every row t of each head holds position t's
    numbers.
    """
    for h, head in enumerate(heads):
        for t, row in enumerate(head):
            if any(int(v) // n_embd != t for v in row):
                return h, t
    return None


def head_reshape(T=3, n_head=2, head_dim=2):
    """Draw x (T, n_embd) split into heads two ways, right and wrong.

    The numbers in the cells are x = arange(T * n_embd), each colored by
    the position (row of x) it comes from: the right split keeps one
    position per row of every head, the wrong one mixes them.
    """
    if not (
        2 <= T <= len(POSITION_KINDS)
        and n_head >= 2
        and n_head * head_dim <= 4
    ):
        raise ValueError(
            "the picture has room for 2 <= T <= 5, "
            "n_head >= 2 and n_head * head_dim <= 4"
        )
    x, right, wrong = head_splits(T, n_head, head_dim)
    C = n_head * head_dim
    cell = (0.34, 0.28)
    band = T * cell[1] + 0.85  # a caption, head names and a grid
    height = 2 * band + 0.15
    fig, ax = canvas(6.9, height)

    # The array x, its rows labelled by position.
    left, top = 0.75, height / 2 + T * cell[1] / 2
    colors, texts = _cells(x, C)
    grid(ax, left, top, colors, cell, texts, size=9)
    label(
        ax, left + C * cell[0] / 2, top + 0.15, f"x  (T, n_embd) = ({T}, {C})"
    )
    for t in range(T):
        label(
            ax, left - 0.06, top - (t + 0.5) * cell[1], f"pos {t}", ha="right"
        )
    start = (left + C * cell[0] + 0.08, top - T * cell[1] / 2)

    mixed = first_mixed(wrong, C)
    if first_mixed(right, C) is not None or mixed is None:
        raise AssertionError("the splits are not as the picture says")
    h, t = mixed
    heads_left = 3.05
    groups = [
        (
            right,
            height - 0.2,
            f"x.reshape({T}, {n_head}, {head_dim}).transpose(1, 0, 2)",
            "right: row t of\nevery head is pos t",
        ),
        (
            wrong,
            height - 0.2 - band,
            f"x.reshape({n_head}, {T}, {head_dim})",
            f"wrong: head {h}, row {t}\nholds pos "
            f"{int(wrong[h][t][0]) // C}'s numbers",
        ),
    ]
    for heads, caption_y, caption, verdict in groups:
        label(
            ax,
            heads_left - 0.1,
            caption_y,
            caption,
            ha="left",
            family="monospace",
        )
        grid_top = caption_y - 0.45
        for h in range(n_head):
            x0 = heads_left + h * (head_dim * cell[0] + 0.3)
            colors, texts = _cells(heads[h], C)
            grid(ax, x0, grid_top, colors, cell, texts, size=9)
            label(
                ax, x0 + head_dim * cell[0] / 2, grid_top + 0.15, f"head {h}"
            )
        end_x = heads_left + n_head * (head_dim * cell[0] + 0.3) - 0.2
        label(
            ax,
            end_x,
            grid_top - T * cell[1] / 2,
            verdict,
            ha="left",
            color=INK,
        )
        arrow(ax, start, (heads_left - 0.08, grid_top - T * cell[1] / 2))
    return fig
