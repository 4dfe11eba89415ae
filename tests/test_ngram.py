"""The count-based n-gram baselines of chapter 8."""

import math

import pytest

from microgpt import ngram
from microgpt.data import Tokenizer, split_docs

BOS = 0


def test_contexts_pad_with_bos_and_cover_every_prediction():
    ids = [BOS, 1, 2, BOS]  # BOS a b BOS
    assert ngram.contexts(ids, 1, BOS) == [((), 1), ((), 2), ((), BOS)]
    assert ngram.contexts(ids, 2, BOS) == [((BOS,), 1), ((1,), 2), ((2,), BOS)]
    assert ngram.contexts(ids, 3, BOS) == [
        ((BOS, BOS), 1),
        ((BOS, 1), 2),
        ((1, 2), BOS),
    ]


def test_a_loss_by_hand():
    # Train on "ab" once; score "ab" with the bigram model and alpha = 1.
    # After BOS: a was seen once out of 1, so p = (1 + 1) / (1 + 3).
    train = [[BOS, 1, 2, BOS]]
    expected = -3 * math.log(2 / 4) / 3
    assert ngram.held_out_loss(train, train, 2, 1.0, 3, BOS) == pytest.approx(
        expected
    )


def test_an_unseen_context_gives_the_uniform_distribution():
    loss = ngram.held_out_loss(
        [[BOS, 1, BOS]], [[BOS, 2, 2, BOS]], 3, 0.5, 3, BOS
    )
    # (BOS, BOS) was seen with next token 1, not 2: the first prediction
    # is (0 + 0.5) / (1 + 1.5); the other two contexts are new: 1/3 each.
    expected = -(math.log(0.5 / 2.5) + 2 * math.log(1 / 3)) / 3
    assert loss == pytest.approx(expected)


def test_probabilities_of_a_context_sum_to_one():
    train = [[BOS, 1, 2, BOS], [BOS, 1, 1, BOS], [BOS, 2, BOS]]
    pairs, totals = ngram.count(train, 2, BOS)
    for context in totals:
        total = sum(
            (pairs[context, b] + 0.1) / (totals[context] + 0.3)
            for b in range(3)
        )
        assert total == pytest.approx(1.0)


@pytest.mark.parametrize("n, alpha", [(0, 1.0), (2, 0.0), (2, -1.0)])
def test_bad_arguments_are_refused(n, alpha):
    with pytest.raises(ValueError):
        ngram.held_out_loss([[BOS, 1, BOS]], [[BOS, 1, BOS]], n, alpha, 3, BOS)


def test_no_predictions_is_an_error():
    with pytest.raises(ValueError, match="no predictions"):
        ngram.held_out_loss([[BOS, 1, BOS]], [], 2, 1.0, 3, BOS)


@pytest.mark.data
def test_the_held_out_losses_chapter_8_prints(docs):
    train_docs, val_docs = split_docs(docs, 0.1)
    tok = Tokenizer.from_docs(docs)
    losses = ngram.table(train_docs, val_docs, tok)
    rounded = {key: round(loss, 3) for key, loss in losses.items()}
    assert rounded == {
        (1, 1.0): 2.833,
        (1, 0.1): 2.833,
        (2, 1.0): 2.468,
        (2, 0.1): 2.468,
        (3, 1.0): 2.251,
        (3, 0.1): 2.240,
        (4, 1.0): 2.201,
        (4, 0.1): 2.113,
    }
