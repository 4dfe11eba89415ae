"""Schematics of running text: windows cut from a stream, BPE's merges."""

from .draw import INK, MUTED, arrow, box, canvas, grid, label, shade

SNIPPET = "First Citizen:\nBefore we proceed any further,"


def shown(ch):
    """Show a character as a cell does, a space or newline made visible."""
    return {" ": "\u2423", "\n": "\u21b5"}.get(ch, ch)


def text_windows(block_size=8, starts=(2, 19), held_out=9):
    """Draw windows of block_size + 1 characters cut from one long text.

    The strip is the text; its last held_out characters are the held-out
    tail, never inside a training window. Each window drawn at a random
    start gives block_size inputs, and the targets are the same
    characters moved one to the left: target t is the input at t + 1.
    """
    n = len(SNIPPET)
    fig, ax = canvas(6.9, 3.3)
    cell = (6.5 / n, 0.3)
    x0, top = 0.2, 2.75
    window = shade(0.4, "data")
    colors = []
    for i in range(n):
        if i >= n - held_out:
            colors.append(shade(0.45, "loss"))
        elif any(s <= i <= s + block_size for s in starts):
            colors.append(window)
        else:
            colors.append("#f4f4f4")
    grid(ax, x0, top, [colors], cell, [[shown(c) for c in SNIPPET]])
    for k, s in enumerate(starts, start=1):
        left = x0 + s * cell[0]
        right = left + (block_size + 1) * cell[0]
        ax.plot(
            [left, left, right, right],
            [top + 0.04, top + 0.12, top + 0.12, top + 0.04],
            color=MUTED,
            lw=1.2,
        )
        label(
            ax,
            (left + right) / 2,
            top + 0.24,
            f"window {k}: start {s}",
            color=INK,
        )
    tail_mid = x0 + (n - held_out / 2) * cell[0]
    label(ax, tail_mid, top + 0.24, "held-out tail", color=INK)
    # The first window, spread out below: inputs over targets.
    s = starts[0]
    wide = (0.5, 0.34)
    left = 0.2 + 1.2
    rows = [
        ("inputs", SNIPPET[s : s + block_size]),
        ("targets", SNIPPET[s + 1 : s + block_size + 1]),
    ]
    y = 1.75
    for r, (name, chars) in enumerate(rows):
        yy = y - r * 0.85
        grid(
            ax,
            left,
            yy,
            [[window] * block_size],
            wide,
            [[shown(c) for c in chars]],
            size=10,
        )
        label(ax, left - 0.12, yy - wide[1] / 2, name, ha="right", color=INK)
    for t in range(block_size):
        cx = left + (t + 0.5) * wide[0]
        arrow(ax, (cx, y - wide[1] - 0.03), (cx, y - 0.85 + 0.03))
        label(ax, cx, 0.22, f"t={t}", color=MUTED, size=8)
    right = left + block_size * wide[0] + 0.12
    label(ax, right, 1.2 + 0.12, "each input predicts", ha="left", color=MUTED)
    label(ax, right, 1.2 - 0.12, "the target below it", ha="left", color=MUTED)
    return fig


def bpe_merges(word="low lower lowest", steps=3):
    """Draw a short text's bytes merged, step by step, by the top pair.

    Each row is the text after one more merge; a merged token is one
    wider cell. The counts come from microgpt.bpe.train itself.
    """
    from ..bpe import BPE, chunks, train

    merges = train(word, 256 + steps)
    tok_rows = []
    for k in range(steps + 1):
        tok = BPE(tuple(merges[:k]))
        tok_rows.append(
            [
                tok.token_bytes(i).decode("utf-8")
                for c in chunks(word)
                for i in tok.encode(c)
            ]
        )
    fig, ax = canvas(6.9, 0.55 * (steps + 1) + 0.5)
    unit = 0.27
    for k, tokens in enumerate(tok_rows):
        y = 0.55 * (steps + 1) + 0.1 - k * 0.55
        x = 1.65
        for tkn in tokens:
            w = unit * len(tkn)
            box(
                ax,
                x + w / 2,
                y - 0.2,
                w - 0.03,
                0.34,
                shown(tkn) if len(tkn) == 1 else tkn.replace(" ", "\u2423"),
                kind="data" if len(tkn) == 1 else "op",
                round_=False,
                size=10,
            )
            x += w
        name = (
            "bytes"
            if k == 0
            else f"merge {k}: "
            + "+".join(
                BPE(tuple(merges))
                .token_bytes(i)
                .decode("utf-8")
                .replace(" ", "\u2423")
                for i in merges[k - 1]
            )
        )
        label(ax, 1.55, y - 0.2, name, ha="right", color=INK)
        label(
            ax,
            x + 0.1,
            y - 0.2,
            f"{len(tokens)} tokens",
            ha="left",
            color=MUTED,
        )
    return fig
