"""Checks for the introduction's exercises: counts, and a prediction."""

import random
from collections import Counter

from . import CheckFailed, passed
from .exercise import exercise
from .questions import number

_ALPHABET = "abcdefghijklmnopqrstuvwxyz-'"


def _random_docs(rng, n=200):
    """n made-up documents of 1..20 characters, seeded."""
    return [
        "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(1, 20)))
        for _ in range(n)
    ]


def _same_counts(got, wrong):
    """True when the dict got holds the counts of wrong (zeros aside)."""
    keys = set(got) | set(wrong)
    return all(got.get(k, 0) == wrong.get(k, 0) for k in keys)


def _check_counts(what, key_name, got, expected, mistakes):
    """Raise CheckFailed at the first key whose count differs.

    key_name says what a key is ("character", "length"); mistakes maps a
    likely mistake to the counts it gives, for the hint.
    """
    if not hasattr(got, "get"):
        raise CheckFailed(f"{what}: expected a dict, got {type(got).__name__}")
    for key in sorted(set(got) | set(expected), key=repr):
        g, e = got.get(key, 0), expected.get(key, 0)
        if g != e:
            hint = next(
                (
                    f"; this is what {mistake} gives"
                    for mistake, wrong in mistakes.items()
                    if _same_counts(got, wrong)
                ),
                "",
            )
            raise CheckFailed(
                f"{what}, {key_name} {key!r}: got {g!r}, expected {e!r}{hint}"
            )


@exercise(1, points=1)
def check_letter_counts(letter_counts, seed=0):
    """letter_counts(docs) -> character -> occurrences in all documents."""
    rng = random.Random(seed)
    for trial in range(3):
        docs = _random_docs(rng)
        # The reference first, and a copy to the solution: a right
        # answer may consume its list (docs.pop() until it is empty).
        expected = Counter("".join(docs))
        once = Counter(ch for doc in docs for ch in set(doc))
        _check_counts(
            f"letter counts of random docs #{trial}",
            "character",
            letter_counts(list(docs)),
            expected,
            {"counting a character once per document": once},
        )
    passed("letter_counts")


@exercise(2, points=1)
def check_length_counts(length_counts, seed=0):
    """length_counts(docs) -> length -> number of documents that long."""
    rng = random.Random(seed)
    for trial in range(3):
        docs = _random_docs(rng)
        expected = Counter(len(d) for d in docs)  # first, as above
        longer = Counter(len(d) + 1 for d in docs)
        _check_counts(
            f"length counts of random docs #{trial}",
            "length",
            length_counts(list(docs)),
            expected,
            {"counting one character too many (a newline?)": longer},
        )
    passed("length_counts")


def _reference_fraction_seen():
    """The fraction of the names that the default run trains on."""
    from ...config import TrainConfig
    from ...data import load_docs

    docs = load_docs()
    # The run trains on name number step % len(docs) at each step.
    seen = {step % len(docs) for step in range(TrainConfig().num_steps)}
    return len(seen) / len(docs)


@exercise(3, points=1, forbids=(_reference_fraction_seen,))
def check_fraction_seen(predicted_fraction):
    """What fraction of the names the default run trains on."""
    truth = _reference_fraction_seen()
    number(
        "fraction of the names the run trains on",
        predicted_fraction,
        truth,
        0.002,
        [
            (
                1.0,
                "each step trains on one name, and the run takes 1,000 "
                "steps (see 'A first run')",
            ),
            (
                100 * truth,
                "that is a percentage; write the fraction, "
                "a number between 0 and 1",
            ),
        ],
    )
