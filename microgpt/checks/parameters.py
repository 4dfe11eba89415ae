"""Checks for the parameters chapter's exercises."""

import random

from ..config import ModelConfig
from ..engine import Value
from ..params import init_weights, num_params
from . import CheckFailed, check_equal, passed

# Shapes that exercise every term of the count: depth, width, context and
# vocabulary all differ from the defaults and from each other.
_CONFIGS = (
    ModelConfig(),
    ModelConfig(vocab_size=50, n_layer=3, n_embd=32, block_size=8),
    ModelConfig(vocab_size=65, n_layer=2, n_embd=12, block_size=64,
                n_head=3),
    ModelConfig(vocab_size=2, n_layer=1, n_embd=4, block_size=1, n_head=1),
)


def _describe(cfg):
    """The fields of a config, compactly."""
    return (f"vocab_size={cfg.vocab_size}, n_layer={cfg.n_layer}, "
            f"n_embd={cfg.n_embd}, block_size={cfg.block_size}")


def check_count_params(count_params):
    """count_params(cfg) -> the number of scalars in the model."""
    for cfg in _CONFIGS:
        check_equal(f"count_params({_describe(cfg)})", count_params(cfg),
                    num_params(cfg))
    passed("count_params")


def _number(what, x):
    """x as a float: a Value's data, or a float, int or NumPy number."""
    # NOTE: not getattr(x, "data", x): a NumPy float's .data is a
    # memoryview of its bytes, not its value.
    if isinstance(x, Value):
        return x.data
    try:
        return float(x)
    except (TypeError, ValueError):
        raise CheckFailed(f"{what} is {x!r}, expected a number") from None


def _check_weights(what, got, expected):
    """Raise CheckFailed at the first name, shape or float that differs."""
    if not isinstance(got, dict):
        raise CheckFailed(f"{what}: expected a dict name -> rows, "
                          f"got {type(got).__name__}")
    check_equal(f"{what}: the names, in order", list(got), list(expected))
    for name, rows in expected.items():
        mine = got[name]
        shape = (len(mine), len(mine[0]) if len(mine) else 0)
        check_equal(f"{what}: shape of {name!r}", shape,
                    (len(rows), len(rows[0])))
        for r, (row_got, row) in enumerate(zip(mine, rows)):
            # NOTE: zip would quietly cut a short row; say so instead.
            check_equal(f"{what}: length of {name}[{r}]", len(row_got),
                        len(row))
            for c, (g, e) in enumerate(zip(row_got, row)):
                g = _number(f"{what}: {name}[{r}][{c}]", g)
                if g != e:
                    raise CheckFailed(f"{what}: {name}[{r}][{c}] is {g!r}, "
                                      f"expected {e!r} (difference "
                                      f"{abs(g - e):.3g})")


def check_init_weights(my_init_weights, seed=0):
    """my_init_weights(cfg, rng, std) must make the package's draws."""
    for cfg in _CONFIGS[:3]:
        for std in (0.08, 0.5):
            what = f"init for {_describe(cfg)}, std={std}"
            rng, ref_rng = random.Random(seed), random.Random(seed)
            got = my_init_weights(cfg, rng, std)
            expected = init_weights(cfg, ref_rng, std)
            _check_weights(what, got, expected)
            # NOTE: the stream goes on to draw the samples, so an extra or a
            # missing draw would change every name the model generates.
            if rng.random() != ref_rng.random():
                raise CheckFailed(f"{what}: the random stream was left in a "
                                  f"different state: count your draws")
    passed("init_weights")


def check_unflatten(unflatten, seed=0):
    """unflatten(flat, cfg) -> name -> rows, the inverse of flattening."""
    for cfg in _CONFIGS:
        expected = init_weights(cfg, random.Random(seed))
        flat = [w for rows in expected.values() for row in rows for w in row]
        got = unflatten(list(flat), cfg)
        _check_weights(f"unflatten for {_describe(cfg)}", got, expected)
    passed("unflatten")
