"""The NumPy primer's schematic shows the splits NumPy computes."""

import matplotlib
import numpy as np
import pytest

from microgpt.figures import draw, numpy_primer

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def texts(fig):
    return [t.get_text() for t in fig.findobj(plt.Text) if t.get_text()]


def test_the_splits_are_numpys_and_only_the_right_one_keeps_rows():
    x, right, wrong = numpy_primer.head_splits(3, 2, 2)
    assert x.tolist() == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    assert right.tolist() == [
        [[0, 1], [4, 5], [8, 9]],
        [[2, 3], [6, 7], [10, 11]],
    ]
    assert wrong.tolist() == [
        [[0, 1], [2, 3], [4, 5]],
        [[6, 7], [8, 9], [10, 11]],
    ]
    assert numpy_primer.first_mixed(right, 4) is None
    assert numpy_primer.first_mixed(wrong, 4) == (0, 1)


def test_the_layers_head_split_is_the_right_one():
    # The package splits a batch of rows (B, T, C) the same way.
    from microgpt.layers_numpy import split_heads

    x, right, _ = numpy_primer.head_splits(4, 2, 2)
    assert np.array_equal(split_heads(x[None], 2)[0], right)


@pytest.mark.parametrize("shape", [(3, 2, 2), (4, 2, 2), (5, 4, 1), (2, 2, 1)])
def test_the_picture_shows_every_number_and_clips_nothing(shape):
    T, n_head, head_dim = shape
    fig = numpy_primer.head_reshape(T, n_head, head_dim)
    shown = texts(fig)
    numbers = [s for s in shown if s.isdigit()]
    # Each number appears in x and in both splits.
    assert sorted(numbers, key=int) == sorted(
        [str(v) for v in range(T * n_head * head_dim)] * 3, key=int
    )
    assert draw.layout_problems(fig) == []
    assert fig.get_size_inches()[0] <= draw.MAX_WIDTH


def test_the_verdict_names_the_first_mixed_row():
    shown = " ".join(texts(numpy_primer.head_reshape()))
    assert "x.reshape(3, 2, 2).transpose(1, 0, 2)" in shown
    assert "x.reshape(2, 3, 2)" in shown
    assert "head 0, row 1\nholds pos 0's numbers" in shown


@pytest.mark.parametrize("shape", [(6, 2, 2), (3, 1, 4), (3, 2, 3)])
def test_a_shape_without_room_is_refused(shape):
    with pytest.raises(ValueError, match="has room for"):
        numpy_primer.head_reshape(*shape)
