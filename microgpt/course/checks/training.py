"""Checks for the exercises of the training chapter: Adam and the loop."""

import random

import numpy as np

from ... import gpt_numpy, gpt_scalar
from ...config import ModelConfig, TrainConfig
from ...data import Tokenizer
from ...engine import Value
from ...train import lr_at, run, train
from . import CheckFailed, check_close, passed
from .exercise import exercise

# A few names are enough for a loop check, and need no dataset download.
_DOCS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia",
         "harper", "evelyn", "abigail", "emily", "ella"]


def _reference_adam(num, steps, seed):
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


def _mistaken_adam(p, g, m, v, t, lr, tcfg):
    """(p, m, v) after a step without bias correction, or betas swapped.

    p, m, v are the state before the step, flattened to arrays.
    """
    b1, b2, eps = tcfg.beta1, tcfg.beta2, tcfg.eps_adam
    m1 = b1 * m + (1 - b1) * g
    v1 = b2 * v + (1 - b2) * g**2
    m2 = b2 * m + (1 - b2) * g
    v2 = b1 * v + (1 - b1) * g**2
    m2_hat, v2_hat = m2 / (1 - b2**t), v2 / (1 - b1**t)
    return {"skipping the bias correction (m and v in place of m_hat and "
            "v_hat)": (p - lr * m1 / (v1**0.5 + eps), m1, v1),
            "the two betas swapped":
            (p - lr * m2_hat / (v2_hat**0.5 + eps), m2, v2)}


def _check_step(t, got, expected, wrong, axes):
    """Compare m, v and p after step t, each with its likely mistakes."""
    for k, name in ((1, "first moment m"), (2, "second moment v"),
                    (0, "p")):
        check_close(f"{name} after step {t}", got[k], expected[k], 1e-12,
                    axes=axes,
                    mistakes={m: out[k] for m, out in wrong.items()})


@exercise(1, points=2, forbids=(gpt_scalar.Adam.step,))
def check_adam_update(adam_update):
    """adam_update(p, g, m, v, t, lr, tcfg) -> (p, m, v) on floats."""
    tcfg, start, grads, lrs, states = _reference_adam(40, 5, seed=0)
    p, m, v = list(start), [0.0] * len(start), [0.0] * len(start)
    for t, (g, lr, expected) in enumerate(zip(grads, lrs, states),
                                          start=1):
        wrong = _mistaken_adam(*map(np.array, (p, g, m, v)), t, lr, tcfg)
        for i in range(len(p)):
            out = adam_update(p[i], g[i], m[i], v[i], t, lr, tcfg)
            if not isinstance(out, tuple) or len(out) != 3:
                raise CheckFailed("adam_update must return a tuple "
                                  f"(p, m, v), got {out!r}")
            p[i], m[i], v[i] = out
        _check_step(t, (p, m, v), expected, wrong, ("parameter",))
    passed("adam_update (5 steps on 40 parameters)")


@exercise(2, points=2, forbids=(gpt_numpy.Adam.step,))
def check_adam_arrays(adam_update_arrays):
    """adam_update_arrays(p, g, m, v, t, lr, tcfg) -> (p, m, v) on arrays."""
    rows, cols = 6, 8
    tcfg, start, grads, lrs, states = _reference_adam(rows * cols, 5, seed=1)
    p = np.array(start).reshape(rows, cols)
    m, v = np.zeros_like(p), np.zeros_like(p)
    for t, (g, lr, expected) in enumerate(zip(grads, lrs, states),
                                          start=1):
        g = np.array(g).reshape(rows, cols)
        wrong = _mistaken_adam(p, g, m, v, t, lr, tcfg)
        out = adam_update_arrays(p.copy(), g.copy(), m.copy(), v.copy(), t,
                                 lr, tcfg)
        if not isinstance(out, tuple) or len(out) != 3:
            raise CheckFailed("adam_update_arrays must return a tuple "
                              f"(p, m, v), got {type(out).__name__}")
        p, m, v = (np.asarray(a, dtype=float) for a in out)
        for name, a in (("p", p), ("m", m), ("v", v)):
            if a.shape != (rows, cols):
                raise CheckFailed(f"{name} after step {t} has shape "
                                  f"{a.shape}, expected {(rows, cols)}")
        expected = [np.reshape(a, (rows, cols)) for a in expected]
        _check_step(t, (p, m, v), expected, wrong, ("row", "column"))
    passed("adam_update_arrays (5 steps on a 6x8 matrix)")


def _mistaken_losses(mcfg, tcfg, tok, steps):
    """The first losses of the reference loop with a wrong learning rate."""
    n, lr0 = tcfg.num_steps, tcfg.learning_rate
    schedules = {"a learning-rate decay off by one step (1 - (step + 1) / "
                 "num_steps, with step counted from 0)":
                 lambda step: lr0 * (1 - (step + 1) / n),
                 "a constant learning rate (no decay)": lambda step: lr0}
    out = {}
    for mistake, lr in schedules.items():
        params = gpt_scalar.init_params(mcfg, random.Random(3))
        opt = gpt_scalar.Adam(params, tcfg)
        out[mistake] = [
            gpt_scalar.train_step(params, opt,
                                  tok.frame(_DOCS[step % len(_DOCS)]),
                                  lr(step), mcfg)
            for step in range(steps)]
    return out


def _first_difference(got, expected, tol):
    """The index of the first loss off by more than tol (relative)."""
    for i, (a, b) in enumerate(zip(got, expected)):
        a = a.data if isinstance(a, Value) else float(a)
        if not abs(a - b) <= tol * max(1.0, abs(b)):
            return i
    return len(expected)


@exercise(3, points=3, forbids=(train, run, lr_at))
def check_train_loop(my_train):
    """my_train(impl, params, docs, tokenizer, mcfg, tcfg) -> losses."""
    tok = Tokenizer.from_docs(_DOCS)
    mcfg = ModelConfig(vocab_size=tok.vocab_size, n_embd=8, n_head=2,
                       block_size=8)
    tcfg = TrainConfig(num_steps=15, learning_rate=0.05)
    mine = gpt_scalar.init_params(mcfg, random.Random(3))
    ref = gpt_scalar.init_params(mcfg, random.Random(3))
    expected = train(gpt_scalar, ref, list(_DOCS), tok, mcfg, tcfg)
    losses = my_train(gpt_scalar, mine, list(_DOCS), tok, mcfg, tcfg)
    if losses is None or len(losses) != len(expected):
        n = "None" if losses is None else f"{len(losses)} losses"
        raise CheckFailed(f"my_train returned {n}, expected one loss per "
                          f"step ({len(expected)})")
    try:
        check_close("loss", losses, expected, 1e-12, axes=("step",),
                    first=1)
    except CheckFailed:
        # NOTE: only now, and only a few steps past the first that differs
        # (the message names it): each mistaken run costs a training run.
        k = _first_difference(losses, expected, 1e-12) + 3
        check_close("loss", losses[:k], expected[:k], 1e-12,
                    axes=("step",), first=1,
                    mistakes=_mistaken_losses(mcfg, tcfg, tok, k))
    got, want = gpt_scalar.to_weights(mine), gpt_scalar.to_weights(ref)
    for name in want:
        check_close(f"trained weights {name}", got[name], want[name], 1e-12,
                    axes=("row", "column"))
    passed(f"my_train ({tcfg.num_steps} steps on a small model)")
