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


def linear_in_out(x, w):
    return [
        sum(x[i] * w[i][j] for i in range(len(x))) for j in range(len(w[0]))
    ]


def test_tiny_input_passes_the_right_letter(capsys):
    blocks.check_tiny_input(lambda: "a")
    blocks.check_tiny_input(lambda: " (A) ")
    assert capsys.readouterr().out.count("✓ rmsnorm of sixteen") == 2


@pytest.mark.parametrize(
    "wrong, hint",
    [
        ("b", "that is what it gives without epsilon"),
        ("c", "rmsnorm still rescales its input"),
    ],
)
def test_tiny_input_wrong_letters_get_their_hint(wrong, hint):
    with pytest.raises(
        CheckFailed,
        match=rf"^chapter 5, exercise 1: "
        rf"rmsnorm of sixteen entries of 1e-4: not "
        rf"\({wrong}\); {hint}.*\(see 'RMSNorm'\)$",
    ):
        blocks.check_tiny_input(lambda: wrong)


def test_tiny_input_must_be_a_letter():
    with pytest.raises(CheckFailed, match=r"answer with one letter"):
        blocks.check_tiny_input(lambda: 0.03)


def test_tiny_input_holds_no_readable_answer():
    import inspect

    source = inspect.getsource(blocks.check_tiny_input)
    assert not any(
        f'"{x}"' in source or f"'{x}'" in source
        for letter in "abc"
        for x in (letter, f"({letter})")
    )


def test_linear_in_out_passes_the_reference(capsys):
    blocks.check_linear_in_out(linear_in_out)
    assert "✓ linear_in_out" in capsys.readouterr().out


def test_linear_in_out_through_the_transpose_passes(capsys):
    from microgpt.gpt_scalar import linear

    blocks.check_linear_in_out(
        lambda x, w: linear(x, [list(c) for c in zip(*w)])
    )
    assert "✓ linear_in_out" in capsys.readouterr().out


def test_linear_in_out_in_the_chapters_layout_fails_with_the_shape():
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 5, exercise 2: "
        r"linear_in_out with w of shape \(3, 5\): expected "
        r"5 numbers, one per column of w, got 3, one per "
        r"row: that is the chapter's \(out, in\) layout",
    ):
        blocks.check_linear_in_out(linear)


def test_linear_in_out_in_the_chapters_layout_on_a_square_names_it():
    def square_only(x, w):
        if len(w) != len(w[0]):
            return linear_in_out(x, w)
        return linear(x, w)

    with pytest.raises(
        CheckFailed,
        match=r"shape \(16, 16\) at output 0"
        r": .*; this is what the chapter's \(out, in\) "
        r"layout \(w's rows taken as outputs\) gives$",
    ):
        blocks.check_linear_in_out(square_only)


def test_linear_in_out_off_by_one_fails_at_an_output():
    def shifted(x, w):
        out = linear_in_out(x, w)
        return out[1:] + out[:1]

    with pytest.raises(
        CheckFailed,
        match=r"w of shape \(3, 5\) at output "
        r"0: got",
    ):
        blocks.check_linear_in_out(shifted)


def test_log_softmax_passes_the_stable_reference(capsys):
    blocks.check_log_softmax(log_softmax)
    assert "✓ log_softmax" in capsys.readouterr().out


def test_log_softmax_naive_fails_on_large_logits():
    def naive(z):
        total = sum(math.exp(zi) for zi in z)
        return [math.log(math.exp(zi) / total) for zi in z]

    with pytest.raises(
        CheckFailed,
        match=r"log_softmax\(\[1000.0, 999.0, "
        r"998.0\]\) raised OverflowError",
    ):
        blocks.check_log_softmax(naive)


def test_log_softmax_forgetting_the_max_back_fails_at_a_position():
    def shifted(z):
        top = max(z)
        lse = math.log(sum(math.exp(zi - top) for zi in z))
        return [zi - lse for zi in z]

    with pytest.raises(
        CheckFailed,
        match=r"log_softmax\(\[.*\]\) at logit 0"
        r": got .*; this is what leaving the largest logit "
        r"out of the log-sum-exp gives$",
    ):
        blocks.check_log_softmax(shifted)


def test_log_softmax_returning_probabilities_names_the_mistake():
    def probabilities(z):
        return [math.exp(y) for y in log_softmax(z)]

    with pytest.raises(
        CheckFailed,
        match=r"this is what returning the "
        r"softmax instead of its log "
        r"gives$",
    ):
        blocks.check_log_softmax(probabilities)


def test_layernorm_passes_the_reference(capsys):
    blocks.check_layernorm(layernorm)
    assert "✓ layernorm" in capsys.readouterr().out


def test_layernorm_without_centering_fails_on_values():
    def rms_only(x):
        ms = sum(xi * xi for xi in x) / len(x)
        return [xi * (ms + 1e-5) ** -0.5 for xi in x]

    with pytest.raises(
        CheckFailed,
        match=r"layernorm of 2 values at output "
        r"\d: got .*; this is what no centering \(that is "
        r"RMSNorm\) gives$",
    ):
        blocks.check_layernorm(rms_only)


def test_layernorm_without_eps_names_the_mistake():
    def no_eps(x):
        mean = sum(x) / len(x)
        centered = [xi - mean for xi in x]
        var = sum(c * c for c in centered) / len(x)
        return [c * var**-0.5 for c in centered]

    with pytest.raises(
        CheckFailed,
        match=r"this is what leaving out eps "
        r"gives$",
    ):
        blocks.check_layernorm(no_eps)


def test_layernorm_with_the_sample_variance_names_the_mistake():
    def divided_by_n_minus_1(x):
        mean = sum(x) / len(x)
        centered = [xi - mean for xi in x]
        var = sum(c * c for c in centered) / (len(x) - 1)
        return [c * (var + 1e-5) ** -0.5 for c in centered]

    with pytest.raises(
        CheckFailed,
        match=r"^chapter 5, exercise 4: layernorm of 2 values at output "
        r"0: .*this is what dividing by n - 1 \(the sample variance; "
        r"LayerNorm's variance is the mean square of the centred values, "
        r"divided by n\) gives$",
    ):
        blocks.check_layernorm(divided_by_n_minus_1)


def test_layernorm_with_a_constant_mean_fails_on_gradients():
    def detached_mean(x):
        mean = sum(xi.data for xi in x) / len(x)  # a float: no gradient
        return layernorm_with(x, mean)

    with pytest.raises(
        CheckFailed,
        match=r"gradient of layernorm of 2 "
        r"values w.r.t. x at input \d: got .*; this is what a "
        r"mean computed from .data \(a plain number, which "
        r"passes no gradient\) gives$",
    ):
        blocks.check_layernorm(detached_mean)


def test_layernorm_on_floats_fails_asking_for_values():
    def floats(x):
        return [y.data for y in layernorm(x)]

    with pytest.raises(
        CheckFailed,
        match=r"layernorm of 2 values: expected "
        r"a list of Values",
    ):
        blocks.check_layernorm(floats)


def test_an_exception_with_a_message_keeps_it():
    def broken(z):
        raise ValueError("write log_softmax")

    with pytest.raises(
        CheckFailed,
        match=r"^chapter 5, exercise 3: "
        r"log_softmax\(\[.*\]\) raised "
        r"ValueError: write log_softmax, called as "
        r"broken\(\[1\.8834308093613288\]\)$",
    ):
        blocks.check_log_softmax(broken)


def test_an_exception_without_a_message_reads_well():
    def bare(z):
        raise ValueError

    with pytest.raises(
        CheckFailed,
        match=r"raised ValueError \(with no "
        r"message\), called as bare\(\[.*\]\)$",
    ):
        blocks.check_log_softmax(bare)
