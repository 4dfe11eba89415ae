"""Checks for the attention chapter's exercises."""

import random

import numpy as np

from ... import gpt_scalar, layers_numpy
from ...config import ModelConfig
from ...engine import Value
from . import CheckFailed, check_close, check_equal, passed
from .exercise import exercise

# The likely mistakes in the scale, by what the scores are divided by.
_NO_SCALING = "leaving the scores unscaled"
_NO_SQRT = "a missing square root in the scale (dividing by d, not sqrt(d))"


def _values(rng, n, std=1.0):
    """n scalar Values drawn from a Gaussian."""
    return [Value(rng.gauss(0, std)) for _ in range(n)]


def _floats(vectors):
    """Lists of Values as a float array."""
    return np.array([[x.data for x in v] for v in vectors])


def _softmax(S, axis=-1):
    """Softmax of the float array S along axis."""
    e = np.exp(S - S.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _mistaken_head(q, keys, values):
    """One head over the cache with each likely mistake in the scale."""
    q, K, V = np.array([x.data for x in q]), _floats(keys), _floats(values)
    d = len(q)
    return {_NO_SCALING: _softmax(K @ q) @ V,
            _NO_SQRT: _softmax(K @ q / d) @ V}


@exercise(1, points=2, forbids=(gpt_scalar.attention,))
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
        wrong = _mistaken_head(q, keys, values)
        # Copies, after the reference: a right answer may reuse (and
        # change) its input lists.
        got = head(list(q), [list(k) for k in keys],
                   [list(v) for v in values])
        check_close(f"head output (d={d}) with {t} cached keys", got,
                    expected, tol=1e-12, axes=("dimension",),
                    mistakes=wrong)
    passed("one attention head")


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


def _mistaken_weights(q, keys, cfg):
    """Per likely mistake, the n_head lists of weights it gives."""
    hd = cfg.head_dim
    q, K = np.array([x.data for x in q]), _floats(keys)
    heads = [(q[h * hd:(h + 1) * hd], K[:, h * hd:(h + 1) * hd])
             for h in range(cfg.n_head)]
    return {_NO_SCALING: [_softmax(k @ q) for q, k in heads],
            _NO_SQRT: [_softmax(k @ q / hd) for q, k in heads]}


@exercise(2, points=2, forbids=(gpt_scalar.attention,))
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
            wrong = _mistaken_weights(q, keys, cfg)
            # Copies, after the reference: the solution may change them.
            got = attention_weights(list(q), [list(k) for k in keys], cfg)
            if hasattr(got, "tolist"):
                got = got.tolist()
            check_equal(f"number of heads (n_head={cfg.n_head}, "
                        f"{t} keys)", len(got), cfg.n_head)
            for h in range(cfg.n_head):
                check_close(f"weights of head {h} (n_head={cfg.n_head}, "
                            f"{t} keys)", got[h], expected[h], tol=1e-12,
                            axes=("key",),
                            mistakes={m: w[h] for m, w in wrong.items()})
    passed("attention weights per head")


def _mistaken_causal(Q, K, V, n_head):
    """Per likely mistake, the (T, n_embd) output it gives."""
    T, C = Q.shape
    future = np.triu(np.ones((T, T), dtype=bool), k=1)

    def heads(n, scale, masked, axis):
        hd = C // n
        split = [X.reshape(T, n, hd).transpose(1, 0, 2) for X in (Q, K, V)]
        S = split[0] @ split[1].transpose(0, 2, 1) / scale(hd)
        if masked:
            S[:, future] = -np.inf
        out = _softmax(S, axis) @ split[2]
        return out.transpose(1, 0, 2).reshape(T, C)
    return {"the mask not applied": heads(n_head, np.sqrt, False, -1),
            _NO_SCALING: heads(n_head, lambda d: 1, True, -1),
            _NO_SQRT: heads(n_head, lambda d: d, True, -1),
            "a softmax over the wrong axis (over the queries, not the "
            "keys)": heads(n_head, np.sqrt, True, -2),
            "one head over the whole width": heads(1, np.sqrt, True, -1)}


@exercise(3, points=3,
          forbids=(gpt_scalar.attention, layers_numpy.attention_forward))
def check_causal_attention(causal_attention, seed=0):
    """causal_attention(Q, K, V, n_head) -> (T, n_embd) NumPy array."""
    gen = np.random.default_rng(seed)
    for T, cfg in ((7, ModelConfig()), (3, ModelConfig(n_embd=6,
                                                       n_head=2))):
        Q, K, V = gen.standard_normal((3, T, cfg.n_embd))  # (T, n_embd)
        # The reference: the package's attention, one position at a time,
        # each query seeing only the keys and values cached so far.
        keys, values, expected = [], [], []
        for t in range(T):
            keys.append([Value(float(x)) for x in K[t]])
            values.append([Value(float(x)) for x in V[t]])
            q = [Value(float(x)) for x in Q[t]]
            expected.append(gpt_scalar.attention(q, keys, values, cfg))
        got = causal_attention(Q.copy(), K.copy(), V.copy(), cfg.n_head)
        if getattr(got, "shape", None) != (T, cfg.n_embd):
            raise CheckFailed(
                f"output shape (T={T}, n_embd={cfg.n_embd}): expected "
                f"{(T, cfg.n_embd)}, got {getattr(got, 'shape', None)}")
        check_close(f"output (T={T}, n_head={cfg.n_head})", got, expected,
                    tol=1e-9, axes=("position", "dimension"),
                    mistakes=_mistaken_causal(Q, K, V, cfg.n_head))
    passed("causal attention as matrices")
