"""What a batch is: token sequences checked once, packed and laid out.

A batch is a list of token sequences, each a document framed as BOS, its
tokens, BOS; one document is a batch of one. This module checks a batch,
packs it into rows, and lays it out as the arrays both fast twins take.
It also holds the held-out mean, which runs a twin's loss over many
sequences a batch at a time.

One document per row spends a third of a batch of names on padding: a
name has about seven tokens to predict, and its row is as long as the
longest in the batch. Packing fills each row of up to block_size
positions with as many sequences as fit. Each keeps its own positions
(0, 1, ...) and attends only to itself, so the model computes for every
sequence exactly what it would compute for it alone; the batch only has
fewer rows and less padding.

Two things are left out on purpose. A sequence is never split across
rows, so a row holds a whole number of sequences. The batch is never
reordered to fill rows better: first fit in batch order is simple and
deterministic, and within a few rows of the best packing.

NumPy is imported by the functions that make arrays, not at the top: the
scalar twin checks its batches here too, and it runs on pure Python (in
a browser's Pyodide as well) without loading NumPy.
"""

import itertools
from typing import NamedTuple

from .config import EVAL_BATCH

# -- checking ---------------------------------------------------------------


def check_batch(batch):
    """Raise ValueError unless batch holds sequences with a target each."""
    if len(batch) == 0:
        raise ValueError("no documents: a batch needs at least one")
    for tokens in batch:
        if len(tokens) < 2:
            raise ValueError(
                f"a document needs at least 2 tokens (BOS "
                f"and a target), got {list(tokens)!r}"
            )


def as_ids(tokens):
    """tokens as an array of intp; ValueError unless they are integers."""
    import numpy as np

    ids = np.asarray(tokens)
    # Indexing with a float id would truncate it to an integer without a
    # word, so a float is refused here instead.
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
        raise ValueError(
            f"token ids must be in [0, {vocab_size}), "
            f"got {ids.min()}..{ids.max()}"
        )
    return ids


def check_length(T, cfg):
    """Raise ValueError unless T positions fit in cfg.block_size."""
    if T > cfg.block_size:
        raise ValueError(
            f"{T} positions do not fit in block_size {cfg.block_size}"
        )


def predictions(batch, cfg):
    """How many targets each sequence predicts: at most block_size."""
    # As in the original, a sequence longer than the context is cut to
    # its first block_size predictions.
    return [min(cfg.block_size, len(tokens) - 1) for tokens in batch]


# -- packing ----------------------------------------------------------------


class Packed(NamedTuple):
    """A packed batch: every array is (rows, T), T <= block_size."""

    inputs: object  # token ids; 0 on padding
    targets: object  # the next token's id; 0 on padding
    positions: object  # position in its own sequence; 0 on padding
    seq: object  # the index of its sequence in the batch; -1 on padding
    counts: list  # the predictions of each sequence, in batch order

    @property
    def shared(self):
        """True if some row holds more than one sequence."""
        return len(self.seq) < len(self.counts)


def first_fit(lengths, width):
    """Each length's row and offset, first fit in order; each row's fill."""
    rows, offsets, fill = [], [], []
    smallest = min(lengths, default=0)
    open_rows = []  # the rows that may still take a sequence
    for n in lengths:
        for row in open_rows:
            if fill[row] + n <= width:
                break
        else:  # no open row has room, so a new one starts
            row = len(fill)
            fill.append(0)
            open_rows.append(row)
        rows.append(row)
        offsets.append(fill[row])
        fill[row] += n
        if fill[row] + smallest > width:  # the row is full: stop looking
            open_rows.remove(row)
    return rows, offsets, fill


def pack(batch, block_size):
    """Token sequences (BOS, ..., BOS) -> a Packed batch of whole ones.

    The batch is checked here (see check_batch); its ids are checked
    against the vocabulary by batch_arrays, which knows its size.
    """
    import numpy as np

    check_batch(batch)
    counts = [min(block_size, len(tokens) - 1) for tokens in batch]
    if len(batch) == 1:
        # One sequence, the original's step, is the common case. As one
        # row it needs no search and a handful of NumPy calls, far fewer
        # than the general case below.
        n = counts[0]
        ids = as_ids(batch[0][: n + 1])[None]  # (1, n + 1)
        return Packed(
            ids[:, :-1],
            ids[:, 1:],
            np.arange(n)[None],
            np.zeros((1, n), np.intp),
            counts,
        )
    rows, offsets, fill = first_fit(counts, block_size)
    # The layout is computed on whole arrays, not in a loop over the
    # sequences: a batch holds many short ones, and a few NumPy calls for
    # each would cost more than packing saves. N counts the real
    # positions of the batch.
    n = np.array(counts)  # (B,)
    seq = np.repeat(np.arange(len(n)), n)  # (N,)
    positions = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)  # (N,)
    # Every sequence's tokens lie end to end in one array. A sequence's
    # input at position t is its token t, and the target is token t + 1.
    tokens = as_ids(list(itertools.chain.from_iterable(batch)))
    lengths = np.array([len(s) for s in batch])  # (B,)
    src = (np.cumsum(lengths) - lengths)[seq] + positions  # (N,)
    at = (np.array(rows)[seq], np.array(offsets)[seq] + positions)
    shape = (len(fill), max(fill))
    out = Packed(
        np.zeros(shape, np.intp),
        np.zeros(shape, np.intp),
        np.zeros(shape, np.intp),
        np.full(shape, -1, np.intp),
        counts,
    )
    values = (tokens[src], tokens[src + 1], positions, seq)
    for array, value in zip(out, values):
        array[at] = value
    return out


def visible(seq):
    """(R, T, T) bool: True where position t may attend to position s.

    seq is a Packed batch's (R, T) sequence index. A position sees its
    own sequence and not its future: one causal triangle per sequence on
    the diagonal of the row. Padding (index -1) sees only padding, never
    a real token, and no real token sees it.
    """
    import numpy as np

    same = seq[:, :, None] == seq[:, None, :]  # (R, T, T)
    return same & np.tri(seq.shape[-1], dtype=bool)


# -- the arrays the fast twins take ------------------------------------------


class Arrays(NamedTuple):
    """A checked, packed batch as the arrays a fast twin's step takes.

    Every array is (R, T) except mask, which is (R, T, T), or None when
    the causal triangle is enough. The twins' forward takes these as its
    tokens and checks nothing more: they were checked when made.
    """

    inputs: object  # token ids; 0 on padding
    targets: object  # the next token's id; 0 on padding
    weights: object  # 1 / (real predictions); 0 on padding
    positions: object  # position in its own sequence
    mask: object  # (R, T, T) bool, True where a position may attend


def batch_arrays(batch, cfg):
    """Check a batch, pack it and lay it out as the fast twins' Arrays."""
    p = pack(batch, cfg.block_size)
    # A row is at most block_size long by construction, so the length
    # needs no check; the ids are checked once here, inputs and targets.
    check_ids(p.inputs, cfg.vocab_size)
    check_ids(p.targets, cfg.vocab_size)
    # The weights are 0 on padding and 1 / (number of real predictions)
    # elsewhere, so the weighted sum of the losses is their mean over
    # the real tokens.
    weights = (p.seq >= 0) / sum(p.counts)  # (R, T)
    # When every sequence has a row of its own (always, for one), its
    # padding comes after it, where the causal triangle already hides it.
    mask = visible(p.seq) if p.shared else None  # (R, T, T)
    return Arrays(p.inputs, p.targets, weights, p.positions, mask)


# -- the held-out mean -------------------------------------------------------


def mean_loss(batch_loss, params, seqs, cfg, batch_size=EVAL_BATCH):
    """Mean loss per predicted token over seqs, batch_size at a time.

    batch_loss(params, batch, cfg) is a twin's mean over a batch's
    predictions, so each batch weighs as many predictions as it has.
    Each sequence is cut to block_size predictions, as in training.
    """
    seqs = list(seqs)
    check_batch(seqs)
    total, count = 0.0, 0
    for start in range(0, len(seqs), batch_size):
        batch = seqs[start : start + batch_size]
        n = sum(predictions(batch, cfg))
        total += float(batch_loss(params, batch, cfg)) * n
        count += n
    return total / count
