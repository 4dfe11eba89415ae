"""What the twins' tests share: one tolerance, one table, one comparison."""

import random

import numpy as np

from microgpt import gpt_scalar
from microgpt.config import ModelConfig
from microgpt.params import init_weights

PARITY = 1e-12  # relative; the float64 twins agree to about 1e-15

# The shapes every twin is checked in, against the scalar model.
CONFIGS = {
    "default": ModelConfig(),
    "n_layer=2": ModelConfig(n_layer=2),
    "n_layer=3": ModelConfig(n_layer=3, block_size=8),
    "n_head=1": ModelConfig(n_head=1),
    "n_head=2": ModelConfig(n_head=2),
    "n_head=8": ModelConfig(n_head=8),
    "n_embd=8": ModelConfig(n_embd=8, n_head=2),
    "n_embd=32": ModelConfig(n_embd=32, block_size=8),
    "block_size=4": ModelConfig(block_size=4),
    "block_size=8": ModelConfig(block_size=8),
}


def as_array(x):
    """A float64 numpy array of a number, nested lists, array or tensor."""
    if hasattr(x, "detach"):  # a torch tensor
        x = x.detach().to("cpu").double().numpy()
    return np.asarray(x, dtype=np.float64)


def rel_err(got, expected):
    """max |got - expected| relative to max |expected| (or absolute at 0)."""
    got, expected = as_array(got), as_array(expected)
    scale = np.abs(expected).max()
    return np.abs(got - expected).max() / (scale if scale else 1.0)


def assert_grads_close(got, expected, tol=PARITY):
    """Every gradient by parameter name, relative to its largest entry."""
    assert list(got) == list(expected)
    for name in expected:
        assert np.shape(got[name]) == np.shape(expected[name]), name
        err = rel_err(got[name], expected[name])
        assert err <= tol, f"{name}: relative error {err:.3g}"


def twin_params(twin, cfg, seed=0, **options):
    """The same fresh weights as scalar parameters and as twin's."""
    weights = init_weights(cfg, random.Random(seed))
    return (
        gpt_scalar.from_weights(weights),
        twin.from_weights(weights, **options),
    )


def pick_docs(names, cfg, k=3):
    """k framed names, the last the longest (cut when it outgrows cfg)."""
    shuffled, tok = names
    longest = max(shuffled, key=len)
    return [tok.frame(n) for n in shuffled[: k - 1] + [longest]]


def numeric_grad(f, x, eps=1e-6):
    """Central differences of the scalar f() in each entry of x."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        plus = f()
        x[i] = old - eps
        minus = f()
        x[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def assert_grad(analytic, numeric):
    """Hand-derived and finite-difference gradients agree."""
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def long_doc(names, length):
    """A framed name with at least length letters."""
    shuffled, tok = names
    return tok.frame(next(d for d in shuffled if len(d) >= length))
