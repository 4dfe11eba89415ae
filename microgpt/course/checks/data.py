"""Checks for the data chapter's exercises: vocabulary, framing, targets."""

import random

from ...data import Tokenizer
from . import CheckFailed, passed
from .exercise import exercise

# NOTE: not only lowercase letters, so a solution that hard-codes "a".."z"
# (which happens to work for names.txt) is caught.
_ALPHABET = "abcdefghijklmnopqrstuvwxyz-' .ABZ"


def _random_docs(rng, n=40):
    """n made-up documents of 1..20 characters from a mixed alphabet."""
    return ["".join(rng.choice(_ALPHABET) for _ in range(rng.randint(1, 20)))
            for _ in range(n)]


def _check_list(what, got, expected, mistakes=None):
    """Raise CheckFailed at the first position where two lists differ.

    mistakes maps a likely mistake to the list it gives: when got is that
    list, the message names the mistake.
    """
    try:
        got = list(got)
    except TypeError:
        raise CheckFailed(f"{what}: expected a list, got {got!r}") from None
    hint = next((f"; this is what {mistake} gives"
                 for mistake, wrong in (mistakes or {}).items()
                 if got == list(wrong)), "")
    for i, (g, e) in enumerate(zip(got, expected)):
        if g != e:
            raise CheckFailed(f"{what} at position {i}: got {g!r}, "
                              f"expected {e!r}{hint}")
    if len(got) != len(expected):
        same = min(len(got), len(expected))
        raise CheckFailed(f"{what}: got {len(got)} items, expected "
                          f"{len(expected)} (the first {same} agree){hint}")


@exercise(1, points=1, forbids=(Tokenizer.from_docs.__func__,))
def check_build_vocab(build_vocab, seed=0):
    """build_vocab(docs) -> the sorted unique characters of docs."""
    rng = random.Random(seed)
    for trial in range(5):
        docs = _random_docs(rng)
        expected = list(Tokenizer.from_docs(docs).chars)
        unsorted = list(dict.fromkeys("".join(docs)))
        _check_list(f"vocabulary of random docs #{trial}", build_vocab(docs),
                    expected, {"leaving the characters unsorted": unsorted})
    passed("build_vocab")


def _mistaken_frames(expected):
    """What framing gives with BOS as id 0, or without the closing BOS."""
    ids = expected[1:-1]
    return {"BOS as id 0 (BOS is the last id, len(chars))":
            [0] + [i + 1 for i in ids] + [0],
            "leaving out the closing BOS": expected[:-1]}


@exercise(2, points=1, forbids=(Tokenizer.frame, Tokenizer.encode))
def check_frame(frame, seed=0):
    """frame(doc, chars) -> [BOS, ids of doc's characters..., BOS]."""
    rng = random.Random(seed)
    docs = _random_docs(rng)
    tok = Tokenizer.from_docs(docs)
    for doc in docs:
        expected = tok.frame(doc)
        _check_list(f"frame({doc!r})", frame(doc, tok.chars), expected,
                    _mistaken_frames(expected))
    passed("frame")


def _reference_inputs_targets(tokens, block_size):
    """The first n = min(block_size, len - 1) inputs and their targets."""
    n = min(block_size, len(tokens) - 1)
    return tokens[:n], tokens[1:n + 1]


@exercise(3, points=1)
def check_inputs_targets(inputs_targets, seed=0):
    """inputs_targets(tokens, block_size) -> (inputs, targets)."""
    rng = random.Random(seed)
    for block_size in (16, 8, 3, 1):
        for length in (2, 3, 9, 17, 25):
            tokens = [rng.randrange(27) for _ in range(length)]
            where = f"{length} tokens, block_size={block_size}"
            expected = _reference_inputs_targets(tokens, block_size)
            got = inputs_targets(list(tokens), block_size)
            if not isinstance(got, tuple) or len(got) != 2:
                raise CheckFailed(f"{where}: expected a tuple (inputs, "
                                  f"targets), got {got!r}")
            uncut = {"not cutting to block_size": tokens[:-1]}
            _check_list(f"inputs ({where})", got[0], expected[0], uncut)
            uncut = {"not cutting to block_size": tokens[1:]}
            _check_list(f"targets ({where})", got[1], expected[1], uncut)
    passed("inputs_targets")
