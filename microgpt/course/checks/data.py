"""Checks for the data chapter's exercises: predictions, decoding,
framing, targets."""

import random

from ... import gpt_scalar
from ...config import ModelConfig
from ...data import Tokenizer
from ...params import init_weights
from . import CheckFailed, passed
from .exercise import exercise
from .questions import number

# Not only lowercase letters, so a solution that hard-codes "a".."z"
# (which happens to work for names.txt) is caught.
_ALPHABET = "abcdefghijklmnopqrstuvwxyz-' .ABZ"


def _random_docs(rng, n=40):
    """n made-up documents of 1..20 characters from a mixed alphabet."""
    return [
        "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(1, 20)))
        for _ in range(n)
    ]


def _check_list(what, got, expected, mistakes=None):
    """Raise CheckFailed at the first position where two lists differ.

    mistakes maps a likely mistake to the list it gives: when got is that
    list, the message names the mistake.
    """
    try:
        got = list(got)
    except TypeError:
        raise CheckFailed(f"{what}: expected a list, got {got!r}") from None
    hint = next(
        (
            f"; this is what {mistake} gives"
            for mistake, wrong in (mistakes or {}).items()
            if got == list(wrong) and list(wrong) != list(expected)
        ),
        "",
    )
    for i, (g, e) in enumerate(zip(got, expected)):
        if g != e:
            raise CheckFailed(
                f"{what} at position {i}: got {g!r}, expected {e!r}{hint}"
            )
    if len(got) != len(expected):
        same = min(len(got), len(expected))
        raise CheckFailed(
            f"{what}: got {len(got)} items, expected "
            f"{len(expected)} (the first {same} agree){hint}"
        )


def _reference_predictions(doc, cfg):
    """How many positions the package's loss runs the model on."""
    tok = Tokenizer.from_docs([doc])
    cfg = ModelConfig(
        vocab_size=tok.vocab_size,
        n_layer=1,
        n_embd=4,
        block_size=cfg.block_size,
        n_head=1,
    )
    params = gpt_scalar.from_weights(init_weights(cfg, random.Random(0)))
    calls, gpt = [], gpt_scalar.gpt

    def counted(*args):
        calls.append(args[1])
        return gpt(*args)

    gpt_scalar.gpt = counted
    try:
        gpt_scalar.batch_loss(params, [tok.frame(doc)], cfg)
    finally:
        gpt_scalar.gpt = gpt
    return len(calls)


@exercise(1, points=1, forbids=(_reference_predictions,))
def check_predictions(predicted_predictions):
    """How many predictions a 20-letter name gives with block_size 16."""
    truth = _reference_predictions("abcdefghijklmnopqrst", ModelConfig())
    number(
        "predictions of a 20-letter name (block_size 16)",
        predicted_predictions,
        truth,
        0,
        [
            (
                21,
                "that is every pair of the framed name; the context "
                "cuts a document to its first block_size predictions (see "
                "'Cutting documents to the context')",
            ),
            (
                22,
                "that is the number of tokens of the framed name, not "
                "of the predictions made from them (see 'Cutting documents "
                "to the context')",
            ),
            (
                20,
                "a name of n letters frames to n + 2 tokens, but the "
                "context still limits it (see 'Cutting documents to the "
                "context')",
            ),
            (
                15,
                "one too few, an off-by-one: 15 is the number of pairs "
                "inside 16 tokens, but the context holds block_size = 16 "
                "inputs, and each input is paired with the token after "
                "it, so 17 tokens give 16 predictions (see 'Cutting "
                "documents to the context')",
            ),
        ],
        advice="count the pairs that inputs_and_targets makes from a "
        "framed 20-letter name, then look again (see 'Cutting documents "
        "to the context')",
    )


def _mistaken_decodes(ids, chars):
    """What decoding gives if it skips BOS, or takes id 0 for BOS."""
    bos = len(chars)
    zero = ids.index(0) if 0 in ids else len(ids)
    return {
        "skipping BOS instead of stopping at it": "".join(
            chars[i] for i in ids if i != bos
        ),
        "stopping at id 0 (BOS is the last id, len(chars))": "".join(
            chars[i] for i in ids[:zero] if i != bos
        ),
    }


@exercise(2, points=1, forbids=(Tokenizer.decode,))
def check_decode_sample(decode_sample, seed=0):
    """decode_sample(ids, chars) -> the text of the ids before BOS."""
    rng = random.Random(seed)
    docs = _random_docs(rng)
    tok = Tokenizer.from_docs(docs)
    for doc in docs:
        ids = tok.encode(doc)
        # A sample: the name, BOS where the model stopped, then whatever
        # a longer loop would have drawn after it (or no BOS at all).
        tail = [rng.randrange(tok.vocab_size) for _ in range(5)]
        if rng.random() < 0.8:
            ids = ids + [tok.bos] + tail
        expected = doc
        got = decode_sample(list(ids), tok.chars)
        if got != expected:
            hint = next(
                (
                    f"; this is what {m} gives"
                    for m, wrong in _mistaken_decodes(ids, tok.chars).items()
                    if got == wrong
                ),
                "",
            )
            raise CheckFailed(
                f"decode_sample({ids!r}): got {got!r}, "
                f"expected {expected!r}{hint}"
            )
    passed("decode_sample")


def _mistaken_frames(doc, tok):
    """What BOS-first framing gives with the chapter's BOS, or unshifted."""
    ids = tok.encode(doc)
    return {
        "the chapter's convention (BOS as the last id, not 0)": tok.frame(doc),
        "BOS as 0 without shifting the characters up by one": [0] + ids + [0],
    }


@exercise(3, points=1, forbids=(Tokenizer.frame, Tokenizer.encode))
def check_frame_bos_first(frame_bos_first, seed=0):
    """frame_bos_first(doc, chars) -> [0, ids + 1 ..., 0]."""
    rng = random.Random(seed)
    docs = _random_docs(rng)
    tok = Tokenizer.from_docs(docs)
    for doc in docs:
        wrong = _mistaken_frames(doc, tok)
        expected = [0] + [i + 1 for i in tok.encode(doc)] + [0]
        _check_list(
            f"frame_bos_first({doc!r})",
            frame_bos_first(doc, tok.chars),
            expected,
            wrong,
        )
    passed("frame_bos_first")


def _reference_last_pairs(tokens, block_size):
    """The last n = min(block_size, len - 1) inputs and their targets."""
    n = min(block_size, len(tokens) - 1)
    return tokens[len(tokens) - 1 - n : -1], tokens[len(tokens) - n :]


@exercise(4, points=1, forbids=(_reference_last_pairs,))
def check_last_pairs(last_pairs, seed=0):
    """last_pairs(tokens, block_size) -> (inputs, targets) at the end."""
    rng = random.Random(seed)
    for block_size in (16, 8, 3, 1):
        for length in (2, 3, 9, 17, 25):
            tokens = [rng.randrange(27) for _ in range(length)]
            where = f"{length} tokens, block_size={block_size}"
            expected = _reference_last_pairs(tokens, block_size)
            n = len(expected[0])
            got = last_pairs(list(tokens), block_size)
            if not isinstance(got, tuple) or len(got) != 2:
                raise CheckFailed(
                    f"{where}: expected a tuple (inputs, targets), got {got!r}"
                )
            first = "taking the first pairs (the chapter's inputs_and_targets)"
            late = "starting one token too late"
            _check_list(
                f"inputs ({where})",
                got[0],
                expected[0],
                {first: tokens[:n], late: tokens[-n:]},
            )
            _check_list(
                f"targets ({where})",
                got[1],
                expected[1],
                {first: tokens[1 : n + 1]},
            )
    passed("last_pairs")
