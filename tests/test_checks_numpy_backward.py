"""The NumPy chapter's checks pass right answers and catch wrong ones."""

import numpy as np
import pytest

from microgpt.course.checks import CheckFailed
from microgpt.course.checks import numpy_backward as checks

pytestmark = pytest.mark.numpy

EPS = 1e-5


def layernorm_backward(dout, x, eps=EPS):
    xc = x - x.mean(-1, keepdims=True)
    inv = ((xc * xc).mean(-1, keepdims=True) + eps) ** -0.5
    y = xc * inv
    return inv * (
        dout
        - dout.mean(-1, keepdims=True)
        - y * (dout * y).mean(-1, keepdims=True)
    )


def relu_backward(dout, x):
    return dout * (x > 0)


def embedding_backward(dout, idx, vocab_size, block_size):
    B, T, C = dout.shape
    dwte = np.zeros((vocab_size, C))
    np.add.at(dwte, idx, dout)
    dwpe = np.zeros((block_size, C))
    dwpe[:T] = dout.sum(0)
    return dwte, dwpe


def softmax_backward(datt, att):
    return att * (datt - (datt * att).sum(-1, keepdims=True))


def test_checks_pass_right_answers(capsys):
    checks.check_layernorm_backward(layernorm_backward)
    checks.check_relu_backward(relu_backward)
    checks.check_embedding_backward(embedding_backward)
    checks.check_softmax_backward(softmax_backward, lambda: [0, 1, 2, 3])
    out = capsys.readouterr().out
    assert out.count("✓") == 4
    assert "wrong in rows [0, 1, 2, 3] of 4 (as you predicted)" in out


# -- layernorm --------------------------------------------------------------


def test_the_layernorm_reference_agrees_with_central_differences():
    gen = np.random.default_rng(3)
    x, dout = gen.standard_normal((2, 2, 3, 6)) + [[[[2.0]]], [[[0.0]]]]

    def loss(x):
        xc = x - x.mean(-1, keepdims=True)
        return (
            dout * xc / np.sqrt((xc * xc).mean(-1, keepdims=True) + EPS)
        ).sum()

    h, numeric = 1e-6, np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        numeric[i] = (loss(up) - loss(down)) / (2 * h)
    assert np.allclose(
        checks._reference_layernorm_backward(dout, x),
        numeric,
        rtol=0,
        atol=1e-7,
    )


def _centred(x):
    return x - x.mean(-1, keepdims=True)


def _inv(x, eps=EPS):
    xc = _centred(x)
    return ((xc * xc).mean(-1, keepdims=True) + eps) ** -0.5


@pytest.mark.parametrize(
    "answer, mistake",
    [
        (
            lambda dout, x: (
                _inv(x)
                * (
                    dout
                    - _centred(x)
                    * _inv(x)
                    * (dout * _centred(x) * _inv(x)).mean(-1, keepdims=True)
                )
            ),
            r"RMSNorm's formula on the centred input \(no gradient through "
            r"the mean\)",
        ),
        (
            lambda dout, x: _inv(x) * (dout - dout.mean(-1, keepdims=True)),
            "leaving out the path through the standard deviation",
        ),
        (
            lambda dout, x: _inv(x) * dout,
            "taking the mean and the standard deviation as constants",
        ),
        (
            lambda dout, x: layernorm_backward(dout, x, eps=0.0),
            r"leaving out eps \(1e-5\)",
        ),
    ],
)
def test_each_typical_layernorm_mistake_is_named(answer, mistake):
    with pytest.raises(
        CheckFailed,
        match=rf"^chapter 11, exercise 3: dx for "
        rf"x of shape \(1, 3, 4\).*; this is what {mistake} "
        rf"gives$",
    ):
        checks.check_layernorm_backward(answer)


def test_layernorm_of_wrong_shape_or_nothing_fails():
    with pytest.raises(
        CheckFailed,
        match=r"expected shape \(1, 3, 4\), got "
        r"\(3, 4\)",
    ):
        checks.check_layernorm_backward(
            lambda dout, x: layernorm_backward(dout, x)[0]
        )
    with pytest.raises(CheckFailed, match="got None"):
        checks.check_layernorm_backward(lambda dout, x: None)


# -- relu -------------------------------------------------------------------


def test_relu_passing_gradient_at_zero_fails_and_says_so():
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 11, exercise 2: dx for "
        r"x of shape \(1, 3, 4\) at document 0, position 0, "
        r"channel 0: got .* at an input of 0\.0 .*; this is "
        r"what x >= 0 gives: relu passes no gradient at an "
        r"input of exactly 0, so use x > 0$",
    ):
        checks.check_relu_backward(lambda dout, x: dout * (x >= 0))


def test_relu_returning_the_mask_fails():
    with pytest.raises(
        CheckFailed,
        match=r"wrong entries in all\); this is "
        r"what the mask alone, without "
        r"dout, gives$",
    ):
        checks.check_relu_backward(lambda dout, x: (x > 0) * 1.0)


# -- embedding --------------------------------------------------------------


def test_embedding_with_fancy_index_add_loses_repeats():
    def buffered(dout, idx, vocab_size, block_size):
        dwte = np.zeros((vocab_size, dout.shape[-1]))
        dwte[idx] += dout  # a repeated id keeps only one update
        dwpe = np.zeros((block_size, dout.shape[-1]))
        dwpe[: dout.shape[1]] = dout.sum(0)
        return dwte, dwpe

    with pytest.raises(
        CheckFailed,
        match=r"dwte for idx of shape \(1, 4\), "
        r"the row of token \d+: largest difference .*; token "
        r"\d+ occurs \d+ times in idx",
    ):
        checks.check_embedding_backward(buffered)


def test_embedding_with_dwpe_from_one_document_fails():
    def first_doc_only(dout, idx, vocab_size, block_size):
        dwte, dwpe = embedding_backward(dout, idx, vocab_size, block_size)
        dwpe[: dout.shape[1]] = dout[0]
        return dwte, dwpe

    with pytest.raises(
        CheckFailed,
        match=r"dwpe for idx of shape \(2, 5\) "
        r"at position 0, channel 0: got .*; this is what "
        r"taking the first document's gradient instead of the"
        r" sum over the documents gives$",
    ):
        checks.check_embedding_backward(first_doc_only)


def test_embedding_with_dwpe_only_for_used_positions_fails_on_shape():
    def short_dwpe(dout, idx, vocab_size, block_size):
        dwte, _ = embedding_backward(dout, idx, vocab_size, block_size)
        return dwte, dout.sum(0)

    with pytest.raises(
        CheckFailed,
        match=r"dwpe for idx of shape \(1, 4\):"
        r" expected shape \(6, 3\), got "
        r"\(4, 3\)",
    ):
        checks.check_embedding_backward(short_dwpe)


def test_embedding_returning_one_array_fails():
    with pytest.raises(CheckFailed, match="return a tuple"):
        checks.check_embedding_backward(
            lambda dout, idx, V, block: embedding_backward(
                dout, idx, V, block
            )[0]
        )


# -- softmax ----------------------------------------------------------------


def test_softmax_backward_with_only_the_diagonal_fails():
    # att * (1 - att) * datt keeps the Jacobian's diagonal only.
    with pytest.raises(
        CheckFailed,
        match=r"dscores for attention weights "
        r"of shape \(1, 1, 4, 4\) at document 0, head 0, "
        r"query \d+, key \d+: got .*; this is what keeping "
        r"only the diagonal of the softmax's Jacobian, "
        r"att \* \(1 - att\) \* datt, gives$",
    ):
        checks.check_softmax_backward(
            lambda datt, att: att * (1 - att) * datt, lambda: []
        )


def test_the_broken_version_handed_out_fails_naming_the_wrong_axis():
    with pytest.raises(
        CheckFailed,
        match=r"dscores for attention weights .*"
        r"; this is what a sum over the "
        r"wrong axis \(the queries, not "
        r"the keys\) gives$",
    ):
        checks.check_softmax_backward(
            checks.broken_softmax_backward, lambda: [1, 2, 3]
        )


def test_the_broken_version_is_right_on_one_position_only():
    gen = np.random.default_rng(0)
    one = np.ones((2, 3, 1, 1))
    datt = gen.standard_normal(one.shape)
    assert np.array_equal(
        checks.broken_softmax_backward(datt, one), softmax_backward(datt, one)
    )
    assert checks._broken_rows() == [0, 1, 2, 3]


def test_a_wrong_prediction_is_reported_not_graded(capsys):
    checks.check_softmax_backward(softmax_backward, lambda: [1, 2, 3])
    out = capsys.readouterr().out
    assert "wrong in rows [0, 1, 2, 3] of 4 (you predicted [1, 2, 3])" in out
    assert "✓" in out


def test_a_prediction_that_is_not_rows_fails():
    with pytest.raises(
        CheckFailed,
        match=r"predicted_wrong_rows\(\): "
        r"expected a list of row numbers",
    ):
        checks.check_softmax_backward(softmax_backward, lambda: None)


def test_rmsnorm_dot_passes_zero(capsys):
    checks.check_rmsnorm_dot(lambda: 0)
    assert "0 is right" in capsys.readouterr().out


def test_rmsnorm_dot_with_dout_in_place_of_dx_gets_the_hint():
    gen = np.random.default_rng(1)
    x, dout = gen.standard_normal((2, 2, 5, 16))
    wrong = float(np.abs((x * dout).sum(-1)).max())
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 11, exercise 1: the "
        r"largest \|sum over c of x_c dx_c\|: .* is not it; "
        r"that is the sum of x_c dout_c",
    ):
        checks.check_rmsnorm_dot(lambda: wrong)


def test_rmsnorm_dot_of_one_is_too_large():
    with pytest.raises(CheckFailed, match=r"1 is too large"):
        checks.check_rmsnorm_dot(lambda: 1.0)
