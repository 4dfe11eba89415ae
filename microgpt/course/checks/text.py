"""Checks for the running-text chapter: a BPE merge step, bits per
character, the embedding table's share, and why loss per token misleads.
"""

import math
import random

from ... import bpe, text
from ...config import ModelConfig
from ...experiments.text_bpe import MODEL
from ...params import num_params
from . import CheckFailed, check_close, passed, questions
from .exercise import exercise


def _reference_step(ids, new):
    """The package's merge step: the most frequent pair, merged."""
    counts = {}
    for pair in zip(ids, ids[1:]):
        counts[pair] = counts.get(pair, 0) + 1
    pair = bpe.most_frequent(counts)
    return pair, bpe.merge(ids, pair, new)


def _first_seen(counts):
    """A tie broken by the pair seen first instead of the smallest."""
    top = max(counts.values())
    return next(p for p, c in counts.items() if c == top)


def _from_the_right(ids, pair, new):
    """Pairs merged right to left: "aaa" gives a, <aa> instead."""
    return bpe.merge(ids[::-1], pair[::-1], new)[::-1]


def _mistaken_steps(ids, new):
    """What the usual mistakes give, by name."""
    counts = {}
    for p in zip(ids, ids[1:]):
        counts[p] = counts.get(p, 0) + 1
    pair = bpe.most_frequent(counts)
    seen = _first_seen(counts)
    return {
        "breaking a tie by the pair seen first (a tie goes to the "
        "smaller ids)": (seen, bpe.merge(ids, seen, new)),
        "merging from the right (merge left to right, so that 'aaa' "
        "becomes <aa>, a)": (pair, _from_the_right(ids, pair, new)),
    }


def _cases():
    """Seeded id lists with ties and runs of one id, and a worked one."""
    rng = random.Random(16)
    cases = [
        list(b"aaabdaaabac"),
        list(b"aaab"),
        [5, 3, 5, 3, 3, 3],
        [7, 7, 7, 1, 2, 1, 2],
    ]
    for _ in range(20):
        cases.append([rng.randrange(4) for _ in range(rng.randint(2, 12))])
    return cases


@exercise(
    1,
    points=2,
    forbids=(
        bpe.merge,
        bpe.most_frequent,
        bpe.train,
        _reference_step,
    ),
)
def check_merge_step(merge_step):
    """merge_step(ids, new) -> (pair, ids with that pair made new)."""
    for ids in _cases():
        new = 256
        expected = _reference_step(list(ids), new)
        got = merge_step(list(ids), new)
        if got is None or len(got) != 2:
            raise CheckFailed(
                f"merge_step({ids}, {new}) should return "
                f"(pair, merged ids), got {got!r}"
            )
        pair, merged = tuple(int(i) for i in got[0]), [int(i) for i in got[1]]
        if (pair, merged) == expected:
            continue
        for mistake, wrong in _mistaken_steps(list(ids), new).items():
            if (pair, merged) == (tuple(wrong[0]), wrong[1]):
                raise CheckFailed(
                    f"merge_step({ids}, {new}) gave {pair}, {merged}; "
                    f"expected {expected[0]}, {expected[1]}: this is "
                    f"what {mistake} gives",
                    mistake,
                )
        raise CheckFailed(
            f"merge_step({ids}, {new}) gave {pair}, "
            f"{merged}; expected {expected[0]}, "
            f"{expected[1]}"
        )
    passed(f"merge_step ({len(_cases())} id lists, ties and runs)")


def _reference_bpc(losses, pieces):
    """Total nats over the characters the tokens cover, in bits."""
    return text.bits_per_char(sum(losses), sum(len(p) for p in pieces))


@exercise(2, points=1, forbids=(text.bits_per_char, _reference_bpc))
def check_bits_per_char(bits_per_char):
    """bits_per_char(losses, pieces) -> bits per character.

    losses: each predicted token's loss in nats; pieces: each predicted
    token's text, in the same order.
    """
    rng = random.Random(2)
    for n in (1, 5, 40):
        pieces = [
            "".join(rng.choice("the king ") for _ in range(rng.randint(1, 4)))
            for _ in range(n)
        ]
        losses = [rng.uniform(0.1, 6.0) for _ in range(n)]
        n_chars = sum(len(p) for p in pieces)
        mistakes = {
            "leaving the loss in nats (divide by ln 2 for bits)": sum(losses)
            / n_chars,
            "dividing by the number of tokens instead of characters": sum(
                losses
            )
            / (math.log(2) * n),
            "dividing by log2 of e instead of ln 2": sum(losses)
            / (math.log2(math.e) * n_chars),
        }
        check_close(
            f"bits per character of {n} tokens",
            bits_per_char(list(losses), list(pieces)),
            _reference_bpc(losses, pieces),
            1e-9,
            mistakes=mistakes,
        )
    passed("bits_per_char (1, 5 and 40 tokens)")


def _share(vocab_size):
    """wte's and lm_head's share of the parameters of the experiment's
    model with this vocabulary."""
    cfg = ModelConfig(vocab_size=vocab_size, **MODEL)
    return 2 * vocab_size * cfg.n_embd / num_params(cfg)


@exercise(3, points=1)
def check_embedding_share(embedding_share):
    """embedding_share() -> the share of wte and lm_head at vocab 1024."""
    cfg = ModelConfig(vocab_size=1024, **MODEL)
    N, table = num_params(cfg), 1024 * cfg.n_embd
    share = _share(1024)
    questions.number(
        "share of the parameters in wte and lm_head at vocab 1024",
        embedding_share,
        lambda: share,
        0.002,
        [
            (
                table / N,
                "that counts one of the two tables; the output layer "
                "lm_head is vocab_size x n_embd too",
            ),
            (
                table / (N - table),
                "that divides one table by the rest of the "
                "model; the share is both tables over all the parameters",
            ),
            (
                2 * table / (N - cfg.block_size * cfg.n_embd),
                "that leaves the position table wpe (block_size x n_embd) out "
                "of the parameter count",
            ),
            (
                100 * share,
                "that is a percentage; give the share as a "
                "fraction between 0 and 1",
            ),
            (_share(65), "that is the share with the 65 characters"),
        ],
        advice="count it from the shapes: two tables of vocab_size x "
        "n_embd over num_params of the whole model",
    )


@exercise(4, points=1)
def check_why_bits_per_char(why):
    """why() -> 'a', 'b' or 'c': why loss per token misleads here."""
    questions.choice(
        "why loss per token cannot compare the two tokenizers",
        why,
        "text-per-token",
    )
