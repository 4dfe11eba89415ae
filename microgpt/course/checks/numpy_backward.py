"""Checks for the NumPy chapter: backward passes by hand, and a question."""

import numpy as np

from ... import layers_numpy as layers
from . import CheckFailed, check_close, passed, questions
from .exercise import exercise

# (B, T, C): one document, two documents, and the model's own width.
_SHAPES = ((1, 3, 4), (2, 5, 16), (3, 7, 64))
# What each axis of a (B, T, C) array, or of attention weights, holds.
_BTC = ("document", "position", "channel")
_ATTENTION = ("document", "head", "query", "key")


def _array(what, got, shape):
    """got as a float array of the given shape, or CheckFailed."""
    if got is None:
        raise CheckFailed(f"{what}: got None; did you forget to return?")
    got = np.asarray(got, dtype=np.float64)
    if got.shape != tuple(shape):
        raise CheckFailed(
            f"{what}: expected shape {tuple(shape)}, got {got.shape}"
        )
    return got


def _where(index, axes):
    """An array index in words: "document 0, position 2, channel 1"."""
    return ", ".join(f"{name} {i}" for name, i in zip(axes, index))


@exercise(1, points=1)
def check_rmsnorm_dot(rmsnorm_dot):
    """rmsnorm_dot() -> the largest ``abs(sum_c x_c dx_c)`` over positions."""
    gen = np.random.default_rng(1)
    x, dout = gen.standard_normal((2, 2, 5, 16))
    _, cache = layers.rmsnorm_forward(x)
    dx = layers.rmsnorm_backward(dout, cache)
    truth = float(np.abs((x * dx).sum(-1)).max())
    questions.number(
        "the largest |sum over c of x_c dx_c|",
        rmsnorm_dot,
        truth,
        0.01,
        [
            (
                float(np.abs((x * dout).sum(-1)).max()),
                "that is the sum of x_c dout_c, with dout in place of dx; "
                "RMSNorm's backward takes something out of dout",
            )
        ],
    )


_LN_EPS = 1e-5


def _reference_layernorm_backward(dout, x, eps=_LN_EPS):
    """dx of y = (x - mean) / sqrt(var + eps), row by row on the last axis.

    Three paths lead from x to y: directly, through the mean and through
    the standard deviation; each one's term is one piece of the result.
    """
    xc = x - x.mean(-1, keepdims=True)
    inv = ((xc * xc).mean(-1, keepdims=True) + eps) ** -0.5  # (B, T, 1)
    y = xc * inv  # (B, T, C)
    return inv * (
        dout
        - dout.mean(-1, keepdims=True)
        - y * (dout * y).mean(-1, keepdims=True)
    )


def _mistaken_layernorm(dout, x):
    """dx with one of the three paths left out, or without eps."""
    xc = x - x.mean(-1, keepdims=True)
    inv = ((xc * xc).mean(-1, keepdims=True) + _LN_EPS) ** -0.5
    y = xc * inv
    g_mean = dout.mean(-1, keepdims=True)
    proj = y * (dout * y).mean(-1, keepdims=True)
    return {
        "RMSNorm's formula on the centred input (no gradient through "
        "the mean)": inv * (dout - proj),
        "leaving out the path through the standard deviation": inv
        * (dout - g_mean),
        "taking the mean and the standard deviation as constants": inv * dout,
        "leaving out eps (1e-5)": _reference_layernorm_backward(
            dout, x, eps=0.0
        ),
    }


@exercise(3, points=2, forbids=(_reference_layernorm_backward,))
def check_layernorm_backward(layernorm_backward, seed=0):
    """layernorm_backward(dout, x) -> dx, for x and dout of shape (B, T, C)."""
    gen = np.random.default_rng(seed)
    for shape in _SHAPES:
        for scale, shift in ((1.0, 0.0), (1.0, 3.0), (1e-3, 0.0)):
            # A shift: the mean matters; scale 1e-3: eps matters.
            x = gen.standard_normal(shape) * scale + shift
            dout = gen.standard_normal(shape)
            expected = _reference_layernorm_backward(dout, x)
            what = (
                f"dx for x of shape {shape}, scale {scale:g} and "
                f"mean {shift:g}"
            )
            got = _array(
                what, layernorm_backward(dout.copy(), x.copy()), shape
            )
            check_close(
                what,
                got,
                expected,
                tol=1e-10,
                axes=_BTC,
                mistakes=_mistaken_layernorm(dout, x),
            )
    passed("layernorm_backward")


@exercise(2, points=1, forbids=(layers.relu_backward,))
def check_relu_backward(relu_backward, seed=0):
    """relu_backward(dout, x) -> dx; an input of exactly 0 passes none."""
    gen = np.random.default_rng(seed)
    for shape in _SHAPES:
        x = gen.standard_normal(shape)
        # Exact zeros too: relu's slope there is taken as 0, by the
        # package and by Value.relu alike.
        x.flat[::5] = 0.0
        dout = gen.standard_normal(shape)
        _, cache = layers.relu_forward(x)
        expected = layers.relu_backward(dout, cache)
        what = f"dx for x of shape {shape}"
        got = _array(what, relu_backward(dout.copy(), x.copy()), shape)
        wrong = np.argwhere(got != expected)
        if len(wrong):
            i = tuple(wrong[0])
            hint = ""
            if np.array_equal(got, dout * (x >= 0)):
                hint = (
                    "; this is what x >= 0 gives: relu passes no "
                    "gradient at an input of exactly 0, so use x > 0"
                )
            elif np.array_equal(got, (x > 0) * 1.0):
                hint = "; this is what the mask alone, without dout, gives"
            raise CheckFailed(
                f"{what} at {_where(i, _BTC)}: got {float(got[i])!r}, "
                f"expected {float(expected[i])!r} at an input of "
                f"{float(x[i])!r} ({len(wrong)} wrong entries in all)"
                f"{hint}"
            )
    passed("relu_backward")


@exercise(
    4, points=2, forbids=(layers.embedding_backward, layers.lookup_backward)
)
def check_embedding_backward(embedding_backward, seed=0):
    """embedding_backward(dout, idx, vocab_size, block_size) -> dwte, dwpe."""
    gen = np.random.default_rng(seed)
    for (B, T, C), V, block in (
        ((1, 4, 3), 5, 6),
        ((2, 5, 16), 27, 16),
        ((4, 16, 16), 27, 16),
    ):
        # Few distinct ids, so tokens repeat within and across rows.
        idx = gen.integers(0, max(2, B * T // 3), size=(B, T))
        dout = gen.standard_normal((B, T, C))
        wte, wpe = np.zeros((V, C)), np.zeros((block, C))
        _, cache = layers.embedding_forward(idx, wte, wpe)
        want_wte, want_wpe = layers.embedding_backward(dout, cache)
        what = f"idx of shape {(B, T)}"
        out = embedding_backward(dout.copy(), idx.copy(), V, block)
        if not isinstance(out, tuple) or len(out) != 2:
            raise CheckFailed(
                f"{what}: return a tuple (dwte, dwpe), got "
                f"{type(out).__name__}"
            )
        dwte = _array(f"dwte for {what}", out[0], (V, C))
        dwpe = _array(f"dwpe for {what}", out[1], (block, C))
        rows = np.abs(dwte - want_wte).max(axis=1)
        token = int(rows.argmax())
        if rows[token] > 1e-12 * max(1.0, np.abs(want_wte).max()):
            count = int((idx == token).sum())
            hint = (
                f"; token {token} occurs {count} times in idx, and its "
                f"row must add up the gradients of all of them"
                if count > 1
                else ""
            )
            raise CheckFailed(
                f"dwte for {what}, the row of token {token}: largest "
                f"difference {rows[token]:.3g}{hint}"
            )
        first_only = np.zeros_like(want_wpe)
        first_only[:T] = dout[0]
        check_close(
            f"dwpe for {what}",
            dwpe,
            want_wpe,
            tol=1e-12,
            axes=("position", "channel"),
            mistakes={
                "taking the first document's gradient instead of "
                "the sum over the documents": first_only
            },
        )
    passed("embedding_backward")


def _reference_softmax_backward(datt, att):
    """The softmax step of the package's attention_backward, isolated."""
    B, nh, T, _ = att.shape
    eye = np.broadcast_to(np.eye(T), att.shape)
    # With v = I, attention_backward's datt = dy @ v.T is dout itself;
    # with k = I, its dq = dscores @ k is dscores, scaled by 1/sqrt(T) as
    # head_dim is T. q only sets the head count, so it can be anything.
    cache = (np.zeros_like(att), eye, eye, att)
    dq, _, _ = layers.attention_backward(layers.merge_heads(datt), cache)
    return layers.split_heads(dq, nh) * T**0.5


def _mistaken_softmax_backward(datt, att):
    """dscores from the Jacobian's diagonal alone, or the wrong axis."""
    return {
        "keeping only the diagonal of the softmax's Jacobian, "
        "att * (1 - att) * datt,": att * (1 - att) * datt,
        "a sum over the wrong axis (the queries, not the keys)": att
        * (datt - (datt * att).sum(-2, keepdims=True)),
    }


def broken_softmax_backward(datt, att):
    """The softmax step of attention's backward, with a planted mistake.

    Chapter 11's exercise 5 hands it to the reader to diagnose; a single
    position (T = 1) does not show the mistake.
    """
    return att * (datt - (datt * att).sum(axis=-2, keepdims=True))


def _broken_rows(T=4, seed=1):
    """The query rows in which broken_softmax_backward is wrong."""
    gen = np.random.default_rng(seed)
    shape = (1, 1, T, T)
    att = layers.softmax(
        np.where(layers.causal_mask(T), gen.standard_normal(shape), -np.inf)
    )
    datt = gen.standard_normal(shape)
    wrong = (
        np.abs(
            broken_softmax_backward(datt, att)
            - _reference_softmax_backward(datt, att)
        )
        > 1e-12
    )
    return sorted(int(t) for t in np.nonzero(wrong.any(-1)[0, 0])[0])


def _rows(what, got):
    """got as a sorted list of distinct row numbers, or CheckFailed."""
    try:
        rows = sorted({int(t) for t in got})
    except (TypeError, ValueError):
        raise CheckFailed(
            f"{what}: expected a list of row numbers, got {got!r}"
        ) from None
    return rows


@exercise(
    5,
    points=3,
    forbids=(
        layers.attention_backward,
        _reference_softmax_backward,
    ),
)
def check_softmax_backward(
    softmax_backward, predicted_wrong_rows=None, seed=0
):
    """softmax_backward(datt, att) -> dscores, the broken version repaired.

    predicted_wrong_rows() -> the reader's prediction, made before any
    gradient check, of the query rows (of 4) that the broken version gets
    wrong; it is reported beside the measured rows, and not graded. The
    repair is checked first, so an unwritten one is reported as such.
    """
    gen = np.random.default_rng(seed)
    for shape in ((1, 1, 4, 4), (2, 4, 5, 5), (1, 4, 16, 16)):
        T = shape[-1]
        scores = np.where(
            layers.causal_mask(T), gen.standard_normal(shape) * 2, -np.inf
        )
        att = layers.softmax(scores)  # causal: zeros above the diagonal
        datt = gen.standard_normal(shape)
        expected = _reference_softmax_backward(datt, att)
        what = f"dscores for attention weights of shape {shape}"
        got = _array(what, softmax_backward(datt.copy(), att.copy()), shape)
        check_close(
            what,
            got,
            expected,
            tol=1e-12,
            axes=_ATTENTION,
            mistakes=_mistaken_softmax_backward(datt, att),
        )
    if predicted_wrong_rows is None:
        raise CheckFailed(
            "check_softmax_backward needs your prediction too: "
            "check_softmax_backward(softmax_backward, "
            "predicted_wrong_rows)"
        )
    predicted = _rows("predicted_wrong_rows()", predicted_wrong_rows())
    measured = _broken_rows()
    verdict = (
        "as you predicted"
        if predicted == measured
        else f"you predicted {predicted}"
    )
    print(
        f"the broken version is wrong in rows {measured} of 4 ({verdict}):"
        f" row t needs the sum over its own keys, and the broken one "
        f"sums over the queries of each key; the two agree only when "
        f"T = 1"
    )
    passed("softmax_backward")
