"""The NumPy twin's layers, each a forward and a hand-derived backward.

Every layer is a pair: `<op>_forward(...) -> (out, cache)` keeps what the
backward will need, and `<op>_backward(dout, cache)` returns the gradient
of each input, named after it with a d in front (dx, dw, ...). Activations
have shape (B, T, C): B documents, T positions, C channels. One document is
simply B = 1. Only the embedding and attention need the (B, T) split: the
model hands the other layers (B * T, C), every position a row of one
matrix. Linear takes only such rows; the rest work on any leading shape.
"""

import functools

import numpy as np

from .config import EPS_NORM
from .speedups import exp_and_row_sum, row_sum

# -- plain functions, shared with one-position decoding ---------------------


def softmax(logits):
    """Probabilities over the last axis: exp(x - max) / sum, row by row."""
    e, total = exp_and_row_sum(logits)
    return e / total


@functools.lru_cache(maxsize=None)
def causal_mask(T):
    """(T, T) bool: True where position t may attend to position s <= t."""
    mask = np.tri(T, dtype=bool)
    # The cached mask is shared by every call, so it is made read-only.
    mask.flags.writeable = False
    return mask


# -- embedding: token plus position -----------------------------------------


def embedding_forward(idx, wte, wpe, pos=None):
    """Row idx[b, t] of wte plus row pos[b, t] of wpe (by default, t)."""
    if pos is None:
        pos = np.broadcast_to(np.arange(idx.shape[1]), idx.shape)
    out = wte[idx] + wpe[pos]  # (B, T, C)
    return out, (idx, pos, wte.shape[0], wpe.shape[0])


def lookup_backward(dout, ids, n):
    """The gradient of table[ids] for a table of n rows: onehot.T @ dout."""
    # The lookup table[ids] is onehot(ids) @ table, so this is linear's dw:
    # a row that is looked up twice gets both gradients added (where
    # dtable[ids] += dout would keep only one of them).
    onehot = ids.reshape(-1, 1) == np.arange(n)  # (B*T, n)
    return onehot.T @ rows(dout)  # (n, C)


def embedding_backward(dout, cache):
    """dwte and dwpe: each row's share of dout, summed over its uses."""
    idx, pos, V, block_size = cache
    return lookup_backward(dout, idx, V), lookup_backward(
        dout, pos, block_size
    )


# -- rmsnorm ----------------------------------------------------------------


def rmsnorm_forward(x):
    """x / rms(x) over the channels; no learned gain."""
    C = x.shape[-1]
    ms = row_sum(x * x) / C  # (B, T, 1), the mean
    scale = (ms + EPS_NORM) ** -0.5  # (B, T, 1)
    out = x * scale  # (B, T, C)
    return out, (out, scale)


def rmsnorm_backward(dout, cache):
    """dx = scale * (dout - out * mean(dout * out))."""
    out, scale = cache
    C = out.shape[-1]
    # The scale depends on x too; its share of the gradient is the
    # projection of dout onto out, which the subtraction removes.
    proj = row_sum(dout * out) / C  # (B, T, 1)
    return scale * (dout - out * proj)  # (B, T, C)


# -- linear -----------------------------------------------------------------


def rows(x):
    """(B, T, C) -> (B * T, C): every position a row of one matrix."""
    return x.reshape(-1, x.shape[-1])


def linear_forward(x, w):
    """x @ w.T for rows x of shape (N, in) and w of shape (out, in)."""
    # Rows only, never (B, T, in): the model hands it every position of
    # the batch as one matrix, so one BLAS call does them all, where a
    # (B, T, in) product would run B small ones.
    return x @ w.T, (x, w)  # (N, out)


def linear_backward(dout, cache):
    """dx = dout @ w; dw = dout.T @ x, which sums over the rows."""
    x, w = cache
    return dout @ w, dout.T @ x  # (N, in), (out, in)


# -- causal multi-head attention --------------------------------------------


def split_heads(x, n_head):
    """(B, T, C) -> (B, n_head, T, head_dim); a view, no copy."""
    B, T, C = x.shape
    return x.reshape(B, T, n_head, C // n_head).transpose(0, 2, 1, 3)


def merge_heads(x):
    """(B, n_head, T, head_dim) -> (B, T, C); the inverse of split_heads."""
    B, n_head, T, hd = x.shape
    return x.transpose(0, 2, 1, 3).reshape(B, T, n_head * hd)


def attention_forward(q, k, v, n_head, mask=None):
    """Each position attends to itself and the positions before it.

    mask, if given, replaces the causal triangle: (B, T, T) bool, True
    where a position may attend, for packed rows (see batch.visible).
    """
    q, k, v = (split_heads(a, n_head) for a in (q, k, v))  # (B, nh, T, hd)
    T, hd = q.shape[-2:]
    mask = causal_mask(T) if mask is None else mask[:, None]
    scores = q @ k.swapaxes(-1, -2) / hd**0.5  # (B, nh, T, T)
    att = softmax(np.where(mask, scores, -np.inf))  # (B, nh, T, T)
    out = merge_heads(att @ v)  # (B, T, C)
    return out, (q, k, v, att)


def attention_backward(dout, cache):
    """dq, dk, dv through att @ v, the softmax and q @ k.T / sqrt(hd)."""
    q, k, v, att = cache
    n_head, hd = q.shape[1], q.shape[-1]
    dy = split_heads(dout, n_head)  # (B, nh, T, hd)
    datt = dy @ v.swapaxes(-1, -2)  # (B, nh, T, T)
    dv = att.swapaxes(-1, -2) @ dy  # (B, nh, T, hd)
    # Softmax backward, row by row: att * (datt - <datt, att>). Masked
    # entries have att == 0, so they get no gradient: no mask needed here.
    dscores = att * (datt - row_sum(datt * att))
    dscores /= hd**0.5
    dq = dscores @ k  # (B, nh, T, hd)
    dk = dscores.swapaxes(-1, -2) @ q  # (B, nh, T, hd)
    return merge_heads(dq), merge_heads(dk), merge_heads(dv)


# -- relu and the residual add ----------------------------------------------


def relu_forward(x):
    """max(x, 0), elementwise."""
    out = np.maximum(x, 0)
    return out, out


def relu_backward(dout, cache):
    """dout where the input was positive, else 0."""
    out = cache
    return dout * (out > 0)


def residual_forward(x, branch):
    """x + branch; nothing to remember."""
    return x + branch, None


def residual_backward(dout, cache):
    """Trivial: both inputs get dout unchanged."""
    return dout, dout


# -- softmax cross-entropy --------------------------------------------------


def cross_entropy_forward(logits, targets, weights):
    """sum of weights * -log p(target); weights 0 mark padding."""
    probs = softmax(logits)  # (B, T, V)
    onehot = targets[..., None] == np.arange(logits.shape[-1])
    p_target = row_sum(probs * onehot)[..., 0]  # (B, T)
    # A p_target of 0 (a diverged model) gives an infinite loss, which
    # the training loop reports; numpy need not warn as well.
    with np.errstate(divide="ignore"):
        loss = (weights * -np.log(p_target)).sum()
    return loss, (probs, onehot, weights)


def cross_entropy_backward(dloss, cache):
    """dlogits = (probs - onehot) * weight, per position."""
    probs, onehot, weights = cache
    return (probs - onehot) * (weights[..., None] * dloss)
