"""Checks for the parameters chapter's exercises."""

import random

from ...config import ModelConfig
from ...engine import Value
from ...params import INIT_STD, init_weights, num_params, param_shapes
from . import CheckFailed, passed
from .exercise import exercise
from .questions import number

# Shapes that exercise every term of the count: depth, width, context and
# vocabulary all differ from the defaults and from each other.
_CONFIGS = (
    ModelConfig(),
    ModelConfig(vocab_size=50, n_layer=3, n_embd=32, block_size=8),
    ModelConfig(vocab_size=65, n_layer=2, n_embd=12, block_size=64, n_head=3),
    ModelConfig(vocab_size=2, n_layer=1, n_embd=4, block_size=1, n_head=1),
)


def _describe(cfg):
    """The fields of a config, compactly."""
    return (
        f"vocab_size={cfg.vocab_size}, n_layer={cfg.n_layer}, "
        f"n_embd={cfg.n_embd}, block_size={cfg.block_size}"
    )


@exercise(1, points=1)
def check_two_layers(predicted_count):
    """How many parameters the default model has with n_layer = 2."""
    one, truth = num_params(ModelConfig()), num_params(ModelConfig(n_layer=2))
    number(
        "parameters with n_layer=2",
        predicted_count,
        truth,
        0,
        [
            (
                2 * one,
                "only the layers repeat; the embeddings and lm_head "
                "are there once (see 'Counting the parameters')",
            ),
            (
                one,
                "that is the count of one layer; a second layer adds "
                "its own matrices (see 'Counting the parameters')",
            ),
        ],
    )


def _reference_biases(cfg):
    """The parameters of cfg if every non-embedding matrix had a bias."""
    return sum(
        rows * cols + (rows if name not in ("wte", "wpe") else 0)
        for name, (rows, cols) in param_shapes(cfg).items()
    )


def _mistaken_biases(cfg, right):
    """What the count with biases gives for each likely mistake."""
    V, d = cfg.vocab_size, cfg.n_embd
    return {
        "leaving out lm_head's bias": right - V,
        "giving the embedding tables wte and wpe a bias too": right
        + V
        + cfg.block_size,
        "biases as long as each layer's input, not its output": right - V + d,
        "the count without any bias": num_params(cfg),
    }


@exercise(2, points=1, forbids=(num_params, _reference_biases))
def check_count_with_biases(count_with_biases):
    """count_with_biases(cfg) -> parameters with a bias on every layer."""
    for cfg in _CONFIGS:
        expected = _reference_biases(cfg)
        got = count_with_biases(cfg)
        if got != expected:
            hint = next(
                (
                    f"; this is what {mistake} gives"
                    for mistake, n in _mistaken_biases(cfg, expected).items()
                    if n == got and n != expected
                ),
                "",
            )
            raise CheckFailed(
                f"count_with_biases({_describe(cfg)}): got "
                f"{got!r}, expected {expected!r}{hint}"
            )
    passed("count_with_biases")


def _number(what, x):
    """x as a float: a Value's data, or a float, int or NumPy number."""
    # Not getattr(x, "data", x): a NumPy float's .data is a
    # memoryview of its bytes, not its value.
    if isinstance(x, Value):
        return x.data
    try:
        return float(x)
    except (TypeError, ValueError):
        raise CheckFailed(f"{what} is {x!r}, expected a number") from None


def _same(got, wrong, tol=0.0):
    """True when got holds the numbers of wrong, name by name (to tol)."""
    try:
        return list(got) == list(wrong) and all(
            len(got[name]) == len(rows)
            and all(
                len(row_got) == len(row)
                and all(
                    abs(_number("", g) - w) <= tol * max(1.0, abs(w))
                    for g, w in zip(row_got, row)
                )
                for row_got, row in zip(got[name], rows)
            )
            for name, rows in wrong.items()
        )
    except (CheckFailed, TypeError, ValueError, KeyError):
        return False


def _check_weights(what, got, expected, mistakes=None, tol=0.0):
    """Raise CheckFailed at the first name, shape or float that differs
    (by more than tol, relative to the larger of 1 and the expected one).

    mistakes maps a likely mistake to the weights it gives, for a hint.
    """
    if not isinstance(got, dict):
        raise CheckFailed(
            f"{what}: expected a dict name -> rows, got {type(got).__name__}"
        )
    if list(got) != list(expected):
        raise CheckFailed(
            f"{what}: the names, in order: got {list(got)}, "
            f"expected {list(expected)}"
        )
    for name, rows in expected.items():
        mine = got[name]
        shape = (len(mine), len(mine[0]) if len(mine) else 0)
        if shape != (len(rows), len(rows[0])):
            raise CheckFailed(
                f"{what}: shape of {name!r}: got {shape}, "
                f"expected {(len(rows), len(rows[0]))}"
            )
        for r, (row_got, row) in enumerate(zip(mine, rows)):
            # zip would quietly cut a short row; say so instead.
            if len(row_got) != len(row):
                raise CheckFailed(
                    f"{what}: length of row {r} of {name}: "
                    f"got {len(row_got)}, expected {len(row)}"
                )
            for c, (g, e) in enumerate(zip(row_got, row)):
                g = _number(f"{what}: {name} at row {r}, column {c}", g)
                if abs(g - e) > tol * max(1.0, abs(e)) or g != g:
                    hint = next(
                        (
                            f"; this is what {mistake} gives"
                            for mistake, wrong in (mistakes or {}).items()
                            if _same(got, wrong, tol)
                        ),
                        "",
                    )
                    raise CheckFailed(
                        f"{what}: {name} at row {r}, column "
                        f"{c} is {g!r}, expected {e!r} "
                        f"(difference {abs(g - e):.3g}){hint}"
                    )


# The matrices that write into the residual stream: GPT-2 scales their
# initial weights down by 1 / sqrt(2 n_layer).
_RESIDUAL = ("attn_wo", "mlp_fc2")


def _reference_drawn(cfg, seed, std, scale):
    """Weights drawn in the package's order, matrix `name` with the
    standard deviation std * scale(name)."""
    rng = random.Random(seed)
    return {
        name: [
            [rng.gauss(0, std * scale(name)) for _ in range(cols)]
            for _ in range(rows)
        ]
        for name, (rows, cols) in param_shapes(cfg).items()
    }


def _mistaken_scaled(cfg, seed, std):
    """What the scaled init gives with each likely mistake in the scale."""
    n = cfg.n_layer

    def only_residual(factor):
        return lambda name: factor if name.endswith(_RESIDUAL) else 1.0

    by_column = {}
    rng = random.Random(seed)
    for name, rows in init_weights(cfg, random.Random(seed), std).items():
        s = (2 * n) ** -0.5 if name.endswith(_RESIDUAL) else 1.0
        cols = [[rng.gauss(0, std * s) for _ in rows] for _ in rows[0]]
        by_column[name] = [list(r) for r in zip(*cols)]
    return {
        "the package's init, with no matrix scaled": _reference_drawn(
            cfg, seed, std, lambda name: 1.0
        ),
        "scaling every matrix, not only attn_wo and mlp_fc2": _reference_drawn(
            cfg, seed, std, lambda name: (2 * n) ** -0.5
        ),
        "a scale of 1 / sqrt(n_layer), without the 2": _reference_drawn(
            cfg, seed, std, only_residual(n**-0.5)
        ),
        (
            "a scale of 1 / (2 n_layer), without the square root"
        ): _reference_drawn(cfg, seed, std, only_residual(1 / (2 * n))),
        "drawing each matrix column by column": by_column,
    }


@exercise(3, points=2, forbids=(init_weights, _reference_drawn))
def check_scaled_init(scaled_init, seed=0):
    """scaled_init(cfg, rng, std): the package's draws, attn_wo and
    mlp_fc2 with std / sqrt(2 n_layer)."""
    # The three-layer model first: with one layer, a scale of
    # 1 / sqrt(n_layer) is no scale at all, and its hint would mislead.
    for cfg in (_CONFIGS[1], _CONFIGS[0], _CONFIGS[2]):
        for std in (INIT_STD, 0.5):
            what = f"scaled init for {_describe(cfg)}, std={std}"
            ref_rng = random.Random(seed)
            expected = _reference_drawn(
                cfg,
                seed,
                std,
                lambda name: (
                    (2 * cfg.n_layer) ** -0.5
                    if name.endswith(_RESIDUAL)
                    else 1.0
                ),
            )
            init_weights(cfg, ref_rng, std)  # the same number of draws
            rng = random.Random(seed)
            got = scaled_init(cfg, rng, std)
            # std * s drawn, or s times a draw with std: the two
            # differ in the last bit, and both are right.
            _check_weights(
                what,
                got,
                expected,
                _mistaken_scaled(cfg, seed, std),
                tol=1e-12,
            )
            # The stream goes on to draw the samples, so an extra or a
            # missing draw would change every name the model generates.
            if rng.random() != ref_rng.random():
                raise CheckFailed(
                    f"{what}: the random stream was left in a "
                    f"different state: count your draws"
                )
    passed("scaled_init")


def _mistaken_fill(expected):
    """The same numbers filled into each matrix column by column."""
    out = {}
    for name, rows in expected.items():
        flat = iter([w for row in rows for w in row])
        cols = [[next(flat) for _ in rows] for _ in rows[0]]
        out[name] = [list(r) for r in zip(*cols)]
    return {"filling each matrix column by column": out}


@exercise(4, points=2)
def check_unflatten(unflatten, seed=0):
    """unflatten(flat, cfg) -> name -> rows, the inverse of flattening."""
    for cfg in _CONFIGS:
        expected = init_weights(cfg, random.Random(seed))
        flat = [w for rows in expected.values() for row in rows for w in row]
        got = unflatten(list(flat), cfg)
        _check_weights(
            f"unflatten for {_describe(cfg)}",
            got,
            expected,
            _mistaken_fill(expected),
        )
    passed("unflatten")
