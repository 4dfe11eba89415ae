"""Checks for the building-blocks chapter's exercises."""

import math
import random

from .. import gpt_scalar
from ..engine import Value
from . import CheckFailed, check_close, passed, raised


def _call(what, fn, *args):
    """fn(*args), with any exception turned into a CheckFailed."""
    try:
        return fn(*args)
    except Exception as e:  # the reader's code: report, don't crash
        raise CheckFailed(f"{what} {raised(e)}") from e


def check_linear(linear, seed=0):
    """linear(x, w) -> w @ x for a list of rows w, on floats."""
    rng = random.Random(seed)
    for n_out, n_in in ((1, 1), (3, 5), (16, 16), (64, 16), (16, 64)):
        x = [rng.gauss(0, 1) for _ in range(n_in)]
        w = [[rng.gauss(0, 1) for _ in range(n_in)] for _ in range(n_out)]
        what = f"linear with w of shape ({n_out}, {n_in})"
        got = _call(what, linear, list(x), [list(r) for r in w])
        check_close(what, got, gpt_scalar.linear(x, w), tol=1e-12)
    passed("linear")


def _reference_log_softmax(z):
    """log softmax(z) through the log-sum-exp with the max taken out."""
    top = max(z)
    lse = top + math.log(sum(math.exp(zi - top) for zi in z))
    return [zi - lse for zi in z]


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
        got = _call(what, log_softmax, list(z))
        check_close(what, got, _reference_log_softmax(z), tol=1e-12)
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


def check_layernorm(layernorm, seed=0):
    """layernorm(x) on Values: the right outputs and the right gradients."""
    rng = random.Random(seed)
    for n in (2, 5, 16):
        data = [rng.gauss(1.0, 2.0) for _ in range(n)]
        weights = [rng.gauss(0, 1) for _ in range(n)]
        what = f"layernorm of {n} values"
        got, got_grad = _forward_backward(what, layernorm, data, weights)
        expected, grad = _forward_backward("reference", _reference_layernorm,
                                           data, weights)
        check_close(what, got, expected, tol=1e-9)
        check_close(f"gradient of {what} w.r.t. x", got_grad, grad, tol=1e-9)
    passed("layernorm")
