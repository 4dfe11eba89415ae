"""The NumPy twin's speed tricks, kept apart from its plain form.

Each function here does what a plain NumPy expression would, faster for
arrays as small as this model's, and its docstring says which expression
it replaces and why. The layers and the model call them by name, so
everything else reads like the maths; the efficiency chapter times each
against the plain form.
"""

import functools

import numpy as np


@functools.lru_cache(maxsize=None)
def _ones(n):
    """Return a read-only (n, 1) column of ones, made once for each n."""
    ones = np.ones((n, 1))
    ones.flags.writeable = False
    return ones


def row_sum(x):
    """The sum of each row, x.sum(-1, keepdims=True), as x @ ones.

    It replaces NumPy's reduction over the last axis, which goes row by
    row at a fixed cost per row; for rows as short as this model's
    (n_embd, head_dim, T or vocab_size numbers), that cost is several
    times the arithmetic. One matrix product sums every row in a single
    BLAS call. It adds in another order, so the last bit may differ.
    """
    return x @ _ones(x.shape[-1])


def exp_and_row_sum(x):
    """e = exp(x - c) with a c per row that keeps it finite, and its sums.

    Softmax divides e by its row sums, so any c per row gives the same
    probabilities; the plain choice is each row's own max,
    x.max(-1, keepdims=True), which NumPy takes row by row at a fixed
    cost per row. The largest entry of the whole array keeps every exp
    at most 1 as well, in a single pass. It fails only for a row whose
    entries all lie about 700 or more below it, where every exp
    underflows to 0; such a row sums to almost nothing, and then each
    row's own max is used.
    """
    e = np.exp(x - x.max())
    total = row_sum(e)
    if total.min() < 1e-200:
        e = np.exp(x - x.max(-1, keepdims=True))
        total = row_sum(e)
    return e, total


def adam_update(data, g, m, v, scratch, lr, t, b1, b2, eps):
    """Do Adam.step's update in place, which is faster than the plain form.

    Written as in Adam.step's docstring, every operation makes a new
    array; for a model this small, making them costs more than the
    arithmetic. Here m, v and data are updated in place through one
    scratch buffer, and the bias corrections, two numbers, scale the
    result instead of dividing m and v, two passes fewer. The result
    differs from the plain form in the last bit or so.
    """
    m *= b1
    m += np.multiply(g, 1 - b1, out=scratch)  # m = b1 m + (1 - b1) g
    v *= b2
    np.multiply(g, g, out=scratch)
    scratch *= 1 - b2
    v += scratch  # v = b2 v + (1 - b2) g^2
    np.sqrt(v, out=scratch)
    scratch *= (1 - b2**t) ** -0.5  # sqrt(v_hat)
    scratch += eps
    np.divide(m, scratch, out=scratch)
    scratch *= lr / (1 - b1**t)  # lr m_hat / (sqrt(v_hat) + eps)
    data -= scratch
