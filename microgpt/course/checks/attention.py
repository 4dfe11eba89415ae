"""Checks for the attention chapter's exercises."""

import random

import numpy as np

from ... import gpt_scalar
from ... import layers_numpy as layers
from ...config import ModelConfig
from ...engine import Value
from . import CheckFailed, check_close, check_equal, passed
from .exercise import exercise
from .questions import number

# The likely mistakes in the scale, by what the scores are divided by.
_NO_SCALING = "leaving the scores unscaled"
_NO_SQRT = "a missing square root in the scale (dividing by d, not sqrt(d))"
_SPLIT = (
    "reshaping (T, n_embd) straight to (n_head, T, head_dim), which puts "
    "positions into heads (reshape to (T, n_head, head_dim), then "
    "transpose the first two axes)"
)
_WHOLE_WIDTH = (
    "one head over the whole width (each head scores its own slice of "
    "head_dim = n_embd / n_head numbers of q and of each key)"
)


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
    return {
        _NO_SCALING: _softmax(K @ q) @ V,
        _NO_SQRT: _softmax(K @ q / d) @ V,
    }


def _reference_changed(T, masked, seed=0):
    """At how many of T positions one head's output changes when the last
    token's key and value change, with or without the causal mask."""
    gen = np.random.default_rng(seed)
    Q, K, V = gen.standard_normal((3, T, 4))  # (T, d_head)

    def out(K, V):
        S = Q @ K.T / 2.0  # (T, T)
        if masked:
            S[np.triu(np.ones((T, T), dtype=bool), k=1)] = -np.inf
        return _softmax(S) @ V  # (T, d_head)

    K2, V2 = K.copy(), V.copy()
    K2[-1], V2[-1] = gen.standard_normal((2, 4))
    return int(np.any(out(K, V) != out(K2, V2), axis=1).sum())


@exercise(1, points=1, forbids=(_reference_changed,))
def check_mask_changes(changed_positions):
    """(with the mask, without it): how many outputs the last token moves."""
    T = 6
    got = changed_positions()
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise CheckFailed(
            f"expected a pair (with the mask, without it), got {got!r}"
        )
    section = "(see 'Causality through the KV cache')"
    _both(
        lambda: number(
            "positions that change, with the mask",
            lambda: got[0],
            _reference_changed(T, True),
            0,
            [
                (
                    T,
                    f"with the mask, position t reads only keys 0 to t: "
                    f"which positions read the last one? {section}",
                ),
                (
                    0,
                    "the last position reads its own key and value too "
                    + section,
                ),
            ],
        ),
        lambda: number(
            "positions that change, without the mask",
            lambda: got[1],
            _reference_changed(T, False),
            0,
            [
                (
                    1,
                    f"without the mask every position reads every key, the "
                    f"last one included {section}",
                )
            ],
        ),
    )


def _both(*parts):
    """Run each part of a check; report every part that fails, at once."""
    failed = []
    for part in parts:
        try:
            part()
        except CheckFailed as e:
            failed.append(str(e))
    if failed:
        raise CheckFailed("; and ".join(failed))


def _mistaken_window(q, keys, values, window):
    """One head over the wrong keys, or with a wrong scale."""
    q_, K, V = np.array([x.data for x in q]), _floats(keys), _floats(values)
    scale = np.sqrt(len(q))

    def over(n0, n1):
        return _softmax(K[n0:n1] @ q_ / scale) @ V[n0:n1]

    t = len(keys)
    mistakes = {
        "taking the whole cache (no window)": over(0, t),
        "taking the first window keys, not the last": over(0, window),
        "taking one key too many (window + 1)": over(
            max(0, t - window - 1), t
        ),
    }
    mistakes.update(_mistaken_head(q, keys[-window:], values[-window:]))
    return mistakes


@exercise(2, points=2, forbids=(gpt_scalar.attention,))
def check_window_head(window_head, seed=0):
    """window_head(q, keys, values, window): one head over the last
    `window` cached keys."""
    rng = random.Random(seed)
    # d=9 too: with d=4 only, a hard-coded scale of 1/2 passes.
    for d, t, window in (
        (4, 1, 3),
        (4, 2, 3),
        (4, 5, 3),
        (9, 3, 2),
        (4, 6, 1),
        (4, 4, 4),
    ):
        q = _values(rng, d)
        keys = [_values(rng, d) for _ in range(t)]
        values = [_values(rng, d) for _ in range(t)]
        # With n_head=1 the package's multi-head attention is one
        # head over the whole vector: exactly the reference we need.
        expected = gpt_scalar.attention(
            q,
            keys[-window:],
            values[-window:],
            ModelConfig(n_embd=d, n_head=1),
        )
        wrong = _mistaken_window(q, keys, values, window)
        # Copies, after the reference: a right answer may reuse (and
        # change) its input lists.
        got = window_head(
            list(q), [list(k) for k in keys], [list(v) for v in values], window
        )
        check_close(
            f"head output (d={d}, window {window}) with {t} cached keys",
            got,
            expected,
            tol=1e-12,
            axes=("dimension",),
            mistakes=wrong,
        )
    passed("one attention head over a window")


def _reference_weights(q, keys, cfg):
    """Per head, the softmax of the scaled scores of q against keys."""
    hd = cfg.head_dim
    out = []
    for h in range(cfg.n_head):
        s = h * hd
        scores = [
            sum(q[s + j] * k[s + j] for j in range(hd)) / hd**0.5 for k in keys
        ]
        out.append([w.data for w in gpt_scalar.softmax(scores)])
    return out  # (n_head, t)


def _mistaken_weights(q, keys, cfg):
    """Per likely mistake, the n_head lists of weights it gives."""
    hd = cfg.head_dim
    q, K = np.array([x.data for x in q]), _floats(keys)
    heads = [
        (q[h * hd : (h + 1) * hd], K[:, h * hd : (h + 1) * hd])
        for h in range(cfg.n_head)
    ]
    whole = _softmax(K @ q / np.sqrt(cfg.n_embd))
    return {
        _NO_SCALING: [_softmax(k @ q) for q, k in heads],
        _NO_SQRT: [_softmax(k @ q / hd) for q, k in heads],
        _WHOLE_WIDTH: [whole] * cfg.n_head,
    }


@exercise(3, points=2, forbids=(gpt_scalar.attention, _reference_weights))
def check_attention_weights(attention_weights, seed=0):
    """attention_weights(q, keys, cfg) -> n_head lists of weights."""
    rng = random.Random(seed)
    # head_dim 6 in the last: with head_dim 4 only, a hard-coded
    # scale of 1/2 or slice q[4*h:4*h+4] passes.
    for cfg in (
        ModelConfig(),
        ModelConfig(n_embd=12, n_head=3),
        ModelConfig(n_embd=12, n_head=2),
    ):
        for t in (1, 6):
            q = _values(rng, cfg.n_embd)
            keys = [_values(rng, cfg.n_embd) for _ in range(t)]
            expected = _reference_weights(q, keys, cfg)
            wrong = _mistaken_weights(q, keys, cfg)
            # Copies, after the reference: the solution may change them.
            got = attention_weights(list(q), [list(k) for k in keys], cfg)
            if hasattr(got, "tolist"):
                got = got.tolist()
            where = f"n_head={cfg.n_head}, {t} keys"
            if isinstance(got, (list, tuple)) and len(got) == 1 < cfg.n_head:
                raise CheckFailed(
                    f"number of heads ({where}): got 1 list of weights, "
                    f"expected {cfg.n_head}, one per head; this is "
                    f"{_WHOLE_WIDTH}"
                )
            check_equal(
                f"number of heads (n_head={cfg.n_head}, {t} keys)",
                len(got),
                cfg.n_head,
            )
            for h in range(cfg.n_head):
                if any(hasattr(w, "grad") for w in got[h]):
                    raise CheckFailed(
                        f"weights of head {h} ({where}): got Values, "
                        f"expected floats, as the exercise asks (a "
                        f"Value's number is its .data)"
                    )
                check_close(
                    f"weights of head {h} (n_head={cfg.n_head}, {t} keys)",
                    got[h],
                    expected[h],
                    tol=1e-12,
                    axes=("key",),
                    mistakes={m: w[h] for m, w in wrong.items()},
                )
    passed("attention weights per head")


def _mistaken_causal(Q, K, V, n_head):
    """Per likely mistake, the (T, n_embd) output it gives."""
    T, C = Q.shape
    future = np.triu(np.ones((T, T), dtype=bool), k=1)

    def heads(
        n, scale, masked, axis, split_by_reshape=False, merge_by_reshape=False
    ):
        hd = C // n
        if split_by_reshape:  # mixes positions and heads
            split = [X.reshape(n, T, hd) for X in (Q, K, V)]
        else:
            split = [
                X.reshape(T, n, hd).transpose(1, 0, 2) for X in (Q, K, V)
            ]  # (n_head, T, head_dim)
        S = split[0] @ split[1].transpose(0, 2, 1) / scale(hd)
        if masked:
            S[:, future] = -np.inf
        out = _softmax(S, axis) @ split[2]  # (n_head, T, head_dim)
        if merge_by_reshape:
            return out.reshape(T, C)
        return out.transpose(1, 0, 2).reshape(T, C)

    return {
        "the mask not applied": heads(n_head, np.sqrt, False, -1),
        _NO_SCALING: heads(n_head, lambda d: 1, True, -1),
        _NO_SQRT: heads(n_head, lambda d: d, True, -1),
        "a softmax over the wrong axis (over the queries, not the "
        "keys)": heads(n_head, np.sqrt, True, -2),
        "one head over the whole width": heads(1, np.sqrt, True, -1),
        _SPLIT + " and back the same way": heads(
            n_head, np.sqrt, True, -1, True, True
        ),
        _SPLIT: heads(n_head, np.sqrt, True, -1, True, False),
        "putting the heads back together with a reshape alone (transpose "
        "(n_head, T, head_dim) to (T, n_head, head_dim) first)": heads(
            n_head, np.sqrt, True, -1, False, True
        ),
    }


@exercise(
    4, points=3, forbids=(gpt_scalar.attention, layers.attention_forward)
)
def check_causal_attention(causal_attention, seed=0):
    """causal_attention(Q, K, V, n_head) -> (T, n_embd) NumPy array."""
    gen = np.random.default_rng(seed)
    for T, cfg in ((7, ModelConfig()), (3, ModelConfig(n_embd=6, n_head=2))):
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
                f"{(T, cfg.n_embd)}, got {getattr(got, 'shape', None)}"
            )
        check_close(
            f"output (T={T}, n_head={cfg.n_head})",
            got,
            expected,
            tol=1e-9,
            axes=("position", "dimension"),
            mistakes=_mistaken_causal(Q, K, V, cfg.n_head),
        )
    passed("causal attention as matrices")
