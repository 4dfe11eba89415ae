"""The building-blocks chapter's exercise checks pass right, fail wrong."""

import math

import pytest

from microgpt.course.checks import CheckFailed, blocks

pytestmark = pytest.mark.model


def linear(x, w):
    return [sum(wi * xi for wi, xi in zip(row, x)) for row in w]


def log_softmax(z):
    top = max(z)
    lse = top + math.log(sum(math.exp(zi - top) for zi in z))
    return [zi - lse for zi in z]


def layernorm_with(x, mean):
    centered = [xi - mean for xi in x]
    var = sum(c * c for c in centered) / len(x)
    return [c * (var + 1e-5) ** -0.5 for c in centered]


def layernorm(x):
    return layernorm_with(x, sum(x) / len(x))


def test_linear_passes_the_reference(capsys):
    blocks.check_linear(linear)
    assert "✓ linear" in capsys.readouterr().out


def test_linear_transposed_fails_with_the_shape():
    def transposed(x, w):
        return [sum(w[i][j] * x[i] for i in range(len(w)))
                for j in range(len(w[0]))]
    with pytest.raises(CheckFailed, match=r"w of shape \(3, 5\): expected 3 "
                       r"numbers, one per row of w, got 5, one per column: "
                       r"is w used transposed\?$"):
        blocks.check_linear(transposed)


def test_linear_off_by_one_row_fails_at_an_output():
    def shifted(x, w):
        out = linear(x, w)
        return out[1:] + out[:1]
    with pytest.raises(CheckFailed, match=r"w of shape \(3, 5\) at output "
                                          r"0: got"):
        blocks.check_linear(shifted)


def test_log_softmax_passes_the_stable_reference(capsys):
    blocks.check_log_softmax(log_softmax)
    assert "✓ log_softmax" in capsys.readouterr().out


def test_log_softmax_naive_fails_on_large_logits():
    def naive(z):
        total = sum(math.exp(zi) for zi in z)
        return [math.log(math.exp(zi) / total) for zi in z]
    with pytest.raises(CheckFailed, match=r"log_softmax\(\[1000.0, 999.0, "
                       r"998.0\]\) raised OverflowError"):
        blocks.check_log_softmax(naive)


def test_log_softmax_forgetting_the_max_back_fails_at_a_position():
    def shifted(z):
        top = max(z)
        lse = math.log(sum(math.exp(zi - top) for zi in z))
        return [zi - lse for zi in z]
    with pytest.raises(CheckFailed, match=r"log_softmax\(\[.*\]\) at logit 0"
                       r": got .*; this is what leaving the largest logit "
                       r"out of the log-sum-exp gives$"):
        blocks.check_log_softmax(shifted)


def test_log_softmax_returning_probabilities_names_the_mistake():
    def probabilities(z):
        return [math.exp(y) for y in log_softmax(z)]
    with pytest.raises(CheckFailed, match=r"this is what returning the "
                                          r"softmax instead of its log "
                                          r"gives$"):
        blocks.check_log_softmax(probabilities)


def test_layernorm_passes_the_reference(capsys):
    blocks.check_layernorm(layernorm)
    assert "✓ layernorm" in capsys.readouterr().out


def test_layernorm_without_centering_fails_on_values():
    def rms_only(x):
        ms = sum(xi * xi for xi in x) / len(x)
        return [xi * (ms + 1e-5) ** -0.5 for xi in x]
    with pytest.raises(CheckFailed, match=r"layernorm of 2 values at output "
                       r"\d: got .*; this is what no centering \(that is "
                       r"RMSNorm\) gives$"):
        blocks.check_layernorm(rms_only)


def test_layernorm_without_eps_names_the_mistake():
    def no_eps(x):
        mean = sum(x) / len(x)
        centered = [xi - mean for xi in x]
        var = sum(c * c for c in centered) / len(x)
        return [c * var ** -0.5 for c in centered]
    with pytest.raises(CheckFailed, match=r"this is what leaving out eps "
                                          r"gives$"):
        blocks.check_layernorm(no_eps)


def test_layernorm_with_a_constant_mean_fails_on_gradients():
    def detached_mean(x):
        mean = sum(xi.data for xi in x) / len(x)  # a float: no gradient
        return layernorm_with(x, mean)
    with pytest.raises(CheckFailed, match=r"gradient of layernorm of 2 "
                       r"values w.r.t. x at input \d: got .*; this is what a "
                       r"mean computed from .data \(a plain number, which "
                       r"passes no gradient\) gives$"):
        blocks.check_layernorm(detached_mean)


def test_layernorm_on_floats_fails_asking_for_values():
    def floats(x):
        return [y.data for y in layernorm(x)]
    with pytest.raises(CheckFailed, match=r"layernorm of 2 values: expected "
                       r"a list of Values"):
        blocks.check_layernorm(floats)


def test_an_exception_with_a_message_keeps_it():
    def broken(z):
        raise ValueError("write log_softmax")

    with pytest.raises(CheckFailed, match=r"^chapter 5, exercise 2: "
                                          r"log_softmax\(\[.*\]\) raised "
                                          r"ValueError: write log_softmax$"):
        blocks.check_log_softmax(broken)


def test_an_exception_without_a_message_reads_well():
    def bare(z):
        raise ValueError

    with pytest.raises(CheckFailed, match=r"raised ValueError \(with no "
                                          r"message\)$"):
        blocks.check_log_softmax(bare)
