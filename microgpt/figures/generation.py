"""Schematics of top-k and top-p filtering and of the KV cache's work."""

from .draw import INK, MUTED, SCHEME, box, canvas, grid, label, line, shade

# A made-up next-letter distribution, sorted largest first, for the
# filtering picture; its numbers sum to 1.
EXAMPLE = (
    ("a", 0.30),
    ("k", 0.18),
    ("m", 0.14),
    ("j", 0.11),
    ("s", 0.09),
    ("e", 0.07),
    ("d", 0.06),
    ("l", 0.05),
)


def _sorted_bars(ax, x, y, w, h, probs, kept, letters):
    """Draw probs as bars in x..x+w, y..y+h, the first kept highlighted."""
    from matplotlib.patches import Rectangle

    step = w / len(probs)
    top = max(probs)
    for i, p in enumerate(probs):
        kind = "op" if i < kept else "plain"
        ax.add_patch(
            Rectangle(
                (x + i * step + 0.02 * step, y),
                step * 0.8,
                h * p / top,
                fc=SCHEME[kind][1],
                lw=0,
                zorder=2,
            )
        )
        label(ax, x + (i + 0.42) * step, y - 0.12, letters[i], color=INK)
    ax.plot([x, x + w], [y, y], color="#999999", lw=0.8, zorder=1)
    cut = x + kept * step - 0.08 * step
    line(ax, [(cut, y - 0.02), (cut, y + h + 0.05)], dashed=True)
    return cut


def top_filtering(top_k=3, top_p=0.8):
    """Draw the sorted probabilities cut by top-k and by top-p.

    Left, top-k keeps the k largest; right, top-p keeps the shortest
    run from the top whose probabilities add up to at least p. What is
    kept is divided by its sum, so that it adds up to 1 again.
    """
    letters = [c for c, _ in EXAMPLE]
    probs = [p for _, p in EXAMPLE]
    running, reach = 0.0, len(probs)
    for i, p in enumerate(probs):
        running += p
        if running >= top_p - 1e-12:
            reach = i + 1
            break
    kept_k = min(top_k, len(probs))
    fig, ax = canvas(6.8, 2.9)
    y, h, w = 0.75, 1.45, 2.7
    for x, kept, title in (
        (0.35, kept_k, f"top-k, k = {top_k}: keep the {kept_k} largest"),
        (
            3.75,
            reach,
            f"top-p, p = {top_p:g}: keep {reach}, together "
            f"{sum(probs[:reach]):.2f} \u2265 {top_p:g}",
        ),
    ):
        label(ax, x + w / 2, 2.7, title, color=INK)
        _sorted_bars(ax, x, y, w, h, probs, kept, letters)
    for i in range(reach):
        step = w / len(probs)
        label(
            ax,
            3.75 + (i + 0.42) * step,
            y + h * probs[i] / probs[0] + 0.1,
            f"{sum(probs[: i + 1]):.2f}",
            size=8,
            color=MUTED,
        )
    box(
        ax,
        3.4,
        0.25,
        5.6,
        0.3,
        "zero the rest, then divide what is "
        "kept by its sum: the kept probabilities add up to 1",
        kind="plain",
    )
    return fig


def kv_cache_work(steps=6):
    """Draw the positions run for each new token, without and with a cache.

    Without it, the token at step t is drawn after running the model on
    all t positions so far; with it, only on the newest one, the keys
    and values of the others being kept from earlier steps.
    """
    fig, ax = canvas(6.8, 3.2)
    cell = (0.36, 0.3)
    top = 2.65
    run, kept, idle = shade(0.75, "op"), shade(0.35, "data"), "#f7f7f7"
    for x, cached, title in (
        (0.75, False, "without the cache"),
        (4.1, True, "with the cache"),
    ):
        colors, texts = [], []
        for t in range(1, steps + 1):
            row, words = [], []
            for j in range(steps):
                if j >= t:
                    row.append(idle)
                    words.append("")
                elif cached and j < t - 1:
                    row.append(kept)
                    words.append("")
                else:
                    row.append(run)
                    words.append("run")
            colors.append(row)
            texts.append(words)
        grid(ax, x, top, colors, cell, texts, edge="white")
        label(ax, x + steps * cell[0] / 2, top + 0.3, title, size=10)
        label(
            ax,
            x + steps * cell[0] / 2,
            top - steps * cell[1] - 0.14,
            "position in the name \u2192",
            color=MUTED,
        )
        total = steps * (steps + 1) // 2 if not cached else steps
        label(
            ax,
            x + steps * cell[0] / 2,
            top - steps * cell[1] - 0.42,
            f"{total} positions run for {steps} tokens",
            color=INK,
        )
        for t in range(1, steps + 1):
            label(
                ax,
                x - 0.08,
                top - (t - 0.5) * cell[1],
                f"step {t}",
                color=MUTED,
                ha="right",
                size=8,
            )
    label(
        ax,
        3.4,
        0.14,
        "shaded blue: keys and values read from the cache, not computed again",
        color=MUTED,
    )
    return fig
