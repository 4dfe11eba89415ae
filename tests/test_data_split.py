"""Documents as the model takes them: the held-out split and the checks."""

import pytest

from microgpt import data

pytestmark = pytest.mark.data


# -- the held-out split -------------------------------------------------------


def test_a_split_is_a_seeded_partition_in_file_order():
    docs = [f"name{i}" for i in range(50)]
    train_docs, val_docs = data.split_docs(docs, 0.2, seed=7)
    assert len(val_docs) == 10 and len(train_docs) == 40
    assert sorted(train_docs + val_docs) == sorted(docs)
    assert train_docs == [d for d in docs if d not in val_docs]
    assert val_docs == [d for d in docs if d in val_docs]  # file order
    assert data.split_docs(docs, 0.2, seed=7) == (train_docs, val_docs)
    assert data.split_docs(docs, 0.2, seed=8)[1] != val_docs


def test_a_split_draws_from_its_own_generator():
    import random
    random.seed(1)
    before = random.random()
    random.seed(1)
    data.split_docs(["a", "b", "c", "d"], 0.5)
    assert random.random() == before  # the global stream is untouched


def test_the_default_split_of_names_is_fixed(docs):
    train_docs, val_docs = data.split_docs(docs, 0.1)
    assert (len(train_docs), len(val_docs)) == (28830, 3203)
    assert val_docs[:3] == ["olivia", "avery", "victoria"]


@pytest.mark.parametrize("fraction", [0, 1, -0.1, 1.5, float("nan"), True,
                                      "0.1"])
def test_a_fraction_outside_zero_to_one_is_refused(fraction):
    with pytest.raises(ValueError, match="between 0 and 1"):
        data.split_docs(["a", "b", "c"], fraction)


def test_a_split_keeps_at_least_one_of_each():
    assert len(data.split_docs(["a", "b", "c"], 0.01)[1]) == 1
    with pytest.raises(ValueError, match="leaves none to train on"):
        data.split_docs(["a", "b"], 0.9)


# -- what every batch of documents must be ---------------------------------


@pytest.mark.parametrize("batch, message", [
    ([], "no documents: a batch needs at least one"),
    ([[26, 1, 26], [26]], r"a document needs at least 2 tokens \(BOS and "
     r"a target\), got \[26\]")])
def test_a_batch_without_a_prediction_is_refused(batch, message):
    with pytest.raises(ValueError, match=message):
        data.check_docs(batch)


def test_the_mean_loss_weighs_each_batch_by_its_predictions():
    def batch_loss(params, batch, cfg):  # every prediction costs its id
        targets = [t for doc in batch for t in doc[1:cfg.block_size + 1]]
        return sum(targets) / len(targets)

    class Cfg:
        block_size = 2

    docs = [[0, 1, 2, 3], [0, 5], [0, 7, 8]]
    # [1, 2], [5], [7, 8]: five targets' mean, whatever the batch size
    for size in (1, 2, 3):
        assert data.mean_loss(batch_loss, None, docs, Cfg, size) == 23 / 5
