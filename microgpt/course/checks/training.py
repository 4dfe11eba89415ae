"""Checks for the training chapter: schedule, AdamW, lazy Adam, the loop."""

import random

import numpy as np

from ... import gpt_numpy, gpt_scalar
from ...config import ModelConfig, TrainConfig
from ...data import Tokenizer
from ...engine import Value
from ...train import lr_at, run, train
from . import CheckFailed, check_close, passed, questions
from .exercise import exercise

# A few names are enough for a loop check, and need no dataset download.
_DOCS = [
    "emma",
    "olivia",
    "ava",
    "isabella",
    "sophia",
    "mia",
    "amelia",
    "harper",
    "evelyn",
    "abigail",
    "emily",
    "ella",
]


@exercise(1, points=1)
def check_lr_distance(lr_distance):
    """lr_distance() -> the sum of the learning rates of the whole run."""
    tcfg = TrainConfig()
    truth = sum(lr_at(s, tcfg) for s in range(tcfg.num_steps))
    questions.number(
        "the sum of the learning rates over the run",
        lr_distance,
        truth,
        0.05,
        [
            (
                tcfg.learning_rate * tcfg.num_steps,
                "that is a constant learning rate; the schedule decays it "
                'linearly, see "The learning-rate schedule"',
            ),
            (
                tcfg.learning_rate,
                f"that is one step; add up all {tcfg.num_steps} of them",
            ),
            (
                1.5 * truth,
                "that is 1.5 times the learning rate at every "
                "step, the step of a gradient returning after a silence; a "
                "constant gradient's step is the learning rate itself",
            ),
        ],
    )


@exercise(2, points=1)
def check_scaled_loss(scaled_loss):
    """scaled_loss() -> 'a', 'b' or 'c'."""
    questions.choice(
        "Adam's first step with the loss multiplied by 100",
        scaled_loss,
        "microgpt ch09 scaled loss",
        hint="Adam divides m_hat by the square root of v_hat; "
        "what does multiplying every gradient by 100 do to each? "
        'See "Bias correction", where the first step is worked '
        "out",
    )


def _stream(shape, steps, seed, zero_rows=()):
    """Seeded start values and gradients; zero_rows[t] has no gradient."""
    rng = np.random.default_rng(seed)
    start = rng.normal(0, 0.08, shape)
    grads = rng.normal(0, 1, (steps,) + shape) * 10.0 ** rng.uniform(
        -3, 0, (steps,) + shape
    )
    for t, rows in enumerate(zero_rows):
        grads[t, list(rows)] = 0.0
    lrs = [0.01 * (1 - s / steps) for s in range(steps)]
    return start, grads, lrs


def _reference_adam_step(p, g, m, v, t, lr, tcfg, decay=0.0, rows=None):
    """One Adam step on arrays; decay is AdamW's, rows the ones to move."""
    b1, b2 = tcfg.beta1, tcfg.beta2
    m1 = b1 * m + (1 - b1) * g
    v1 = b2 * v + (1 - b2) * g**2
    m_hat, v_hat = m1 / (1 - b1**t), v1 / (1 - b2**t)
    p1 = p - lr * (m_hat / (v_hat**0.5 + tcfg.eps_adam) + decay * p)
    if rows is None:
        return p1, m1, v1
    keep = ~rows[:, None]
    return (
        np.where(keep, p, p1),
        np.where(keep, m, m1),
        np.where(keep, v, v1),
    )


def _check_step(t, got, expected, wrong, axes, order=(1, 2, 0)):
    """Compare m, v and p after step t, each with its likely mistakes."""
    names = ("p", "first moment m", "second moment v")
    for k, name in ((k, names[k]) for k in order):
        check_close(
            f"{name} after step {t}",
            got[k],
            expected[k],
            1e-12,
            axes=axes,
            mistakes={m: out[k] for m, out in wrong.items()},
        )


def _as_state(what, out, shape):
    """out as a tuple of three float arrays of the given shape."""
    if not isinstance(out, tuple) or len(out) != 3:
        raise CheckFailed(
            f"{what} must return a tuple (p, m, v), got {type(out).__name__}"
        )
    arrays = tuple(np.asarray(a, dtype=float) for a in out)
    for name, a in zip("pmv", arrays):
        if a.shape != shape:
            raise CheckFailed(
                f"{what}: {name} has shape {a.shape}, expected {shape}"
            )
    return arrays


_DECAY = 0.1


@exercise(3, points=2, forbids=(gpt_scalar.Adam.step, _reference_adam_step))
def check_adamw_update(adamw_update):
    """adamw_update(p, g, m, v, t, lr, tcfg, weight_decay) on floats."""
    tcfg, n = TrainConfig(), 40
    start, grads, lrs = _stream((n,), 5, seed=0)
    p, m, v = start.copy(), np.zeros(n), np.zeros(n)
    for t, (g, lr) in enumerate(zip(grads, lrs), start=1):
        expected = _reference_adam_step(p, g, m, v, t, lr, tcfg, _DECAY)
        l2 = _reference_adam_step(p, g + _DECAY * p, m, v, t, lr, tcfg)
        wrong = {
            "leaving out the weight decay (plain Adam)": _reference_adam_step(
                p, g, m, v, t, lr, tcfg
            ),
            "adding the decay to the gradient (L2 regularization, which "
            "goes through m and v; AdamW decouples it)": l2,
            (
                "a decay not multiplied by the learning rate"
            ): _reference_adam_step(p, g, m, v, t, lr, tcfg, _DECAY / lr),
        }
        out = [
            adamw_update(
                float(p[i]),
                float(g[i]),
                float(m[i]),
                float(v[i]),
                t,
                lr,
                tcfg,
                _DECAY,
            )
            for i in range(n)
        ]
        if any(not isinstance(o, tuple) or len(o) != 3 for o in out):
            raise CheckFailed("adamw_update must return a tuple (p, m, v)")
        p, m, v = (np.array(a, dtype=float) for a in zip(*out))
        _check_step(t, (p, m, v), expected, wrong, ("parameter",))
    passed("adamw_update (5 steps on 40 parameters, weight decay 0.1)")


# Rows with no gradient at each step; row 1 at step 2 has one zero entry.
_QUIET = ((0, 3, 4), (0, 4), (2, 3, 4, 5), (4,), (0, 1, 4))


@exercise(4, points=2, forbids=(gpt_numpy.Adam.step, _reference_adam_step))
def check_lazy_adam(lazy_adam_rows):
    """lazy_adam_rows(p, g, m, v, t, lr, tcfg) -> (p, m, v) on arrays."""
    tcfg, shape = TrainConfig(), (6, 8)
    start, grads, lrs = _stream(shape, 5, seed=1, zero_rows=_QUIET)
    grads[1, 1, 3] = 0.0
    p, m, v = start.copy(), np.zeros(shape), np.zeros(shape)
    for t, (g, lr) in enumerate(zip(grads, lrs), start=1):
        rows = g.any(axis=1)
        expected = _reference_adam_step(p, g, m, v, t, lr, tcfg, rows=rows)
        moved = _reference_adam_step(p, g, m, v, t, lr, tcfg)
        # p is compared first, and the mistake that keeps p comes
        # first: its m and v are plain Adam's.
        wrong = {
            "keeping p but updating m and v of the quiet rows": (
                expected[0],
                moved[1],
                moved[2],
            ),
            "plain Adam (rows without a gradient still move, by their "
            "momentum)": moved,
            "skipping entries whose gradient is zero, not whole rows": tuple(
                np.where(g != 0, a, b) for a, b in zip(moved, (p, m, v))
            ),
        }
        out = lazy_adam_rows(
            p.copy(), g.copy(), m.copy(), v.copy(), t, lr, tcfg
        )
        p, m, v = _as_state(f"lazy_adam_rows at step {t}", out, shape)
        _check_step(
            t, (p, m, v), expected, wrong, ("row", "column"), order=(0, 1, 2)
        )
    passed("lazy_adam_rows (5 steps on a 6x8 matrix, quiet rows kept)")


# The warm-up of the loop exercise: the learning rate climbs over this
# many steps, then decays, whichever line is lower.
WARMUP = 5


def _reference_schedules(tcfg):
    """The exercise's schedule, and the mistaken ones, step -> rate."""
    n, lr0 = tcfg.num_steps, tcfg.learning_rate
    return {
        None: lambda step: lr0 * min((step + 1) / WARMUP, 1 - step / n),
        (
            "a warm-up off by one step ((step / WARMUP), which starts at 0)"
        ): lambda step: lr0 * min(step / WARMUP, 1 - step / n),
        "no warm-up (the decay alone)": lambda step: lr0 * (1 - step / n),
        "a constant learning rate": lambda step: lr0,
    }


def _reference_losses(cfg, tcfg, tok, steps, lr):
    """Seeded params after `steps` steps at rates lr(step), and losses."""
    params = gpt_scalar.init_params(cfg, random.Random(3))
    opt = gpt_scalar.Adam(params, tcfg)
    losses = [
        gpt_scalar.train_step(
            params, opt, [tok.frame(_DOCS[step % len(_DOCS)])], lr(step), cfg
        )
        for step in range(steps)
    ]
    return params, losses


def _first_difference(got, expected, tol):
    """The index of the first loss off by more than tol (relative)."""
    for i, (a, b) in enumerate(zip(got, expected)):
        a = a.data if isinstance(a, Value) else float(a)
        if not abs(a - b) <= tol * max(1.0, abs(b)):
            return i
    return len(expected)


@exercise(
    5,
    points=3,
    forbids=(
        train,
        run,
        lr_at,
        _reference_schedules,
        _reference_losses,
    ),
)
def check_train_loop(my_train):
    """my_train(impl, params, docs, tokenizer, cfg, tcfg) -> losses."""
    tok = Tokenizer.from_docs(_DOCS)
    cfg = ModelConfig(
        vocab_size=tok.vocab_size, n_embd=8, n_head=2, block_size=8
    )
    tcfg = TrainConfig(num_steps=15, learning_rate=0.05)
    schedules = _reference_schedules(tcfg)
    mine = gpt_scalar.init_params(cfg, random.Random(3))
    ref, expected = _reference_losses(
        cfg, tcfg, tok, tcfg.num_steps, schedules.pop(None)
    )
    losses = my_train(gpt_scalar, mine, list(_DOCS), tok, cfg, tcfg)
    if losses is None or len(losses) != len(expected):
        n = "None" if losses is None else f"{len(losses)} losses"
        raise CheckFailed(
            f"my_train returned {n}, expected one loss per "
            f"step ({len(expected)})"
        )
    try:
        check_close("loss", losses, expected, 1e-12, axes=("step",), first=1)
    except CheckFailed:
        # Only here, and only a few steps past the first that differs
        # (the message names it): each mistaken run costs a training run.
        k = _first_difference(losses, expected, 1e-12) + 3
        check_close(
            "loss",
            losses[:k],
            expected[:k],
            1e-12,
            axes=("step",),
            first=1,
            mistakes={
                m: _reference_losses(cfg, tcfg, tok, k, lr)[1]
                for m, lr in schedules.items()
            },
        )
    got, want = gpt_scalar.to_weights(mine), gpt_scalar.to_weights(ref)
    for name in want:
        check_close(
            f"trained weights {name}",
            got[name],
            want[name],
            1e-12,
            axes=("row", "column"),
        )
    passed(f"my_train ({tcfg.num_steps} steps with a warm-up of {WARMUP})")
