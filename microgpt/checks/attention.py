"""Checks for the attention chapter's exercises."""

import random

import numpy as np

from .. import gpt_scalar
from ..config import ModelConfig
from ..engine import Value
from . import CheckFailed, check_close, check_equal, passed


def _values(rng, n, std=1.0):
    """n scalar Values drawn from a Gaussian."""
    return [Value(rng.gauss(0, std)) for _ in range(n)]


def _reference_weights(q, keys, cfg):
    """Per head, the softmax of the scaled scores of q against keys."""
    hd = cfg.head_dim
    out = []
    for h in range(cfg.n_head):
        s = h * hd
        scores = [sum(q[s + j] * k[s + j] for j in range(hd)) / hd**0.5
                  for k in keys]
        out.append([w.data for w in gpt_scalar.softmax(scores)])
    return out                                     # (n_head, t)


def check_head(head, seed=0):
    """head(q, keys, values) must be one attention head over the cache."""
    rng = random.Random(seed)
    # NOTE: d=9 too: with d=4 only, a hard-coded scale of 1/2 passes.
    for d, t in ((4, 1), (4, 2), (4, 5), (9, 3)):
        q = _values(rng, d)
        keys = [_values(rng, d) for _ in range(t)]
        values = [_values(rng, d) for _ in range(t)]
        # NOTE: with n_head=1 the package's multi-head attention is one
        # head over the whole vector: exactly the reference we need.
        expected = gpt_scalar.attention(q, keys, values,
                                        ModelConfig(n_embd=d, n_head=1))
        # Copies, after the reference: a right answer may reuse (and
        # change) its input lists.
        got = head(list(q), [list(k) for k in keys],
                   [list(v) for v in values])
        check_close(f"head output (d={d}) with {t} cached keys", got,
                    expected, tol=1e-12)
    passed("one attention head")


def check_attention_weights(attention_weights, seed=0):
    """attention_weights(q, keys, cfg) -> n_head lists of weights."""
    rng = random.Random(seed)
    # NOTE: head_dim 6 in the last: with head_dim 4 only, a hard-coded
    # scale of 1/2 or slice q[4*h:4*h+4] passes.
    for cfg in (ModelConfig(), ModelConfig(n_embd=12, n_head=3),
                ModelConfig(n_embd=12, n_head=2)):
        for t in (1, 6):
            q = _values(rng, cfg.n_embd)
            keys = [_values(rng, cfg.n_embd) for _ in range(t)]
            expected = _reference_weights(q, keys, cfg)
            # Copies, after the reference: the solution may change them.
            got = attention_weights(list(q), [list(k) for k in keys], cfg)
            if hasattr(got, "tolist"):
                got = got.tolist()
            check_equal(f"number of heads (n_head={cfg.n_head}, "
                        f"{t} keys)", len(got), cfg.n_head)
            for h in range(cfg.n_head):
                check_close(f"weights of head {h} (n_head={cfg.n_head}, "
                            f"{t} keys)", got[h], expected[h], tol=1e-12)
    passed("attention weights per head")


def check_causal_attention(causal_attention, seed=0):
    """causal_attention(Q, K, V, n_head) -> (T, n_embd) NumPy array."""
    gen = np.random.default_rng(seed)
    for T, cfg in ((7, ModelConfig()), (3, ModelConfig(n_embd=6,
                                                       n_head=2))):
        Q, K, V = gen.standard_normal((3, T, cfg.n_embd))  # (T, n_embd)
        got = causal_attention(Q.copy(), K.copy(), V.copy(), cfg.n_head)
        if getattr(got, "shape", None) != (T, cfg.n_embd):
            raise CheckFailed(
                f"output shape (T={T}, n_embd={cfg.n_embd}): expected "
                f"{(T, cfg.n_embd)}, got {getattr(got, 'shape', None)}")
        # The reference: the package's attention, one position at a time,
        # each query seeing only the keys and values cached so far.
        keys, values = [], []
        for t in range(T):
            keys.append([Value(float(x)) for x in K[t]])
            values.append([Value(float(x)) for x in V[t]])
            q = [Value(float(x)) for x in Q[t]]
            expected = gpt_scalar.attention(q, keys, values, cfg)
            check_close(f"output at position {t} (T={T}, "
                        f"n_head={cfg.n_head})", got[t], expected, tol=1e-9)
    passed("causal attention as matrices")
