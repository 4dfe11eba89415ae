"""The model, end to end, with what each ablation removes."""

from .blocks import _circle
from .draw import GRAD, MUTED, SCHEME, arrow, box, canvas, label, path


def ablations():
    """Draw the names model's path, each removable part marked in red."""
    fig, ax = canvas(6.8, 2.45)
    y, up = 1.0, 1.8  # the residual stream; the skip paths above it
    xs = {
        "wte": 0.45,
        "wpe": 1.3,
        "norm": 2.2,
        "attn": 3.3,
        "mlp": 4.85,
        "head": 6.25,
    }
    box(ax, xs["wte"], y, 0.6, 0.46, "wte", kind="param")
    box(ax, xs["wpe"], y, 0.7, 0.46, "+ wpe", kind="param")
    box(ax, xs["norm"], y, 0.8, 0.46, "rmsnorm")
    box(
        ax,
        xs["attn"],
        y,
        0.95,
        0.46,
        "attention",
        sub="4 heads",
        sub_color=SCHEME["op"][1],
    )
    box(ax, xs["mlp"], y, 0.8, 0.46, "MLP")
    box(ax, xs["head"], y, 0.85, 0.46, "lm_head", kind="param")
    adds = (4.05, 5.55)  # where each sublayer's output joins the stream
    arrow(ax, (0.75, y), (0.95, y))
    arrow(ax, (1.65, y), (1.8, y))
    arrow(ax, (2.6, y), (2.825, y))
    arrow(ax, (3.775, y), (adds[0] - 0.13, y))
    arrow(ax, (adds[0] + 0.13, y), (4.45, y))
    arrow(ax, (5.25, y), (adds[1] - 0.13, y))
    arrow(ax, (adds[1] + 0.13, y), (5.825, y))
    for add in adds:
        ax.add_patch(_circle(add, y))
        label(ax, add, y, "+", size=11)
    # Each block's residual connections: its input, around the sublayer.
    path(
        ax,
        [(2.72, y), (2.72, up), (adds[0], up), (adds[0], y + 0.13)],
        dashed=True,
        color=GRAD,
    )
    path(
        ax,
        [(4.3, y), (4.3, up), (adds[1], up), (adds[1], y + 0.13)],
        dashed=True,
        color=GRAD,
    )
    label(ax, 4.15, up + 0.22, "no residuals: both skips cut", color=GRAD)
    below = y - 0.42
    label(ax, xs["wpe"], below, "no positions", color=GRAD)
    label(ax, xs["norm"], below, "no first norm", color=GRAD)
    label(ax, xs["attn"], below, "1 head, or one", color=GRAD)
    label(ax, xs["attn"], below - 0.22, "head silenced", color=GRAD)
    label(ax, xs["mlp"], below, "no MLP", color=GRAD)
    label(
        ax,
        0.15,
        0.12,
        "each sublayer box holds its own rmsnorm; "
        "a variant takes out one red part",
        ha="left",
        color=MUTED,
    )
    return fig
