"""Packing a batch: several documents to a row, none seeing another.

One document per row spends a third of a batch of names on padding: a
name has about seven tokens to predict, and its row is as long as the
longest in the batch. Packing fills each row of up to block_size
positions with as many documents as fit. Each keeps its own positions
(0, 1, ...) and attends only to itself, so the model computes for every
document exactly what it would compute for it alone; the batch only has
fewer rows and less padding.
Both fast twins batch this way.

Left out on purpose: splitting a document across rows (a row is a whole
number of documents), and reordering the batch to fill rows better (first
fit in batch order is simple, deterministic and within a few rows of best).
"""

import itertools
from typing import NamedTuple

import numpy as np

from .data import check_docs


class Packed(NamedTuple):
    """A packed batch: every array is (rows, T), T <= block_size."""

    inputs: np.ndarray     # token ids; 0 on padding
    targets: np.ndarray    # the next token's id; 0 on padding
    positions: np.ndarray  # position in its own document; 0 on padding
    docs: np.ndarray       # index of the document in the batch; -1 = pad
    counts: list           # predictions per document, in batch order

    @property
    def shared(self):
        """True if some row holds more than one document."""
        return len(self.docs) < len(self.counts)


def as_ids(tokens):
    """tokens as an array of intp; ValueError unless they are integers."""
    ids = np.asarray(tokens)
    # Indexing would truncate a float id to an int without a word.
    if ids.dtype.kind not in "iu":
        raise ValueError(f"token ids must be integers, got {ids.dtype}")
    return ids.astype(np.intp, copy=False)


def check_ids(tokens, vocab_size):
    """as_ids(tokens), and ValueError unless all are in [0, vocab_size)."""
    if len(tokens) == 0:
        raise ValueError("no token ids: a document needs at least one")
    ids = as_ids(tokens)
    # A negative id would silently index from the end of wte.
    if ids.min() < 0 or ids.max() >= vocab_size:
        raise ValueError(f"token ids must be in [0, {vocab_size}), "
                         f"got {ids.min()}..{ids.max()}")
    return ids


def check_length(T, cfg):
    """Raise ValueError unless T positions fit in cfg.block_size."""
    if T > cfg.block_size:
        raise ValueError(f"{T} positions do not fit in block_size "
                         f"{cfg.block_size}")


def first_fit(lengths, width):
    """Each length's row and offset, first fit in order; each row's fill."""
    rows, offsets, fill = [], [], []
    smallest = min(lengths, default=0)
    open_rows = []  # rows that may still take a document
    for n in lengths:
        for row in open_rows:
            if fill[row] + n <= width:
                break
        else:  # no open row has room: start a new one
            row = len(fill)
            fill.append(0)
            open_rows.append(row)
        rows.append(row)
        offsets.append(fill[row])
        fill[row] += n
        if fill[row] + smallest > width:  # full: stop looking there
            open_rows.remove(row)
    return rows, offsets, fill


def pack(batch, block_size):
    """Token lists (BOS, ..., BOS) -> a Packed batch of whole documents."""
    # As in the original, a document longer than the context is cut to
    # its first block_size predictions.
    check_docs(batch)
    counts = [min(block_size, len(tokens) - 1) for tokens in batch]
    if len(batch) == 1:
        # One document, the original's step, is the common case: as one
        # row it needs no search and a handful of numpy calls, far fewer
        # than the general case below.
        n = counts[0]
        ids = as_ids(batch[0][:n + 1])[None]                  # (1, n + 1)
        return Packed(ids[:, :-1], ids[:, 1:], np.arange(n)[None],
                      np.zeros((1, n), np.intp), counts)
    rows, offsets, fill = first_fit(counts, block_size)
    # In whole arrays, not a loop over documents: a batch holds many short
    # documents, and a few numpy calls for each would cost more than
    # packing saves. N counts the real positions of the batch.
    n = np.array(counts)                                     # (B,)
    docs = np.repeat(np.arange(len(n)), n)                   # (N,)
    positions = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    # Every document's tokens end to end in one array; a document's
    # input at position t is its token t, and the target is token t + 1.
    tokens = as_ids(list(itertools.chain.from_iterable(batch)))
    lengths = np.array([len(doc) for doc in batch])
    src = (np.cumsum(lengths) - lengths)[docs] + positions  # (N,)
    at = (np.array(rows)[docs], np.array(offsets)[docs] + positions)
    shape = (len(fill), max(fill))
    out = Packed(np.zeros(shape, np.intp), np.zeros(shape, np.intp),
                 np.zeros(shape, np.intp), np.full(shape, -1, np.intp),
                 counts)
    for array, values in zip(out, (tokens[src], tokens[src + 1],
                                   positions, docs)):
        array[at] = values
    return out


def visible(docs):
    """(R, T, T) bool: True where position t may attend to position s."""
    # The same document, and not in its future: one causal triangle per
    # document on the diagonal of the row. Padding (doc -1) sees only
    # padding, never a real token, and no real token sees it.
    same = docs[:, :, None] == docs[:, None, :]     # (R, T, T)
    return same & np.tri(docs.shape[-1], dtype=bool)


def batch_arrays(batch, cfg):
    """Inputs, targets, loss weights, positions and mask of a batch.

    The arrays a fast twin's step takes, all (R, T) but the (R, T, T)
    mask, which is None when the causal triangle is enough.
    """
    # The documents are packed, several to a row (see pack). The
    # weights are 0 on padding and 1 / (number of real predictions)
    # elsewhere, so the loss is the mean over real tokens.
    p = pack(batch, cfg.block_size)
    check_ids(p.targets, cfg.vocab_size)  # forward checks the inputs
    weights = (p.docs >= 0) / sum(p.counts)                  # (R, T)
    # When every document has a row of its own (always, for one), its
    # padding comes after it, where the causal triangle already hides it.
    mask = visible(p.docs) if p.shared else None             # (R, T, T)
    return p.inputs, p.targets, weights, p.positions, mask
