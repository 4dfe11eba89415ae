"""Checks for the exercises of the training chapter: Adam and the loop."""

import random

from .. import gpt_scalar
from ..config import ModelConfig, TrainConfig
from ..data import Tokenizer
from ..engine import Value
from ..train import train
from . import CheckFailed, check_close, passed

# A few names are enough for a loop check, and need no dataset download.
_DOCS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia",
         "harper", "evelyn", "abigail", "emily", "ella"]


def _adam_reference(num, steps, seed):
    """Seeded params, grads and learning rates, and Adam's states."""
    rng = random.Random(seed)
    tcfg = TrainConfig()
    start = [rng.gauss(0, 0.08) for _ in range(num)]
    grads = [[rng.gauss(0, 1) * 10 ** rng.uniform(-3, 0) for _ in range(num)]
             for _ in range(steps)]
    lrs = [0.01 * (1 - s / steps) for s in range(steps)]
    values = [Value(x) for x in start]
    opt = gpt_scalar.Adam({"w": [values]}, tcfg)
    states = []
    for g, lr in zip(grads, lrs):
        for p, gi in zip(values, g):
            p.grad = gi
        opt.step(lr)
        states.append(([p.data for p in values], list(opt.m), list(opt.v)))
    return tcfg, start, grads, lrs, states


def check_adam_update(adam_update):
    """adam_update(p, g, m, v, t, lr, tcfg) -> (p, m, v) on floats."""
    tcfg, start, grads, lrs, states = _adam_reference(40, 5, seed=0)
    p, m, v = list(start), [0.0] * len(start), [0.0] * len(start)
    for t, (g, lr, (p_ref, m_ref, v_ref)) in enumerate(
            zip(grads, lrs, states), start=1):
        for i in range(len(p)):
            out = adam_update(p[i], g[i], m[i], v[i], t, lr, tcfg)
            if not isinstance(out, tuple) or len(out) != 3:
                raise CheckFailed("adam_update must return a tuple "
                                  f"(p, m, v), got {out!r}")
            p[i], m[i], v[i] = out
        check_close(f"first moment m after step {t}", m, m_ref, 1e-12)
        check_close(f"second moment v after step {t}", v, v_ref, 1e-12)
        check_close(f"parameter p after step {t}", p, p_ref, 1e-12)
    passed("adam_update (5 steps on 40 parameters)")


def check_adam_arrays(adam_update_arrays):
    """adam_update_arrays(p, g, m, v, t, lr, tcfg) -> (p, m, v) on arrays."""
    import numpy as np

    rows, cols = 6, 8
    tcfg, start, grads, lrs, states = _adam_reference(rows * cols, 5, seed=1)
    p = np.array(start).reshape(rows, cols)
    m, v = np.zeros_like(p), np.zeros_like(p)
    for t, (g, lr, (p_ref, m_ref, v_ref)) in enumerate(
            zip(grads, lrs, states), start=1):
        out = adam_update_arrays(p.copy(), np.array(g).reshape(rows, cols),
                                 m.copy(), v.copy(), t, lr, tcfg)
        if not isinstance(out, tuple) or len(out) != 3:
            raise CheckFailed("adam_update_arrays must return a tuple "
                              f"(p, m, v), got {type(out).__name__}")
        p, m, v = (np.asarray(a, dtype=float) for a in out)
        for name, a in (("p", p), ("m", m), ("v", v)):
            if a.shape != (rows, cols):
                raise CheckFailed(f"{name} after step {t} has shape "
                                  f"{a.shape}, expected {(rows, cols)}")
        check_close(f"first moment m after step {t}", m.ravel(), m_ref,
                    1e-12)
        check_close(f"second moment v after step {t}", v.ravel(), v_ref,
                    1e-12)
        check_close(f"parameter p after step {t}", p.ravel(), p_ref, 1e-12)
    passed("adam_update_arrays (5 steps on a 6x8 matrix)")


def check_train_loop(my_train):
    """my_train(impl, params, docs, tokenizer, mcfg, tcfg) -> losses."""
    tok = Tokenizer.from_docs(_DOCS)
    mcfg = ModelConfig(vocab_size=tok.vocab_size, n_embd=8, n_head=2,
                       block_size=8)
    tcfg = TrainConfig(num_steps=15, learning_rate=0.05)
    mine = gpt_scalar.init_params(mcfg, random.Random(3))
    ref = gpt_scalar.init_params(mcfg, random.Random(3))
    losses = my_train(gpt_scalar, mine, list(_DOCS), tok, mcfg, tcfg)
    expected = train(gpt_scalar, ref, list(_DOCS), tok, mcfg, tcfg)
    if losses is None or len(losses) != len(expected):
        n = "None" if losses is None else f"{len(losses)} losses"
        raise CheckFailed(f"my_train returned {n}, expected one loss per "
                          f"step ({len(expected)})")
    check_close("loss at step", losses, expected, 1e-12)
    got, want = gpt_scalar.to_weights(mine), gpt_scalar.to_weights(ref)
    for name in want:
        check_close(f"trained weights {name}", got[name], want[name], 1e-12)
    passed(f"my_train ({tcfg.num_steps} steps on a small model)")
