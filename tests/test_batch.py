"""What a batch is: its checks, its packing, its arrays, the held-out mean."""

import random

import numpy as np
import pytest

from microgpt.batch import (
    batch_arrays,
    check_batch,
    first_fit,
    mean_loss,
    pack,
    visible,
)
from microgpt.config import ModelConfig

pytestmark = pytest.mark.efficiency

BOS = 26


def doc(n, first=0):
    """A framed document with n predictions: BOS, n - 1 letters, BOS."""
    return [BOS] + [(first + i) % BOS for i in range(n - 1)] + [BOS]


def test_first_fit_takes_the_first_row_with_room():
    rows, offsets, fill = first_fit([5, 4, 3, 6, 2, 1], 8)
    # 5 opens row 0; 4 does not fit there, opens row 1; 3 fits row 0
    # (5 + 3 = 8); 6 opens row 2; 2 goes to row 2 (row 1 has 4 + 2 = 6,
    # but row 1 comes first: 4 + 2 <= 8), then 1 to row 1 as well.
    assert rows == [0, 1, 0, 2, 1, 1]
    assert offsets == [0, 0, 5, 0, 4, 6]
    assert fill == [8, 7, 6]


def test_first_fit_matches_a_plain_search():
    rng = random.Random(0)
    for _ in range(200):
        width = rng.randint(1, 16)
        lengths = [rng.randint(1, width) for _ in range(rng.randint(1, 40))]
        fill, want = [], []
        for n in lengths:  # the definition, with no shortcut
            row = next(
                (r for r, f in enumerate(fill) if f + n <= width), len(fill)
            )
            fill += [0] * (row == len(fill))
            want.append((row, fill[row]))
            fill[row] += n
        rows, offsets, got_fill = first_fit(lengths, width)
        assert list(zip(rows, offsets)) == want
        assert got_fill == fill


@pytest.mark.parametrize(
    "batch",
    [
        [doc(3), doc(5, 1), doc(16, 2), doc(2, 3), doc(7, 4), doc(9, 5)],
        [doc(4, i) for i in range(10)],
        [doc(20), doc(1)],
        [doc(6)],
    ],
    ids=["mixed", "equal", "cut", "one"],
)
def test_every_document_is_in_its_row_once_with_its_own_positions(batch):
    block = 16
    p = pack(batch, block)
    R, T = p.inputs.shape
    assert T <= block and p.counts == [min(block, len(d) - 1) for d in batch]
    assert (p.seq >= 0).sum() == sum(p.counts)  # nothing lost or doubled
    for b, (tokens, n) in enumerate(zip(batch, p.counts)):
        row, col = np.nonzero(p.seq == b)
        assert len(set(row)) == 1 and list(col) == list(
            range(col[0], col[0] + n)
        )  # whole, contiguous, in one row
        assert p.inputs[row, col].tolist() == tokens[:n]
        assert p.targets[row, col].tolist() == tokens[1 : n + 1]
        assert p.positions[row, col].tolist() == list(range(n))
    assert R == len(set(np.nonzero(p.seq >= 0)[0]))  # no empty row


def test_short_documents_share_rows_and_one_document_is_one_row():
    p = pack([doc(3), doc(4), doc(5), doc(3)], 8)
    assert p.inputs.shape == (2, 8) and p.shared
    assert p.seq.tolist() == [[0] * 3 + [1] * 4 + [-1], [2] * 5 + [3] * 3]
    one = pack([doc(6)], 8)
    assert one.inputs.shape == (1, 6) and not one.shared


def test_padding_is_harmless_ids_and_counts_nowhere():
    p = pack([doc(3), doc(7)], 8)
    pad = p.seq < 0
    assert pad.any()
    assert (p.inputs[pad] == 0).all() and (p.targets[pad] == 0).all()


@pytest.mark.parametrize(
    "batch",
    [[[26, 1.5, 26]], [[26, 1, 26], [26, 2.0, 3, 26]]],
    ids=["one-document", "a-batch"],
)
def test_float_ids_are_refused_not_truncated(batch):
    with pytest.raises(ValueError, match="token ids must be integers"):
        pack(batch, 16)


def test_visible_is_a_causal_triangle_per_document():
    p = pack([doc(3), doc(2), doc(9)], 8)
    see = visible(p.seq)
    R, T = p.seq.shape
    for r in range(R):
        for t in range(T):
            for s in range(T):
                same = p.seq[r, t] == p.seq[r, s]
                assert see[r, t, s] == (same and s <= t)
    assert see[:, range(T), range(T)].all()  # no row of the softmax empty


def test_one_document_sees_exactly_the_causal_mask():
    see = visible(pack([doc(5)], 8).seq)
    assert np.array_equal(see[0], np.tri(5, dtype=bool))


@pytest.mark.parametrize(
    "batch, error",
    [
        ([], "no documents: a batch needs at least one"),
        ([doc(3), [BOS]], "a document needs at least 2 tokens"),
    ],
    ids=["empty", "one-token"],
)
def test_bad_batches_are_clear_errors(batch, error):
    with pytest.raises(ValueError, match=error):
        pack(batch, 8)


# -- what every batch must be ----------------------------------------------


@pytest.mark.parametrize(
    "batch, message",
    [
        ([], "no documents: a batch needs at least one"),
        (
            [[26, 1, 26], [26]],
            r"a document needs at least 2 tokens \(BOS and "
            r"a target\), got \[26\]",
        ),
    ],
)
def test_a_batch_without_a_prediction_is_refused(batch, message):
    with pytest.raises(ValueError, match=message):
        check_batch(batch)


def test_the_mean_loss_weighs_each_batch_by_its_predictions():
    def batch_loss(params, batch, cfg):  # every prediction costs its id
        targets = [t for doc in batch for t in doc[1 : cfg.block_size + 1]]
        return sum(targets) / len(targets)

    class Cfg:
        block_size = 2

    docs = [[0, 1, 2, 3], [0, 5], [0, 7, 8]]
    # [1, 2], [5], [7, 8]: five targets' mean, whatever the batch size
    for size in (1, 2, 3):
        assert mean_loss(batch_loss, None, docs, Cfg, size) == 23 / 5


def test_the_arrays_weigh_every_real_prediction_alike_and_padding_not():
    cfg = ModelConfig(vocab_size=27, block_size=8)
    batch = [doc(3), doc(7), doc(4), doc(2)]
    a = batch_arrays(batch, cfg)
    p = pack(batch, cfg.block_size)
    assert np.array_equal(a.weights > 0, p.seq >= 0)
    assert a.weights.sum() == pytest.approx(1.0)
    assert len(set(a.weights[a.weights > 0].tolist())) == 1
    assert a.mask is not None and np.array_equal(a.mask, visible(p.seq))
    assert batch_arrays([doc(5)], cfg).mask is None  # the causal triangle


@pytest.mark.parametrize(
    "batch", [[[26, 27, 26]], [[26, 1, 26], [26, -1, 26]]], ids=["27", "-1"]
)
def test_the_arrays_refuse_ids_outside_the_vocabulary(batch):
    with pytest.raises(ValueError, match=r"token ids must be in \[0, 27\)"):
        batch_arrays(batch, ModelConfig(vocab_size=27, block_size=8))


def test_the_scalar_twin_checks_batches_without_numpy():
    # The scalar twin runs on pure Python (in Pyodide too): checking its
    # batches here must not load NumPy.
    import subprocess
    import sys

    code = (
        "import sys, microgpt.gpt_scalar, microgpt.train; "
        "print('numpy' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True
    )
    assert out.stdout.strip() == "False", out.stderr
