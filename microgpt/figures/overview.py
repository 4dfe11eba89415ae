"""Schematics of the whole program, the data, autograd and parameters."""

from ..config import ModelConfig
from .draw import (
    GRAD,
    INK,
    MUTED,
    SCHEME,
    arrow,
    box,
    canvas,
    grid,
    label,
    path,
)


def pipeline():
    """Draw the program: the training loop below, sampling above it."""
    fig, ax = canvas(6.8, 3.1)
    h = 0.56
    boxes = {  # name: (x, y, width, text, kind)
        "names": (0.62, 1.55, 1.0, "32,033\nnames", "data"),
        "tok": (2.3, 1.55, 1.05, "tokenizer\n(ch. 2)", "op"),
        "gpt": (4.2, 1.55, 1.4, "GPT, 4,192\nparams (ch. 4-7)", "param"),
        "loss": (6.05, 1.55, 1.0, "loss\n(ch. 8)", "loss"),
        "back": (6.05, 0.35, 1.1, "backward\n(ch. 3)", "op"),
        "adam": (4.2, 0.35, 1.2, "Adam update\n(ch. 9)", "op"),
        "sample": (4.2, 2.75, 1.4, "sampling\n(ch. 10)", "op"),
        "new": (6.05, 2.75, 1.0, "new names", "data"),
    }
    for x, y, w, text, kind in boxes.values():
        box(ax, x, y, w, h, text, kind=kind)

    def edge(name, side):
        x, y, w, _, _ = boxes[name]
        return {
            "left": (x - w / 2, y),
            "right": (x + w / 2, y),
            "top": (x, y + h / 2),
            "bottom": (x, y - h / 2),
        }[side]

    arrow(ax, edge("names", "right"), edge("tok", "left"), "a name")
    arrow(ax, edge("tok", "right"), edge("gpt", "left"), "tokens")
    arrow(ax, edge("gpt", "right"), edge("loss", "left"), "logits")
    arrow(ax, edge("loss", "bottom"), edge("back", "top"), "loss", "left")
    arrow(
        ax,
        edge("back", "left"),
        edge("adam", "right"),
        "gradients",
        "below",
        color=GRAD,
    )
    left = boxes["gpt"][0] - 0.35
    arrow(
        ax,
        (left, boxes["adam"][1] + h / 2),
        (left, boxes["gpt"][1] - h / 2),
        "new weights",
        "left",
    )
    arrow(ax, edge("gpt", "top"), edge("sample", "bottom"), "trained", "right")
    arrow(ax, edge("sample", "right"), edge("new", "left"))
    label(ax, 1.45, 0.35, "training: 1,000 steps\n(bottom loop)", color=MUTED)
    label(ax, 1.45, 2.75, "sampling: 20 names\n(top row)", color=MUTED)
    return fig


def framing(name="emma"):
    """Draw a name as tokens and its (context, next token) pairs."""
    letters = sorted(set("abcdefghijklmnopqrstuvwxyz"))
    bos = len(letters)
    chars = ["BOS", *name, "BOS"]
    ids = [bos, *(letters.index(c) for c in name), bos]
    n = len(chars)
    cell, left = (0.6, 0.4), 1.45
    width = left + n * cell[0] + 0.25
    height = 1.55 + (n - 1) * 0.46
    fig, ax = canvas(width, height)
    top = height - 0.15
    face, _ = SCHEME["data"]
    grid(ax, left, top, [[face] * n], cell, [chars], size=10)
    grid(
        ax,
        left,
        top - 0.75,
        [[SCHEME["plain"][0]] * n],
        cell,
        [[str(i) for i in ids]],
        size=10,
    )
    label(ax, left - 0.12, top - cell[1] / 2, "characters", ha="right")
    label(ax, left - 0.12, top - 0.75 - cell[1] / 2, "token ids", ha="right")
    for j in range(n):
        x = left + (j + 0.5) * cell[0]
        arrow(ax, (x, top - cell[1]), (x, top - 0.75))
    y = top - 1.5
    label(
        ax,
        left - 0.12,
        y + 0.05,
        "context",
        ha="right",
        color=SCHEME["data"][1],
    )
    label(
        ax,
        left - 0.12,
        y - 0.2,
        "\u2192 next token",
        ha="right",
        color=SCHEME["op"][1],
    )
    small = (cell[0], 0.34)
    for t in range(n - 1):
        row_top = y - t * 0.46
        colors = [[face] * (t + 1) + [SCHEME["op"][0]]]
        grid(ax, left, row_top, colors, small, [chars[: t + 2]], size=9)
    label(
        ax,
        left - 0.12,
        y - 0.6 - (n - 3) * 0.23,
        f"{n - 1} pairs",
        ha="right",
        color=MUTED,
    )
    return fig


def _graph_values():
    """Evaluate L = (a b + c) a forward and backward.

    The values are those of the autograd chapter's example.
    """
    from ..engine import Value

    a, b, c = Value(2.0), Value(-3.0), Value(10.0)
    e = a * b
    d = e + c
    loss = d * a
    loss.backward()
    return {"a": a, "b": b, "c": c, "e": e, "d": d, "L": loss}


def _num(x):
    return f"{x:g}".replace("-", "\u2212")


def expression_graph():
    """Draw a small expression's graph: values forward, grads back."""
    nodes = _graph_values()
    fig, ax = canvas(6.8, 3.75)
    w, h = 0.82, 0.6
    col = [0.5, 1.4, 2.3, 3.2, 4.1, 5.0, 5.95]
    where = {
        "a": (col[0], 2.55),
        "b": (col[0], 1.75),
        "e": (col[2], 2.15),
        "c": (col[2], 1.25),
        "d": (col[4], 1.7),
        "L": (col[6], 1.7),
    }
    ops = {
        "*1": (col[1], 2.15, "\u00d7", ["a", "b"], "e"),
        "+": (col[3], 1.7, "+", ["e", "c"], "d"),
        "*2": (col[5], 1.7, "\u00d7", ["d"], "L"),
    }
    for name, (x, y) in where.items():
        node = nodes[name]
        box(
            ax,
            x,
            y,
            w,
            h,
            f"{name} = {_num(node.data)}",
            kind="data",
            sub=f"grad {_num(node.grad)}",
            sub_color=GRAD,
        )
    for x, y, text, ins, out in ops.values():
        box(ax, x, y, 0.5, 0.34, text, kind="op")
        for name in ins:
            nx, ny = where[name]
            path(
                ax,
                [(nx + w / 2, ny), (x - 0.3, ny), (x - 0.3, y), (x - 0.25, y)],
            )
        arrow(ax, (x + 0.25, y), (where[out][0] - w / 2, y))
    # a's second use: straight into the last product
    path(
        ax,
        [
            (col[0], 2.55 + h / 2),
            (col[0], 3.1),
            (col[5], 3.1),
            (col[5], 1.7 + 0.17),
        ],
    )
    label(
        ax,
        1.0,
        2.75,
        "a is used twice: its grad is the sum of two paths, 4 + (\u22126)",
        ha="left",
        color=MUTED,
    )
    arrow(
        ax,
        (0.3, 3.55),
        (6.5, 3.55),
        "forward, along the arrows: each parent from its children",
        "below",
        color=INK,
    )
    arrow(
        ax,
        (6.5, 0.35),
        (0.3, 0.35),
        "backward, against the arrows: each child's grad from its "
        "parents' grads",
        "below",
        color=GRAD,
    )
    label(ax, 0.1, 0.85, "L = (a b + c) a", size=10, ha="left")
    return fig


def state_dict(cfg=None):
    """Draw every matrix of the state dict to scale."""
    from ..params import num_params, param_shapes

    cfg = cfg or ModelConfig()
    shapes = param_shapes(cfg)
    s = 0.035  # inches per row or column
    fig, ax = canvas(6.2, 3.55)

    def matrix(name, x, top, text=None):
        rows, cols = shapes[name]
        w, h = cols * s, rows * s
        box(
            ax,
            x + w / 2,
            top - h / 2,
            w,
            h,
            f"{rows}\n\u00d7\n{cols}"
            if w < 0.7 and h > 0.9
            else f"{rows} \u00d7 {cols}",
            kind="param",
            round_=False,
            size=9,
        )
        label(ax, x + w / 2, top + 0.12, text or name.split(".")[-1])
        return w, h

    top = 2.95
    _, h = matrix("wte", 0.25, top)
    matrix("wpe", 0.25, top - h - 0.45)
    label(ax, 0.53, 0.15, "embeddings", color=MUTED)
    x0 = 1.4  # the block's frame
    size = shapes["layer0.attn_wq"][1] * s
    for k, name in enumerate(["attn_wq", "attn_wk", "attn_wv", "attn_wo"]):
        matrix(
            f"layer0.{name}",
            x0 + 0.25 + (k % 2) * (size + 0.5),
            top - (k // 2) * (size + 0.45),
        )
    fc2_top = top - 2 * (size + 0.45)
    w2, _ = matrix("layer0.mlp_fc2", x0 + 0.25, fc2_top)
    matrix("layer0.mlp_fc1", x0 + 0.25 + w2 + 0.45, top)
    right = x0 + 0.25 + w2 + 0.45 + shapes["layer0.mlp_fc1"][1] * s + 0.25
    ax.add_patch(_frame(x0, 0.3, right - x0, top + 0.35 - 0.3))
    label(
        ax,
        (x0 + right) / 2,
        0.15,
        "layer 0: attention and MLP"
        if cfg.n_layer == 1
        else f"one of {cfg.n_layer} layers",
        color=MUTED,
    )
    matrix("lm_head", right + 0.35, top)
    label(
        ax,
        right + 0.35 + shapes["lm_head"][1] * s / 2,
        1.55,
        f"{num_params(cfg):,}\nnumbers\nin all",
        color=MUTED,
    )
    return fig


def _frame(x, y, w, h):
    from matplotlib.patches import FancyBboxPatch

    return FancyBboxPatch(
        (x, y),
        w,
        h,
        boxstyle="round,pad=0,rounding_size=0.1",
        fc="none",
        ec="#9a9a9a",
        lw=1,
        ls="--",
        zorder=0,
    )
