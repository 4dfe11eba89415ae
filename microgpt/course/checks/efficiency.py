"""Checks for the exercises of the efficiency chapter: graphs and batches."""

import random

import numpy as np

from ... import gpt_numpy, gpt_scalar
from ...batch import batch_arrays, pack
from ...config import ModelConfig
from ...engine import Value, topological_order
from ...params import init_weights
from . import CheckFailed, check_close, passed, questions
from .exercise import exercise

# A small model and a few names of different lengths: one is longer than
# the context, so it is cut, as in training.
CFG = ModelConfig(n_embd=8, n_head=2, block_size=6)
_DOCS = [
    [26, 4, 12, 12, 0, 26],
    [26, 0, 21, 0, 26],
    [26, 8, 18, 0, 1, 4, 11, 11, 0, 26],
    [26, 12, 8, 0, 26],
]


def _graphs():
    """Seeded graphs to count: shared nodes, constants, a real loss."""
    a, b = Value(2.0), Value(-3.0)
    c = a * b  # used twice below: a diamond
    diamond = (c + a) * c
    rng = random.Random(0)
    xs = [Value(rng.gauss(0, 1)) for _ in range(5)]
    chain = sum((x * x for x in xs), Value(0.0)).relu() + 1.5
    params = gpt_scalar.from_weights(init_weights(CFG, random.Random(0)))
    loss = gpt_scalar.batch_loss(params, [_DOCS[1]], CFG)
    return {
        "a diamond (c = a * b used twice)": diamond,
        "a sum of squares with constants": chain,
        "the loss of a 4-token name": loss,
    }


def _paths(root):
    """Nodes counted once per path from root: a shared node many times."""
    counts = {}
    for node in topological_order(root):  # children first
        counts[node] = 1 + sum(counts[c] for c in node._children)
    return counts[root]


@exercise(1, points=1, forbids=(topological_order,))
def check_count_nodes(count_nodes):
    """count_nodes(root) -> the number of distinct Values root depends on."""
    for what, root in _graphs().items():
        expected = len(topological_order(root))  # before the solution runs
        got = count_nodes(root)
        if got != expected:
            hint = (
                "; this is what counting a shared node once per path "
                "to it gives: count each node once"
                if got == _paths(root)
                else ""
            )
            raise CheckFailed(
                f"count_nodes on {what}: got {got!r}, "
                f"expected {expected!r}{hint}"
            )
    passed("count_nodes (3 graphs, up to a model's loss)")


@exercise(2, points=1)
def check_name_share(name_share):
    """name_share() -> emma's share of the batch's loss weight."""
    cfg, tok = ModelConfig(), "abcdefghijklmnopqrstuvwxyz"
    names = ("emma", "ava", "christopher")
    batch = [[26] + [tok.index(ch) for ch in n] + [26] for n in names]
    weights = batch_arrays(batch, cfg).weights
    truth = float(weights[pack(batch, cfg.block_size).seq == 0].sum())
    questions.number(
        "emma's share of the batch's loss",
        name_share,
        truth,
        0.005,
        [
            (
                1 / 3,
                "that is every name counting the same, the mean of the "
                "names' own mean losses; the batched loss is the mean over "
                "every real prediction",
            ),
            (
                1 / 5,
                "that is the weight of one of her predictions in her "
                "own mean loss",
            ),
        ],
    )


def _reference_padding_weights(lengths, T):
    """The reference: 1 / (real predictions) on each real one, else 0."""
    # One document per row, as the exercise pads them; the package
    # packs several to a row instead (see batch.pack), with the same
    # weights.
    weights = np.zeros((len(lengths), T))
    for b, n in enumerate(lengths):
        weights[b, :n] = 1 / sum(lengths)
    return weights


def _mistaken_padding_weights(lengths, expected):
    """Each document's own mean, averaged; or unweighted ones."""
    real = expected > 0
    n = np.array(lengths, dtype=float)[:, None]
    return {
        "averaging the documents' own means (1 / (n * B)) instead of "
        "all the real tokens": real / (n * len(lengths)),
        "not dividing by the number of real tokens": real * 1.0,
    }


@exercise(
    3,
    points=1,
    forbids=(
        batch_arrays,
        _reference_padding_weights,
    ),
)
def check_padding_weights(padding_weights):
    """padding_weights(lengths, T) -> (B, T) per-token loss weights."""
    for lengths, T in (
        ([3, 1, 4], 4),
        ([2, 2], 5),
        ([16], 16),
        ([5, 1, 7, 2, 2, 6], 8),
    ):
        expected = _reference_padding_weights(lengths, T)
        got = np.asarray(padding_weights(list(lengths), T), dtype=float)
        if got.shape != expected.shape:
            raise CheckFailed(
                f"padding_weights({lengths}, {T}) has shape "
                f"{got.shape}, expected {expected.shape}"
            )
        check_close(
            f"padding_weights({lengths}, {T})",
            got,
            expected,
            1e-15,
            axes=("row", "column"),
            mistakes=_mistaken_padding_weights(lengths, expected),
        )
    passed("padding_weights (4 batches)")


@exercise(4, points=2, forbids=(gpt_numpy.loss_and_grads,))
def check_combine_grads(combine_grads):
    """combine_grads(doc_grads, counts) -> the batch's gradient, by name."""
    params = gpt_numpy.from_weights(init_weights(CFG, random.Random(1)))
    doc_grads = [gpt_numpy.loss_and_grads(params, [d], CFG)[1] for d in _DOCS]
    counts = [min(CFG.block_size, len(d) - 1) for d in _DOCS]
    _, expected = gpt_numpy.loss_and_grads(params, _DOCS, CFG)
    got = combine_grads([dict(g) for g in doc_grads], list(counts))
    if not isinstance(got, dict) or set(got) != set(expected):
        raise CheckFailed(
            "combine_grads must return a dict with the "
            f"names {sorted(expected)}"
        )
    for name in expected:
        each = [g[name] for g in doc_grads]
        check_close(
            f"combined gradient of {name}",
            np.asarray(got[name]),
            expected[name],
            1e-12,
            axes=("row", "column"),
            mistakes={
                "weighting every document the same whatever its length": sum(
                    each
                )
                / len(each),
                "a plain sum over the documents": sum(each),
            },
        )
    passed(f"combine_grads ({len(_DOCS)} documents of {counts} predictions)")


@exercise(5, points=2, forbids=(pack,))
def check_packed_positions(packed_positions):
    """packed_positions(seq) -> (R, T) ints, each its own sequence's place.

    Each real position of a packed row holds its place within its own
    sequence, counting from 0; padding holds 0.
    """
    # Rows of 8 positions; the lengths are predictions per document, and
    # the last batch has a row of one document cut to the full width.
    for lengths in (
        [3, 4, 5, 3],
        [2, 2, 2, 2, 2],
        [5, 1, 7, 2, 2, 6],
        [12, 1, 1],
    ):
        p = pack([[0] * (n + 1) for n in lengths], 8)
        what = f"packed_positions for documents of {lengths} predictions"
        got = np.asarray(packed_positions(p.seq.copy()))
        if got.shape != p.positions.shape:
            raise CheckFailed(
                f"{what} has shape {got.shape}, expected {p.positions.shape}"
            )
        wrong = np.argwhere(got != p.positions)
        if len(wrong):
            r, t = wrong[0]
            columns = np.where(p.seq >= 0, np.arange(p.seq.shape[-1]), 0)
            hint = (
                "; this is what the column in the row gives, as if "
                "each row held one document"
                if np.array_equal(got, columns)
                else ""
            )
            raise CheckFailed(
                f"{what}, row {r}, column {t}: got {got[r, t]}, expected "
                f"{p.positions[r, t]} (sequences of the row: "
                f"{p.seq[r].tolist()}; -1 = padding, position 0){hint}"
            )
    passed("packed_positions (4 packed batches)")
