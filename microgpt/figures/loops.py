"""Schematics of the loss, the training loop and sampling."""

import math
import random

from ..config import ModelConfig, SampleConfig, TrainConfig
from .draw import GRAD, MUTED, SCHEME, arrow, box, canvas, grid, label, path


def _bars(ax, x, y, w, h, values, hot=None, kind="data"):
    """Draw values as bars in x..x+w, y..y+h, with bar hot standing out."""
    from matplotlib.patches import Rectangle

    low, high = min(min(values), 0), max(values)
    step = w / len(values)
    zero = y + h * (0 - low) / (high - low)
    for i, v in enumerate(values):
        top = y + h * (v - low) / (high - low)
        color = SCHEME["op"][1] if i == hot else SCHEME[kind][1]
        ax.add_patch(
            Rectangle(
                (x + i * step, min(zero, top)),
                step * 0.8,
                abs(top - zero),
                fc=color,
                lw=0,
                zorder=2,
            )
        )
    ax.plot([x, x + w], [zero, zero], color="#999999", lw=0.8, zorder=1)


def _softmax(z):
    e = [math.exp(v - max(z)) for v in z]
    return [v / sum(e) for v in e]


def loss_chain(word="emma", seed=3):
    """Draw a name's logits becoming its loss: softmax, -log p, mean."""
    V = ModelConfig().vocab_size
    letters = "abcdefghijklmnopqrstuvwxyz"
    targets = [letters.index(c) for c in word] + [V - 1]
    rng = random.Random(seed)
    logits = [[rng.gauss(0, 1) for _ in range(V)] for _ in targets]
    probs = [_softmax(z) for z in logits]
    losses = [-math.log(p[t]) for p, t in zip(probs, targets)]
    fig, ax = canvas(6.8, 3.2)
    y = 2.2
    _bars(ax, 0.15, y - 0.35, 1.2, 0.7, logits[0])
    label(ax, 0.75, y + 0.62, f"logits ({V},)", size=10)
    arrow(ax, (1.42, y), (1.7, y))
    box(ax, 2.1, y, 0.75, 0.42, "softmax")
    arrow(ax, (2.5, y), (2.75, y))
    _bars(ax, 2.8, y - 0.35, 1.2, 0.7, probs[0], hot=targets[0])
    label(ax, 3.4, y + 0.62, f"p ({V},), sums to 1", size=10)
    label(
        ax,
        3.4,
        y - 0.52,
        f"target '{word[0]}' in orange",
        color=SCHEME["op"][1],
    )
    arrow(ax, (4.07, y), (4.3, y))
    box(ax, 4.8, y, 0.95, 0.46, f"p[target]\n= {probs[0][targets[0]]:.3f}")
    arrow(ax, (5.28, y), (5.48, y))
    box(ax, 6.1, y, 1.18, 0.46, f"\u2212log p\n= {losses[0]:.2f}", kind="loss")
    label(ax, 6.1, y + 0.48, "\u2113 at position 0")
    cell = (0.62, 0.36)
    n = len(losses)
    left = 0.95
    texts = [[f"{v:.2f}" for v in losses]]
    grid(ax, left, 0.95, [[SCHEME["loss"][0]] * n], cell, texts, size=10)
    for t in range(n):
        label(
            ax,
            left + (t + 0.5) * cell[0],
            1.1,
            f"{'BOS' if t == 0 else word[t - 1]}\u2192"
            f"{word[t] if t < len(word) else 'BOS'}",
            color=MUTED,
        )
    label(
        ax, left - 0.1, 0.95 - cell[1] / 2, "\u2113 by\nposition", ha="right"
    )
    path(
        ax,
        [
            (6.1, y - 0.23),
            (6.1, 1.45),
            (left + cell[0] / 2, 1.45),
            (left + cell[0] / 2, 1.27),
        ],
    )
    label(ax, 4.6, 1.39, "the same at every position", color=MUTED, va="top")
    right = left + n * cell[0]
    arrow(ax, (right + 0.05, 0.77), (right + 0.35, 0.77))
    box(ax, right + 0.75, 0.77, 0.8, 0.42, "mean")
    arrow(ax, (right + 1.15, 0.77), (right + 1.4, 0.77))
    box(
        ax,
        right + 2.0,
        0.77,
        1.2,
        0.46,
        f"loss = {sum(losses) / n:.2f}",
        kind="loss",
    )
    label(
        ax,
        3.4,
        0.2,
        f"for '{word}' under made-up logits; "
        f"a uniform guess gives ln {V} = {math.log(V):.2f}",
        color=MUTED,
    )
    return fig


def training_loop(tcfg=None):
    """Draw one step of training, repeated num_steps times."""
    tcfg = tcfg or TrainConfig()
    fig, ax = canvas(6.4, 3.3)
    w, h = 1.75, 0.62
    left, right, top, low = 1.25, 4.6, 2.35, 0.75
    box(ax, left, top, w, h, "forward\nlogits at every position", kind="param")
    box(ax, right, top, w, h, "loss\nmean \u2212log p(target)", kind="loss")
    box(ax, right, low, w, h, "backward\ngrad of every parameter", kind="op")
    box(ax, left, low, w, h, "Adam update\nm, v, bias correction", kind="op")
    arrow(ax, (left + w / 2, top), (right - w / 2, top))
    arrow(ax, (right, top - h / 2), (right, low + h / 2))
    arrow(
        ax, (right - w / 2, low), (left + w / 2, low), "gradients", color=GRAD
    )
    arrow(
        ax,
        (left, low + h / 2),
        (left, top - h / 2),
        "new weights;\ngrads set to 0",
        "right",
    )
    label(ax, left, top + 0.68, "name \u03ba, framed by BOS")
    arrow(ax, (left, top + 0.55), (left, top + h / 2))
    lr = f"{tcfg.learning_rate:g}"
    label(
        ax,
        3.0,
        0.12,
        f"learning rate at step \u03ba: {lr} (1 \u2212 "
        f"(\u03ba \u2212 1) / {tcfg.num_steps}), down to "
        f"{tcfg.learning_rate / tcfg.num_steps:g}",
        ha="center",
    )
    arrow(ax, (left, 0.25), (left, low - h / 2))
    label(
        ax,
        3.3,
        (top + low) / 2 + 0.08,
        f"step \u03ba = 1, 2, \u2026, {tcfg.num_steps}",
        size=11,
    )
    label(ax, 3.3, (top + low) / 2 - 0.18, "one name per step", color=MUTED)
    return fig


def sampling_loop(scfg=None):
    """Draw the sampling of a name, one token at a time, until BOS."""
    scfg = scfg or SampleConfig()
    fig, ax = canvas(6.8, 2.2)
    y, low = 1.55, 0.6
    boxes = [
        ("BOS", 0.35, 0.5, "data"),
        ("model\n(KV cache)", 1.4, 1.0, "param"),
        (f"logits \u00f7\ntemperature {scfg.temperature:g}", 2.7, 1.2, "op"),
        ("softmax\nprobabilities", 3.97, 1.05, "op"),
        ("draw one\ntoken", 5.15, 0.9, "op"),
    ]
    for k, (text, x, w, kind) in enumerate(boxes):
        box(ax, x, y, w, 0.58, text, kind=kind)
        if k:
            prev = boxes[k - 1]
            arrow(ax, (prev[1] + prev[2] / 2, y), (x - w / 2, y))
    box(ax, 5.15, low, 0.9, 0.46, "BOS?", kind="plain")
    arrow(ax, (5.15, y - 0.29), (5.15, low + 0.23))
    box(ax, 6.35, low, 0.75, 0.46, "stop", kind="data")
    arrow(ax, (5.6, low), (5.975, low), "yes")
    path(ax, [(4.7, low), (1.4, low), (1.4, y - 0.29)], "no", "above")
    label(
        ax,
        3.0,
        low - 0.12,
        "append the letter to the name; it is the next input",
        color=MUTED,
        va="top",
    )
    label(
        ax,
        3.4,
        2.05,
        "one forward pass per token: the name grows by one letter each time",
        color=MUTED,
    )
    return fig
