"""Schematics of attention: one head, the heads and the KV cache."""

import math
import random

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

TOKENS = ["BOS", "e", "m", "m"]  # the first four inputs of "emma"
HUES = ["#4a7ab0", "#d9822b", "#4f9a4a", "#8e5ea2"]  # one per head


def _weights(T, head_dim, seed=1):
    """Compute causal softmax weights of random small queries and keys."""
    rng = random.Random(seed)
    q = [[rng.gauss(0, 1) for _ in range(head_dim)] for _ in range(T)]
    k = [[rng.gauss(0, 1) for _ in range(head_dim)] for _ in range(T)]
    rows = []
    for t in range(T):
        s = [
            sum(a * b for a, b in zip(q[t], k[j])) / math.sqrt(head_dim)
            for j in range(t + 1)
        ]
        e = [math.exp(v - max(s)) for v in s]
        rows.append([v / sum(e) for v in e])
    return rows


def attention_head(cfg=None):
    """Draw one head: Q, K, V, the masked scores, softmax, weighted sum."""
    cfg = cfg or ModelConfig()
    T, d, hd = len(TOKENS), cfg.n_embd, cfg.head_dim
    fig, ax = canvas(6.8, 3.45)
    box(ax, 0.35, 1.95, 0.56, 1.1, f"x\n({T}, {d})", kind="data")
    qkv = {"q": 2.85, "k": 1.95, "v": 0.55}
    for name, y in qkv.items():
        box(ax, 1.45, y, 0.7, 0.5, f"{name.upper()}\n({T}, {hd})", kind="data")
        path(ax, [(0.63, 1.95), (0.75, 1.95), (0.75, y), (1.1, y)])
        label(ax, 0.93, y + 0.14, f"$W_{name}$", color=SCHEME["param"][1])
    cell = (0.33, 0.3)
    x0, top = 2.2, 2.75
    masked = [
        [shade(0.25) if j <= i else SCHEME["mask"][0] for j in range(T)]
        for i in range(T)
    ]
    texts = [
        ["" if j <= i else "\u2212\u221e" for j in range(T)] for i in range(T)
    ]
    grid(ax, x0, top, masked, cell, texts, text_colors=[[MUTED] * T] * T)
    label(
        ax,
        x0 + 2 * cell[0],
        top + 0.35,
        f"scores Q K\u1d40 / \u221a{hd}",
        ha="center",
    )
    label(ax, x0 + 2 * cell[0], top + 0.15, "masked", color=MUTED)
    path(ax, [(1.8, 2.85), (1.98, 2.85), (1.98, 2.15), (x0, 2.15)])
    line(ax, [(1.8, 1.95), (1.98, 1.95), (1.98, 2.15)])
    w = _weights(T, hd)
    colors = [
        [
            shade(0.2 + 0.8 * w[i][j], "op") if j <= i else SCHEME["mask"][0]
            for j in range(T)
        ]
        for i in range(T)
    ]
    texts = [
        [
            f"{w[i][j]:.2f}"[1:]
            if j <= i and w[i][j] < 1
            else ("1" if j <= i else "0")
            for j in range(T)
        ]
        for i in range(T)
    ]
    x1 = 4.25
    grid(ax, x1, top, colors, cell, texts)
    arrow(ax, (x0 + T * cell[0] + 0.03, 2.15), (x1 - 0.03, 2.15))
    label(
        ax,
        (x0 + T * cell[0] + x1) / 2,
        2.05,
        "softmax\nby row",
        color=MUTED,
        va="top",
    )
    label(ax, x1 + 2 * cell[0], top + 0.35, "weights", ha="center")
    label(ax, x1 + 2 * cell[0], top + 0.15, "rows sum to 1", color=MUTED)
    label(
        ax,
        x1 + 2 * cell[0],
        top - T * cell[1] - 0.2,
        "row t: query t,  column s: key s",
        color=MUTED,
    )
    box(ax, 6.2, 2.15, 0.5, 0.4, "\u00d7", kind="op", size=12)
    arrow(ax, (x1 + T * cell[0] + 0.03, 2.15), (5.95, 2.15))
    path(ax, [(1.8, 0.55), (6.2, 0.55), (6.2, 1.95)])
    label(ax, 4.1, 0.4, "values, mixed by the weights", color=MUTED, va="top")
    box(ax, 6.2, 3.0, 0.95, 0.5, f"out\n({T}, {hd})", kind="data")
    arrow(ax, (6.2, 2.35), (6.2, 2.75))
    return fig


def heads_split_join(cfg=None):
    """Draw q, k and v split into n_head heads, then joined and W_o."""
    cfg = cfg or ModelConfig()
    d, H, hd = cfg.n_embd, cfg.n_head, cfg.head_dim
    cell = (0.26, 0.3)
    left = 1.5
    width = left + d * cell[0] + 0.25
    fig, ax = canvas(width, 3.6)
    colors = [[_tint(HUES[j // hd]) for j in range(d)]]
    top = 3.3
    grid(ax, left, top, colors, cell)
    label(ax, left - 0.1, top - cell[1] / 2, f"q, k, v  ({d},)", ha="right")
    mid = top - cell[1] - 0.85
    for h in range(H):
        x = left + (h + 0.5) * hd * cell[0]
        arrow(ax, (x, top - cell[1] - 0.04), (x, mid + 0.25))
        box(ax, x, mid, hd * cell[0] - 0.12, 0.5, f"head {h}", kind="op")
        arrow(ax, (x, mid - 0.25), (x, mid - 0.66))
    label(
        ax,
        left - 0.1,
        mid,
        f"{H} heads of {hd}:\nattention on\neach slice",
        ha="right",
    )
    low = mid - 0.66
    grid(ax, left, low, colors, cell)
    label(ax, left - 0.1, low - cell[1] / 2, "joined", ha="right")
    x = left + d * cell[0] / 2
    arrow(
        ax,
        (x, low - cell[1] - 0.04),
        (x, low - cell[1] - 0.35),
        f"\u00d7 $W_o$  ({d}, {d}): mixes the heads",
        "right",
    )
    grid(ax, left, low - cell[1] - 0.38, [[SCHEME["data"][0]] * d], cell)
    label(
        ax, left - 0.1, low - 1.5 * cell[1] - 0.38, f"out  ({d},)", ha="right"
    )
    return fig


def _tint(hue):
    from matplotlib.colors import to_rgb

    return tuple(1 - 0.35 * (1 - c) for c in to_rgb(hue))


def kv_cache(n=4):
    """Draw the KV cache, which gains one key and value per position."""
    panel = 1.62
    fig, ax = canvas(panel * n + 0.1, 2.75)
    cell = (0.42, 0.26)
    for t in range(n):
        x0 = 0.1 + t * panel
        label(ax, x0 + 0.7, 2.5, f"t = {t}: {TOKENS[t]}", size=10)
        box(ax, x0 + 0.7, 2.05, 0.95, 0.34, f"query q{t}", kind="data", size=9)
        top = 1.6
        old, new = SCHEME["data"][0], shade(0.6, "op")
        colors = [[old] * 2 for _ in range(t)] + [[new] * 2]
        texts = [[f"k{s}", f"v{s}"] for s in range(t + 1)]
        grid(ax, x0 + 0.28, top, colors, cell, texts, size=9)
        arrow(ax, (x0 + 0.7, 1.87), (x0 + 0.7, top + 0.03))
        if t:
            line(ax, [(x0 - 0.05, 0.42), (x0 - 0.05, 2.6)], color="#cccccc")
    label(
        ax,
        0.1 + n * panel / 2,
        0.2,
        "each position appends its key and value (orange); its query "
        "reads all of them",
        color=MUTED,
        ha="center",
    )
    return fig
