"""Four processes summing their gradients around a ring."""

from .draw import GRAD, MUTED, arrow, box, canvas, grid, label, shade

# The book's symbols, in matplotlib's mathtext.
_STEPS = r"$n_\mathrm{proc} - 1$"
_SENT = r"$2(n_\mathrm{proc} - 1)/n_\mathrm{proc}$"
# Where each process's box sits: the ring runs 0, 1, 2, 3 and back.
_PLACES = ((0.95, 2.75), (3.05, 2.75), (3.05, 0.95), (0.95, 0.95))


def ring_allreduce():
    """Draw a ring all-reduce of N processes' gradients.

    Each gradient is cut into N chunks, and each process sends one chunk
    to the next at every step.
    """
    fig, ax = canvas(6.8, 3.5)
    n = len(_PLACES)
    for rank, (x, y) in enumerate(_PLACES):
        box(ax, x, y, 1.3, 0.42, f"process {rank}: g{rank}", kind="data")
        colors = [[shade(0.25 + 0.2 * k) for k in range(n)]]
        texts = [[f"c{k}" for k in range(n)]]
        grid(ax, x - 0.6, y - 0.27, colors, (0.3, 0.24), texts=texts)
    # Each process sends to the next one: a chunk per step.
    arrow(ax, (1.65, 2.75), (2.35, 2.75), "a chunk", side="above")
    arrow(ax, (3.05, 2.2), (3.05, 1.2), "a chunk", side="right")
    arrow(ax, (2.35, 0.95), (1.65, 0.95), "a chunk", side="below")
    arrow(ax, (0.95, 1.2), (0.95, 2.2), "a chunk", side="left")
    lines = [
        (f"reduce-scatter, {_STEPS} steps:", MUTED),
        ("each adds the chunk it gets to its own", MUTED),
        ("and passes the sum on; then each holds", MUTED),
        ("one chunk of g0 + g1 + g2 + g3", MUTED),
        (f"all-gather, {_STEPS} steps:", MUTED),
        ("the summed chunks go round once more", MUTED),
        ("each process sends", GRAD),
        (f"{_SENT} of a gradient", GRAD),
    ]
    for i, (text, color) in enumerate(lines):
        label(ax, 4.05, 3.2 - 0.37 * i, text, color=color, ha="left")
    return fig
