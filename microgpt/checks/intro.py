"""Checks for the introduction's exercises: counting things in the data."""

import random
from collections import Counter

from . import CheckFailed, passed

_ALPHABET = "abcdefghijklmnopqrstuvwxyz-'"


def _random_docs(rng, n=200):
    """n made-up documents of 1..20 characters, seeded."""
    return ["".join(rng.choice(_ALPHABET) for _ in range(rng.randint(1, 20)))
            for _ in range(n)]


def _check_counts(what, got, expected):
    """Raise CheckFailed at the first key whose count differs."""
    if not hasattr(got, "get"):
        raise CheckFailed(f"{what}: expected a dict, got "
                          f"{type(got).__name__}")
    for key in sorted(set(got) | set(expected), key=repr):
        g, e = got.get(key, 0), expected.get(key, 0)
        if g != e:
            raise CheckFailed(f"{what}[{key!r}]: got {g!r}, expected {e!r}")


def check_letter_counts(letter_counts, seed=0):
    """letter_counts(docs) -> character -> occurrences in all documents."""
    rng = random.Random(seed)
    for trial in range(3):
        docs = _random_docs(rng)
        # NOTE: the reference first, and a copy to the solution: a right
        # answer may consume its list (docs.pop() until it is empty).
        expected = Counter("".join(docs))
        _check_counts(f"letter counts of random docs #{trial}",
                      letter_counts(list(docs)), expected)
    passed("letter_counts")


def check_length_counts(length_counts, seed=0):
    """length_counts(docs) -> length -> number of documents that long."""
    rng = random.Random(seed)
    for trial in range(3):
        docs = _random_docs(rng)
        expected = Counter(len(d) for d in docs)  # first, as above
        _check_counts(f"length counts of random docs #{trial}",
                      length_counts(list(docs)), expected)
    passed("length_counts")
