"""The NumPy chapter's checks pass right answers and catch wrong ones."""

import numpy as np
import pytest

from microgpt.course.checks import CheckFailed
from microgpt.course.checks import numpy_backward as checks

pytestmark = pytest.mark.numpy

EPS = 1e-5


def rmsnorm_backward(dout, x, eps=EPS):
    C = x.shape[-1]
    scale = ((x * x).sum(-1, keepdims=True) / C + eps) ** -0.5
    y = x * scale
    return scale * (dout - y * (dout * y).sum(-1, keepdims=True) / C)


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
    checks.check_rmsnorm_backward(rmsnorm_backward)
    checks.check_relu_backward(relu_backward)
    checks.check_embedding_backward(embedding_backward)
    checks.check_softmax_backward(softmax_backward)
    assert capsys.readouterr().out.count("✓") == 4


# -- rmsnorm ----------------------------------------------------------------


def test_rmsnorm_without_the_scale_path_fails():
    # Treating the scale as a constant: the most common slip.
    def constant_scale(dout, x):
        C = x.shape[-1]
        return dout * ((x * x).sum(-1, keepdims=True) / C + EPS) ** -0.5

    with pytest.raises(CheckFailed, match=r"^chapter 11, exercise 3: dx for "
                       r"x of shape \(1, 3, 4\) and scale 1 at document 0, "
                       r"position \d, channel \d: got .* \(difference.*; "
                       r"this is what taking the scale as a constant \(no "
                       r"gradient through the mean square\) gives$"):
        checks.check_rmsnorm_backward(constant_scale)


def test_rmsnorm_without_eps_fails():
    # eps = 1e-5 shifts the gradient by ~1e-5 relative at unit scale, far
    # above the tolerance, and by a lot at scale 1e-3.
    with pytest.raises(CheckFailed, match=r"scale 1 at document \d, position "
                       r"\d, channel \d: got .*; this is what leaving out "
                       r"eps \(1e-5\) gives$"):
        checks.check_rmsnorm_backward(
            lambda dout, x: rmsnorm_backward(dout, x, eps=0.0))


def test_rmsnorm_of_wrong_shape_fails():
    with pytest.raises(CheckFailed, match=r"expected shape \(1, 3, 4\), got "
                                          r"\(3, 4\)"):
        checks.check_rmsnorm_backward(
            lambda dout, x: rmsnorm_backward(dout, x)[0])


def test_rmsnorm_returning_nothing_fails():
    with pytest.raises(CheckFailed, match="got None"):
        checks.check_rmsnorm_backward(lambda dout, x: None)


# -- relu -------------------------------------------------------------------


def test_relu_passing_gradient_at_zero_fails_and_says_so():
    with pytest.raises(CheckFailed, match=r"^chapter 11, exercise 2: dx for "
                       r"x of shape \(1, 3, 4\) at document 0, position 0, "
                       r"channel 0: got .* at an input of 0\.0 .*; this is "
                       r"what x >= 0 gives: relu passes no gradient at an "
                       r"input of exactly 0, so use x > 0$"):
        checks.check_relu_backward(lambda dout, x: dout * (x >= 0))


def test_relu_returning_the_mask_fails():
    with pytest.raises(CheckFailed, match=r"wrong entries in all\); this is "
                                          r"what the mask alone, without "
                                          r"dout, gives$"):
        checks.check_relu_backward(lambda dout, x: (x > 0) * 1.0)


# -- embedding --------------------------------------------------------------


def test_embedding_with_fancy_index_add_loses_repeats():
    def buffered(dout, idx, vocab_size, block_size):
        dwte = np.zeros((vocab_size, dout.shape[-1]))
        dwte[idx] += dout  # a repeated id keeps only one update
        dwpe = np.zeros((block_size, dout.shape[-1]))
        dwpe[:dout.shape[1]] = dout.sum(0)
        return dwte, dwpe

    with pytest.raises(CheckFailed, match=r"dwte for idx of shape \(1, 4\), "
                       r"the row of token \d+: largest difference .*; token "
                       r"\d+ occurs \d+ times in idx"):
        checks.check_embedding_backward(buffered)


def test_embedding_with_dwpe_from_one_document_fails():
    def first_doc_only(dout, idx, vocab_size, block_size):
        dwte, dwpe = embedding_backward(dout, idx, vocab_size, block_size)
        dwpe[:dout.shape[1]] = dout[0]
        return dwte, dwpe

    with pytest.raises(CheckFailed, match=r"dwpe for idx of shape \(2, 5\) "
                       r"at position 0, channel 0: got .*; this is what "
                       r"taking the first document's gradient instead of the"
                       r" sum over the documents gives$"):
        checks.check_embedding_backward(first_doc_only)


def test_embedding_with_dwpe_only_for_used_positions_fails_on_shape():
    def short_dwpe(dout, idx, vocab_size, block_size):
        dwte, _ = embedding_backward(dout, idx, vocab_size, block_size)
        return dwte, dout.sum(0)

    with pytest.raises(CheckFailed, match=r"dwpe for idx of shape \(1, 4\):"
                                          r" expected shape \(6, 3\), got "
                                          r"\(4, 3\)"):
        checks.check_embedding_backward(short_dwpe)


def test_embedding_returning_one_array_fails():
    with pytest.raises(CheckFailed, match="return a tuple"):
        checks.check_embedding_backward(
            lambda dout, idx, V, block: embedding_backward(
                dout, idx, V, block)[0])


# -- softmax ----------------------------------------------------------------


def test_softmax_backward_with_only_the_diagonal_fails():
    # att * (1 - att) * datt keeps the Jacobian's diagonal only.
    with pytest.raises(CheckFailed, match=r"dscores for attention weights "
                       r"of shape \(1, 1, 4, 4\) at document 0, head 0, "
                       r"query \d+, key \d+: got .*; this is what keeping "
                       r"only the diagonal of the softmax's Jacobian, "
                       r"att \* \(1 - att\) \* datt, gives$"):
        checks.check_softmax_backward(
            lambda datt, att: att * (1 - att) * datt)


def test_softmax_backward_summing_the_wrong_axis_fails():
    with pytest.raises(CheckFailed, match=r"dscores for attention weights .*"
                                          r"; this is what a sum over the "
                                          r"wrong axis \(the queries, not "
                                          r"the keys\) gives$"):
        checks.check_softmax_backward(
            lambda datt, att: att * (datt - (datt * att).sum(
                -2, keepdims=True)))


def test_rmsnorm_dot_passes_zero(capsys):
    checks.check_rmsnorm_dot(lambda: 0)
    assert "0 is right" in capsys.readouterr().out


def test_rmsnorm_dot_with_dout_in_place_of_dx_gets_the_hint():
    gen = np.random.default_rng(1)
    x, dout = gen.standard_normal((2, 2, 5, 16))
    wrong = float(np.abs((x * dout).sum(-1)).max())
    with pytest.raises(CheckFailed, match=r"^chapter 11, exercise 1: the "
                       r"largest \|sum over c of x_c dx_c\|: .* is not it; "
                       r"that is the sum of x_c dout_c"):
        checks.check_rmsnorm_dot(lambda: wrong)


def test_rmsnorm_dot_of_one_is_too_large():
    with pytest.raises(CheckFailed, match=r"1 is too large"):
        checks.check_rmsnorm_dot(lambda: 1.0)
