"""A microgpt block above a GPT-2 block, with what differs between them."""

from .blocks import _circle
from .draw import GRAD, MUTED, SCHEME, arrow, box, canvas, label, path


def _row(ax, y, boxes, kinds, ends, title):
    """Draw one block on a residual stream at height y, sublayers above."""
    up = y + 0.95
    path(ax, [(0.15, y), (6.65, y)])
    label(ax, 0.15, y - 0.24, ends[0], ha="left")
    label(ax, 6.65, y - 0.24, ends[1], ha="right")
    label(ax, 0.15, up + 0.5, title, size=10, ha="left", weight="bold")
    for x0, names, kind in (
        (0.4, boxes[:3], kinds[:3]),
        (3.55, boxes[3:], kinds[3:]),
    ):
        add = x0 + 0.45 + 0.82 * len(names)
        xs = [x0 + 0.45 + 0.82 * k for k in range(len(names))]
        for k, (x, name) in enumerate(zip(xs, names)):
            box(ax, x, up, 0.74, 0.46, name, kind=kind[k])
            if k:
                arrow(ax, (xs[k - 1] + 0.37, up), (x - 0.37, up))
        path(ax, [(x0, y), (x0, up), (xs[0] - 0.37, up)])
        path(ax, [(xs[-1] + 0.37, up), (add, up), (add, y + 0.13)])
        ax.add_patch(_circle(add, y))
        label(ax, add, y, "+", size=11)


def gpt2_block():
    """Draw microgpt's block and GPT-2's, the changed parts in red."""
    fig, ax = canvas(6.8, 4.3)
    _row(
        ax,
        2.55,
        ["rmsnorm", "attention", "$W_o$", "rmsnorm", "fc1, relu", "fc2"],
        ["op", "op", "param", "op", "op", "param"],
        ("x = rmsnorm(wte + wpe)", "x to lm_head"),
        "microgpt: no biases, no gains, no dropout",
    )
    _row(
        ax,
        0.45,
        [
            "LayerNorm",
            "attention",
            "c_proj",
            "LayerNorm",
            "c_fc, GELU",
            "c_proj",
        ],
        ["op", "op", "param", "op", "op", "param"],
        ("x = dropout(wte + wpe)", "LayerNorm, then wte\u1d40"),
        "GPT-2: every linear map with a bias",
    )
    # The parts GPT-2 changes, marked where they sit.
    for x in (0.85, 4.0):
        label(ax, x, 0.45 + 0.95 - 0.42, "gain, bias", color=GRAD)
    for x in (2.49, 5.64):
        label(ax, x, 0.45 + 0.95 - 0.42, "dropout", color=GRAD)
    label(ax, 4.82, 0.45 + 0.95 - 0.42, "tanh GELU", color=GRAD)
    label(ax, 3.4, 2.55 - 0.24, "std 0.08 everywhere", color=SCHEME["data"][1])
    label(
        ax,
        3.4,
        0.45 - 0.24,
        "c_proj: std 0.02 / \u221a(2 n_layer)",
        color=MUTED,
    )
    return fig
