"""Checks for the generation chapter: the cost without a KV cache, and
top-k and top-p filters."""

import random

import numpy as np

from ... import gpt_numpy, gpt_scalar
from ...config import ModelConfig
from . import CheckFailed, check_close, passed, questions
from .exercise import exercise

# The model of the prediction: 64 positions, small otherwise.
LONG = ModelConfig(n_embd=8, n_head=2, block_size=64)


def _reference_positions(cfg):
    """Positions run to draw block_size tokens without a cache, counted.

    Each draw runs the model on the whole sequence so far; the tokens
    fed are a fixed made-up sequence, since only their number matters.
    """
    params = gpt_numpy.init_params(cfg, random.Random(0))
    tokens, positions = [cfg.vocab_size - 1], 0
    for _ in range(cfg.block_size):
        logits, _ = gpt_numpy.forward(params, np.array(tokens), cfg)
        positions += logits.shape[0]  # one row per position run
        tokens.append(len(tokens) % (cfg.vocab_size - 1))
    return positions


@exercise(1, points=1, forbids=(_reference_positions,))
def check_predicted_positions(predicted_positions):
    """predicted_positions() -> positions run for 64 draws, no cache."""
    T = LONG.block_size
    questions.number(
        f"positions run to draw {T} tokens without the cache",
        predicted_positions,
        lambda: _reference_positions(LONG),
        0,
        [
            (
                T,
                "that is the count with the cache, one position per draw; "
                "without it, each draw runs the whole prefix again",
            ),
            (
                T * T,
                f"{T}\u00b2 counts all {T} positions at every draw, but "
                "draw t runs only the t positions there are so far",
            ),
            (
                (T - 1) * T / 2,
                f"that is 1 + 2 + ... + {T - 1}: the first "
                "draw already runs one position (BOS), so the sum goes up "
                f"to {T}",
            ),
            (
                T * (T - 1),
                "count the positions of each draw once: the "
                "sum 1 + 2 + ... + T is T(T + 1)/2",
            ),
            (
                T * T / 2,
                f"{T}\u00b2/2 is the area of a triangle; the sum "
                f"1 + 2 + ... + {T} also counts the diagonal: T(T + 1)/2",
            ),
        ],
        advice="add up the positions each draw runs, draw by draw",
    )


def _kept(probs, keep):
    """probs zeroed outside the ids keep, the rest divided by their sum."""
    total = sum(probs[i] for i in keep)
    return [p / total if i in keep else 0.0 for i, p in enumerate(probs)]


def _ranked(probs, ascending=False, larger_id_first=False):
    """The ids by probability; a tie goes to the smaller id unless told."""
    ids = list(range(len(probs)))
    if larger_id_first:
        ids.reverse()
    sign = 1 if ascending else -1
    return sorted(ids, key=lambda i: sign * probs[i])


def _reference_top_k(probs, k):
    """The package's top-k filter of plain floats."""
    return gpt_scalar.top_filter(list(probs), top_k=k)


def _mistaken_top_k(probs, k):
    """What the usual mistakes give, by name."""
    head = _ranked(probs)[:k]
    out = {
        "keeping k + 1 tokens (an off-by-one at the cut)": _kept(
            probs, _ranked(probs)[: k + 1]
        ),
        "forgetting to renormalise (the kept probabilities must add "
        "up to 1)": [p if i in head else 0.0 for i, p in enumerate(probs)],
        "sorting ascending (that keeps the k least likely tokens)": _kept(
            probs, _ranked(probs, ascending=True)[:k]
        ),
        "breaking a tie by the larger id (a tie goes to the smaller)": _kept(
            probs, _ranked(probs, larger_id_first=True)[:k]
        ),
    }
    if k > 1:
        out["keeping k - 1 tokens (an off-by-one at the cut)"] = _kept(
            probs, _ranked(probs)[: k - 1]
        )
    return out


def _cases(rng, n=27):
    """Seeded made-up distributions over n tokens, peaked and flat."""
    out = []
    for concentration in (0.2, 1.0, 5.0):
        w = [rng.gammavariate(concentration, 1.0) for _ in range(n)]
        out.append([x / sum(w) for x in w])
    return out


# Ties at the cut, where the rule decides: four tokens share the
# largest probability, two the next.
TIES = [0.1, 0.2, 0.05, 0.2, 0.05, 0.2, 0.2]


def _check_filter(what, answer, probs, option, value, expected, mistakes):
    """One case: the answer's probabilities against expected."""
    got = answer(list(probs), value)
    if got is None:
        raise CheckFailed(
            f"{what} returned None, expected a list of probabilities"
        )
    check_close(
        f"{what} with {option} = {value} on {len(probs)} tokens",
        got,
        expected,
        1e-12,
        axes=("token",),
        mistakes=mistakes,
    )


@exercise(
    2,
    points=2,
    forbids=(
        gpt_scalar.top_filter,
        gpt_numpy.top_filter,
        _reference_top_k,
    ),
)
def check_top_k_filter(top_k_filter):
    """top_k_filter(probs, k) -> probabilities, the k likeliest kept."""
    cases = [(p, k) for p in _cases(random.Random(1)) for k in (1, 3, 10, 27)]
    cases += [(TIES, 1), (TIES, 2), (TIES, 5)]
    for probs, k in cases:
        _check_filter(
            "top_k_filter",
            top_k_filter,
            probs,
            "k",
            k,
            _reference_top_k(probs, k),
            _mistaken_top_k(probs, k),
        )
    passed(f"top_k_filter ({len(cases)} cases, ties included)")


def _reference_top_p(probs, p):
    """The package's top-p filter of plain floats."""
    return gpt_scalar.top_filter(list(probs), top_p=p)


def _head(ids, probs, p, strict=False):
    """The shortest head of ids whose probability reaches p (or passes
    it, if strict); all of ids if none does."""
    mass = 0.0
    for n, i in enumerate(ids, start=1):
        mass += probs[i]
        if mass > p if strict else mass >= p:
            return ids[:n]
    return ids


def _mistaken_top_p(probs, p):
    """What the usual mistakes give, by name."""
    ranked = _ranked(probs)
    head = _head(ranked, probs, p)
    out = {
        "stopping only when the sum passes p (> instead of \u2265; "
        "the set may stop as soon as it reaches p)": _kept(
            probs, _head(ranked, probs, p, strict=True)
        ),
        "forgetting to renormalise (the kept probabilities must add "
        "up to 1)": [q if i in head else 0.0 for i, q in enumerate(probs)],
        "sorting ascending (that keeps the least likely tokens)": _kept(
            probs, _head(_ranked(probs, ascending=True), probs, p)
        ),
    }
    if len(head) > 1:
        out[
            "leaving out the token that makes the sum reach p (an "
            "off-by-one at the boundary)"
        ] = _kept(probs, head[:-1])
    if len(head) < len(probs):
        out[
            "keeping one token more than needed (an off-by-one at the "
            "boundary)"
        ] = _kept(probs, ranked[: len(head) + 1])
    return out


# Probabilities that are exact in binary, so that a running sum lands
# exactly on p: the rule at the boundary decides.
DYADIC = [0.125, 0.5, 0.0625, 0.25, 0.0625]


@exercise(
    3,
    points=2,
    forbids=(
        gpt_scalar.top_filter,
        gpt_numpy.top_filter,
        _reference_top_p,
    ),
)
def check_top_p_filter(top_p_filter):
    """top_p_filter(probs, p) -> probabilities, the nucleus kept."""
    cases = [
        (p, q) for p in _cases(random.Random(2)) for q in (0.3, 0.6, 0.9, 1.0)
    ]
    cases += [
        (DYADIC, 0.5),
        (DYADIC, 0.75),
        (DYADIC, 0.8),
        (DYADIC, 1.0),
        (TIES, 0.25),
        (TIES, 0.5),
    ]
    for probs, q in cases:
        _check_filter(
            "top_p_filter",
            top_p_filter,
            probs,
            "p",
            q,
            _reference_top_p(probs, q),
            _mistaken_top_p(probs, q),
        )
    passed(f"top_p_filter ({len(cases)} cases, exact boundaries included)")
