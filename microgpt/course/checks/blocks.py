"""Checks for the building-blocks chapter's exercises."""

import math
import random

from ... import gpt_scalar
from ...engine import Value
from . import CheckFailed, check_close, passed, raised
from .exercise import exercise


def _call(what, fn, *args):
    """fn(*args), with any exception turned into a CheckFailed."""
    try:
        return fn(*args)
    except Exception as e:  # the reader's code: report, don't crash
        raise CheckFailed(f"{what} {raised(e)}") from e


@exercise(1, points=1, forbids=(gpt_scalar.linear,))
def check_linear(linear, seed=0):
    """linear(x, w) -> w @ x for a list of rows w, on floats."""
    rng = random.Random(seed)
    for n_out, n_in in ((1, 1), (3, 5), (16, 16), (64, 16), (16, 64)):
        x = [rng.gauss(0, 1) for _ in range(n_in)]
        w = [[rng.gauss(0, 1) for _ in range(n_in)] for _ in range(n_out)]
        what = f"linear with w of shape ({n_out}, {n_in})"
        expected = gpt_scalar.linear(x, w)
        got = _call(what, linear, list(x), [list(r) for r in w])
        if hasattr(got, "__len__") and len(got) == n_in != n_out:
            raise CheckFailed(f"{what}: expected {n_out} numbers, one per "
                              f"row of w, got {n_in}, one per column: is "
                              f"w used transposed?")
        check_close(what, got, expected, tol=1e-12, axes=("output",))
    passed("linear")


def _reference_log_softmax(z):
    """log softmax(z) through the log-sum-exp with the max taken out."""
    top = max(z)
    lse = top + math.log(sum(math.exp(zi - top) for zi in z))
    return [zi - lse for zi in z]


def _mistaken_log_softmax(z, expected):
    """What log_softmax gives without the max added back, or unlogged."""
    top = max(z)
    return {"leaving the largest logit out of the log-sum-exp":
            [y + top for y in expected],
            "returning the softmax instead of its log":
            [math.exp(y) for y in expected]}


@exercise(2, points=2)
def check_log_softmax(log_softmax, seed=0):
    """log_softmax(z) -> the log of each softmax probability, stably."""
    rng = random.Random(seed)
    cases = [[rng.gauss(0, 2) for _ in range(n)] for n in (1, 3, 27)]
    # NOTE: these overflow math.exp, or underflow a probability to 0.0.
    cases += [[1000.0, 999.0, 998.0], [-1000.0, 0.0, 1000.0],
              [800.0] * 4]
    for z in cases:
        shown = z if len(z) <= 4 else f"{len(z)} random logits"
        what = f"log_softmax({shown})"
        expected = _reference_log_softmax(z)
        got = _call(what, log_softmax, list(z))
        check_close(what, got, expected, tol=1e-12, axes=("logit",),
                    mistakes=_mistaken_log_softmax(z, expected))
    passed("log_softmax")


def _reference_layernorm(x):
    """LayerNorm without gain or bias: RMSNorm of x minus its mean."""
    mean = sum(x) / len(x)
    return gpt_scalar.rmsnorm([xi - mean for xi in x])


def _forward_backward(what, fn, data, weights):
    """fn's outputs at data, and the gradient of sum(w_i * y_i) w.r.t. x."""
    x = [Value(d) for d in data]
    y = _call(what, fn, x)
    if not all(isinstance(yi, Value) for yi in y):
        raise CheckFailed(f"{what}: expected a list of Values (so gradients "
                          f"can flow)")
    sum(w * yi for w, yi in zip(weights, y)).backward()
    return [yi.data for yi in y], [xi.grad for xi in x]


def _mistaken_layernorms():
    """Layernorms with a likely mistake, on Values: name -> function."""
    def no_eps(x):
        mean = sum(x) / len(x)
        c = [xi - mean for xi in x]
        return [ci * (sum(cj * cj for cj in c) / len(x)) ** -0.5
                for ci in c]

    def float_mean(x):
        mean = sum(xi.data for xi in x) / len(x)
        return gpt_scalar.rmsnorm([xi - mean for xi in x])
    return {"no centering (that is RMSNorm)": gpt_scalar.rmsnorm,
            "leaving out eps": no_eps,
            "a mean computed from .data (a plain number, which passes no "
            "gradient)": float_mean}


@exercise(3, points=2)
def check_layernorm(layernorm, seed=0):
    """layernorm(x) on Values: the right outputs and the right gradients."""
    rng = random.Random(seed)
    for n in (2, 5, 16):
        data = [rng.gauss(1.0, 2.0) for _ in range(n)]
        weights = [rng.gauss(0, 1) for _ in range(n)]
        what = f"layernorm of {n} values"
        expected, grad = _forward_backward("reference", _reference_layernorm,
                                           data, weights)
        got, got_grad = _forward_backward(what, layernorm, data, weights)
        wrong = {mistake: _forward_backward(mistake, fn, data, weights)
                 for mistake, fn in _mistaken_layernorms().items()}
        check_close(what, got, expected, tol=1e-9, axes=("output",),
                    mistakes={m: out for m, (out, _) in wrong.items()})
        check_close(f"gradient of {what} w.r.t. x", got_grad, grad,
                    tol=1e-9, axes=("input",),
                    mistakes={m: g for m, (_, g) in wrong.items()})
    passed("layernorm")
