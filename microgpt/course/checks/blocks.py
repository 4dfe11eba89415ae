"""Checks for the building-blocks chapter's exercises."""

import math
import random

from ... import gpt_scalar
from ...engine import Value
from . import CheckFailed, check_close, passed, raised
from .exercise import exercise
from .questions import choice


def _call(what, fn, *args):
    """fn(*args), with any exception turned into a CheckFailed."""
    try:
        return fn(*args)
    except Exception as e:  # the reader's code: report, don't crash
        raise CheckFailed(f"{what} {raised(e)}") from e


@exercise(1, points=1)
def check_tiny_input(tiny_input):
    """Which size rmsnorm's outputs have for an input of 1e-4 entries."""
    choice(
        "rmsnorm of sixteen entries of 1e-4",
        tiny_input,
        "ch05-rmsnorm-tiny",
    )


def _transposed(w):
    """The rows of w's transpose."""
    return [list(col) for col in zip(*w)]


@exercise(2, points=1)
def check_linear_in_out(linear_in_out, seed=0):
    """linear_in_out(x, w) -> x @ w for w with one row per input."""
    rng = random.Random(seed)
    for n_in, n_out in ((1, 1), (3, 5), (16, 16), (16, 64), (64, 16)):
        x = [rng.gauss(0, 1) for _ in range(n_in)]
        w = [[rng.gauss(0, 1) for _ in range(n_out)] for _ in range(n_in)]
        what = f"linear_in_out with w of shape ({n_in}, {n_out})"
        expected = gpt_scalar.linear(x, _transposed(w))
        got = _call(what, linear_in_out, list(x), [list(r) for r in w])
        if hasattr(got, "__len__") and len(got) == n_in != n_out:
            raise CheckFailed(
                f"{what}: expected {n_out} numbers, one per "
                f"column of w, got {n_in}, one per row: that "
                f"is the chapter's (out, in) layout; here w "
                f"has one row per input"
            )
        # On a square w the (out, in) layout gives the right number
        # of outputs, and wrong values.
        wrong = (
            {
                "the chapter's (out, in) layout (w's rows taken as "
                "outputs)": gpt_scalar.linear(x, w)
            }
            if n_in == n_out
            else {}
        )
        check_close(
            what, got, expected, tol=1e-12, axes=("output",), mistakes=wrong
        )
    passed("linear_in_out")


def _reference_log_softmax(z):
    """log softmax(z) through the log-sum-exp with the max taken out."""
    top = max(z)
    lse = top + math.log(sum(math.exp(zi - top) for zi in z))
    return [zi - lse for zi in z]


def _mistaken_log_softmax(z, expected):
    """What log_softmax gives without the max added back, or unlogged."""
    top = max(z)
    return {
        "leaving the largest logit out of the log-sum-exp": [
            y + top for y in expected
        ],
        "returning the softmax instead of its log": [
            math.exp(y) for y in expected
        ],
    }


@exercise(3, points=2, forbids=(_reference_log_softmax,))
def check_log_softmax(log_softmax, seed=0):
    """log_softmax(z) -> the log of each softmax probability, stably."""
    rng = random.Random(seed)
    cases = [[rng.gauss(0, 2) for _ in range(n)] for n in (1, 3, 27)]
    # These overflow math.exp, or underflow a probability to 0.0.
    cases += [[1000.0, 999.0, 998.0], [-1000.0, 0.0, 1000.0], [800.0] * 4]
    for z in cases:
        shown = z if len(z) <= 4 else f"{len(z)} random logits"
        what = f"log_softmax({shown})"
        expected = _reference_log_softmax(z)
        got = _call(what, log_softmax, list(z))
        check_close(
            what,
            got,
            expected,
            tol=1e-12,
            axes=("logit",),
            mistakes=_mistaken_log_softmax(z, expected),
        )
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
        raise CheckFailed(
            f"{what}: expected a list of Values (so gradients can flow)"
        )
    sum(w * yi for w, yi in zip(weights, y)).backward()
    return [yi.data for yi in y], [xi.grad for xi in x]


def _mistaken_layernorms():
    """Layernorms with a likely mistake, on Values: name -> function."""

    def no_eps(x):
        mean = sum(x) / len(x)
        c = [xi - mean for xi in x]
        return [ci * (sum(cj * cj for cj in c) / len(x)) ** -0.5 for ci in c]

    def sample_variance(x):
        mean = sum(x) / len(x)
        c = [xi - mean for xi in x]
        var = sum(cj * cj for cj in c) / (len(x) - 1)
        return [ci * (var + 1e-5) ** -0.5 for ci in c]

    def float_mean(x):
        mean = sum(xi.data for xi in x) / len(x)
        return gpt_scalar.rmsnorm([xi - mean for xi in x])

    return {
        "no centering (that is RMSNorm)": gpt_scalar.rmsnorm,
        "leaving out eps": no_eps,
        "dividing by n - 1 (the sample variance; LayerNorm's variance "
        "is the mean square of the centred values, divided by n)": (
            sample_variance
        ),
        "a mean computed from .data (a plain number, which passes no "
        "gradient)": float_mean,
    }


@exercise(4, points=2, forbids=(_reference_layernorm,))
def check_layernorm(layernorm, seed=0):
    """layernorm(x) on Values: the right outputs and the right gradients."""
    rng = random.Random(seed)
    for n in (2, 5, 16):
        data = [rng.gauss(1.0, 2.0) for _ in range(n)]
        weights = [rng.gauss(0, 1) for _ in range(n)]
        what = f"layernorm of {n} values"
        expected, grad = _forward_backward(
            "reference", _reference_layernorm, data, weights
        )
        got, got_grad = _forward_backward(what, layernorm, data, weights)
        wrong = {
            mistake: _forward_backward(mistake, fn, data, weights)
            for mistake, fn in _mistaken_layernorms().items()
        }
        check_close(
            what,
            got,
            expected,
            tol=1e-9,
            axes=("output",),
            mistakes={m: out for m, (out, _) in wrong.items()},
        )
        check_close(
            f"gradient of {what} w.r.t. x",
            got_grad,
            grad,
            tol=1e-9,
            axes=("input",),
            mistakes={m: g for m, (_, g) in wrong.items()},
        )
    passed("layernorm")
