"""The efficiency chapter's exercise checks pass right answers, fail wrong."""

import numpy as np
import pytest

from microgpt.course.checks import CheckFailed, efficiency

pytestmark = pytest.mark.efficiency


def count_nodes(root):
    seen, stack = {root}, [root]
    while stack:
        for child in stack.pop()._children:
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return len(seen)


def count_paths(root):
    # Wrong: a node reached along two paths is counted twice.
    return 1 + sum(count_paths(c) for c in root._children)


def padding_weights(lengths, T):
    weights = np.zeros((len(lengths), T))
    for b, n in enumerate(lengths):
        weights[b, :n] = 1
    return weights / sum(lengths)


def padding_weights_per_doc(lengths, T):
    # Wrong: the mean of the documents' means, not of all their tokens.
    weights = np.zeros((len(lengths), T))
    for b, n in enumerate(lengths):
        weights[b, :n] = 1 / (n * len(lengths))
    return weights


def combine_grads(doc_grads, counts):
    total = sum(counts)
    return {
        name: sum(n / total * g[name] for g, n in zip(doc_grads, counts))
        for name in doc_grads[0]
    }


def combine_grads_plain_mean(doc_grads, counts):
    # Wrong: every document weighs the same, whatever its length.
    return {
        name: sum(g[name] for g in doc_grads) / len(doc_grads)
        for name in doc_grads[0]
    }


def test_count_nodes_passes_the_reference(capsys):
    efficiency.check_count_nodes(count_nodes)
    assert "✓ count_nodes" in capsys.readouterr().out


def test_counting_paths_fails_on_the_diamond():
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 13, exercise 1: "
        r"count_nodes on a diamond .*: got 9, expected 5; "
        r"this is what counting a shared node once per path "
        r"to it gives: count each node once$",
    ):
        efficiency.check_count_nodes(count_paths)


def test_counting_one_too_few_fails_without_a_hint():
    with pytest.raises(
        CheckFailed,
        match=r"count_nodes on a diamond .*: "
        r"got 4, expected 5$",
    ):
        efficiency.check_count_nodes(lambda root: count_nodes(root) - 1)


def test_padding_weights_passes_the_reference(capsys):
    efficiency.check_padding_weights(padding_weights)
    assert "✓ padding_weights" in capsys.readouterr().out


def test_per_document_weights_fail_with_the_position():
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 13, exercise 3: "
        r"padding_weights\(\[3, 1, 4\], 4\) at row 0, column 0"
        r": got .*difference.*; this is what averaging the "
        r"documents' own means \(1 / \(n \* B\)\) instead of "
        r"all the real tokens gives$",
    ):
        efficiency.check_padding_weights(padding_weights_per_doc)


def test_padding_weights_of_ones_name_the_missing_division():
    with pytest.raises(
        CheckFailed,
        match=r"at row 0, column 0: got 1\.0, "
        r".*; this is what not dividing by"
        r" the number of real tokens "
        r"gives$",
    ):
        efficiency.check_padding_weights(
            lambda lengths, T: padding_weights(lengths, T) * sum(lengths)
        )


def test_padding_weights_of_the_wrong_shape_fail():
    with pytest.raises(
        CheckFailed,
        match=r"has shape \(3, 3\), expected "
        r"\(3, 4\)",
    ):
        efficiency.check_padding_weights(
            lambda lengths, T: padding_weights(lengths, T)[:, :-1]
        )


def test_combine_grads_passes_the_reference(capsys):
    efficiency.check_combine_grads(combine_grads)
    assert "✓ combine_grads" in capsys.readouterr().out


def test_a_plain_mean_of_gradients_fails():
    with pytest.raises(
        CheckFailed,
        match=r"combined gradient of \w+ at row "
        r"\d+, column \d+: got .*difference"
        r".*; this is what weighting every"
        r" document the same whatever its "
        r"length gives$",
    ):
        efficiency.check_combine_grads(combine_grads_plain_mean)


def test_a_plain_sum_of_gradients_names_it():
    with pytest.raises(
        CheckFailed,
        match=r"this is what a plain sum over "
        r"the documents gives$",
    ):
        efficiency.check_combine_grads(
            lambda doc_grads, counts: {
                name: sum(g[name] for g in doc_grads) for name in doc_grads[0]
            }
        )


def test_combine_grads_must_return_every_name():
    with pytest.raises(CheckFailed, match="must return a dict"):
        efficiency.check_combine_grads(
            lambda doc_grads, counts: {"wte": doc_grads[0]["wte"]}
        )


def packed_positions(docs):
    T = docs.shape[-1]
    starts = np.ones(docs.shape, bool)  # where a new run begins
    starts[:, 1:] = docs[:, 1:] != docs[:, :-1]
    first = np.maximum.accumulate(np.where(starts, np.arange(T), 0), -1)
    return np.where(docs >= 0, np.arange(T) - first, 0)


def packed_positions_by_column(docs):
    # Wrong: the column in the row, as if each row held one document.
    return np.where(docs >= 0, np.arange(docs.shape[-1]), 0)


def test_packed_positions_pass_the_reference(capsys):
    efficiency.check_packed_positions(packed_positions)
    assert "✓ packed_positions" in capsys.readouterr().out


def test_row_columns_fail_where_the_second_document_starts():
    with pytest.raises(
        CheckFailed,
        match=r"row 0, column 3: got 3, "
        r"expected 0 \(sequences of the row: "
        r"\[0, 0, 0, 1, 1, 1, 1, -1\]; "
        r"-1 = padding, position 0\); "
        r"this is what the column in the "
        r"row gives, as if each row held "
        r"one document$",
    ):
        efficiency.check_packed_positions(packed_positions_by_column)


def test_positions_counted_into_the_padding_fail():
    with pytest.raises(
        CheckFailed,
        match=r"row 0, column 7: got 4, "
        r"expected 0",
    ):
        efficiency.check_packed_positions(
            lambda docs: np.where(
                docs >= 0,
                packed_positions(docs),
                np.arange(docs.shape[-1]) - 3,
            )
        )


def test_positions_of_the_wrong_shape_fail():
    with pytest.raises(
        CheckFailed,
        match=r"has shape \(8,\), expected "
        r"\(2, 8\)",
    ):
        efficiency.check_packed_positions(
            lambda docs: packed_positions(docs)[0]
        )


def test_name_share_passes_five_of_twenty_one(capsys):
    efficiency.check_name_share(lambda: 5 / 21)
    assert "is right (measured 0.2381" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (1 / 3, "every name counting the same"),
        (1 / 5, "the weight of one of her predictions"),
        (4 / 19, "too small"),
    ],
)
def test_name_share_names_the_mistake(wrong, hint):
    with pytest.raises(
        CheckFailed,
        match=rf"^chapter 13, exercise 2: "
        rf"emma's share of the batch's loss: .*{hint}",
    ):
        efficiency.check_name_share(lambda: wrong)
