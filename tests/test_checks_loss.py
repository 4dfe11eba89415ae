"""The loss chapter's checks pass the reference and catch mistakes."""

import math
import random

import pytest

from microgpt import gpt_scalar
from microgpt.course.checks import CheckFailed
from microgpt.course.checks import loss as checks
from microgpt.engine import Value

pytestmark = pytest.mark.model


def naive_cross_entropy(logits, target):
    total = sum(math.exp(z) for z in logits)
    return -math.log(math.exp(logits[target]) / total)


def good_cross_entropy(logits, target):
    top = max(logits)
    return (
        top + math.log(sum(math.exp(z - top) for z in logits)) - logits[target]
    )


def letters_loss(params, tokens, cfg, cut=True, mean=True, drop=2):
    # The mean loss of the predictions of a name's letters (drop=2); drop=1
    # keeps the prediction of the closing BOS, the whole document's loss.
    n = len(tokens) - drop
    n = min(cfg.block_size, n) if cut else n
    logits, _ = gpt_scalar.forward(params, tokens[:n], cfg)
    losses = [
        -gpt_scalar.softmax(lg)[y].log() for lg, y in zip(logits, tokens[1:])
    ]
    return (1 / n if mean else 1) * sum(losses)


def good_gradient(logits, target):
    top = max(logits)
    exps = [math.exp(z - top) for z in logits]
    return [e / sum(exps) - (i == target) for i, e in enumerate(exps)]


def test_checks_pass_the_reference(capsys):
    checks.check_cross_entropy(good_cross_entropy)
    checks.check_cross_entropy_gradient(good_gradient)
    checks.check_letters_loss(letters_loss)
    assert capsys.readouterr().out.count("✓") == 3


def test_reference_loss_matches_the_package_softmax():
    rng = random.Random(5)
    for logits, target in checks._random_cases(rng, 20):
        probs = gpt_scalar.softmax([Value(z) for z in logits])
        package = -probs[target].log()
        assert (
            abs(checks._reference_cross_entropy(logits, target) - package.data)
            < 1e-12
        )


def test_naive_cross_entropy_fails_on_large_logits():
    # The moderate cases pass; the overflow is what the check must catch.
    with pytest.raises(
        CheckFailed,
        match=r"loss of case 5 .* raised "
        r"OverflowError",
    ):
        checks.check_cross_entropy(naive_cross_entropy)


def test_log_of_an_underflowed_probability_fails():
    def log_of_softmax(logits, target):
        top = max(logits)
        exps = [math.exp(z - top) for z in logits]
        return -math.log(exps[target] / sum(exps))

    with pytest.raises(
        CheckFailed,
        match=r"loss of case 7 .* raised "
        r"ValueError",
    ):
        checks.check_cross_entropy(log_of_softmax)


def test_cross_entropy_with_wrong_sign_fails_with_the_case():
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 8, exercise 3: loss of "
        r"case 0 \(logits .*, target \d+\): got -.*; this is "
        r"what a wrong sign \(log p, not -log p\) gives$",
    ):
        checks.check_cross_entropy(lambda z, y: -good_cross_entropy(z, y))


def test_cross_entropy_without_the_max_added_back_names_it():
    def shifted(logits, target):
        top = max(logits)
        return (
            math.log(sum(math.exp(z - top) for z in logits)) - logits[target]
        )

    with pytest.raises(
        CheckFailed,
        match=r"loss of case 0 .*; this is what "
        r"leaving the largest logit out of "
        r"the log-sum-exp gives$",
    ):
        checks.check_cross_entropy(shifted)


def test_gradient_without_the_onehot_fails_at_the_target():
    def softmax_only(logits, target):
        return [
            g + (i == target)
            for i, g in enumerate(good_gradient(logits, target))
        ]

    rng = random.Random(0)
    _, target = checks._random_cases(rng, 1)[0]
    with pytest.raises(
        CheckFailed,
        match=rf"gradient of case 0 \(target "
        rf"{target}\) at logit {target}: "
        r"got .* \(difference 1,.*; this "
        r"is what the softmax without the "
        r"1 subtracted at the target "
        r"gives$",
    ):
        checks.check_cross_entropy_gradient(softmax_only)


def test_gradient_with_the_wrong_sign_names_it():
    with pytest.raises(
        CheckFailed,
        match=r"gradient of case 0 .* at logit "
        r"0: .*; this is what a wrong sign "
        r"\(onehot - softmax, not softmax - "
        r"onehot\) gives$",
    ):
        checks.check_cross_entropy_gradient(
            lambda z, y: [-g for g in good_gradient(z, y)]
        )


def test_gradient_by_autograd_is_turned_off():
    def autograd(logits, target):
        zs = [Value(z) for z in logits]
        (-gpt_scalar.softmax(zs)[target].log()).backward()
        return [z.grad for z in zs]

    with pytest.raises(
        CheckFailed,
        match=r"your answer calls "
        r"microgpt.engine.Value.backward",
    ):
        checks.check_cross_entropy_gradient(autograd)


def test_letters_loss_as_a_sum_fails():
    with pytest.raises(
        CheckFailed,
        match=r"letters' loss of a 7-token document with "
        r"block_size 16: got .*; this is "
        r"what summing the losses instead "
        r"of averaging them gives$",
    ):
        checks.check_letters_loss(
            lambda params, tokens, cfg: letters_loss(
                params, tokens, cfg, mean=False
            )
        )


def shifted(shift):
    # The letters' loss with position t scored against tokens[t + shift].
    def letters_loss_shifted(params, tokens, cfg):
        n = min(cfg.block_size, len(tokens) - 2)
        logits, _ = gpt_scalar.forward(params, tokens[:n], cfg)
        losses = [
            -gpt_scalar.softmax(lg)[y].log()
            for lg, y in zip(logits, tokens[shift:])
        ]
        return (1 / n) * sum(losses)

    return letters_loss_shifted


def test_the_colleagues_loss_is_named():
    # Exercise 5's planted mistake: the targets are the inputs.
    with pytest.raises(
        CheckFailed,
        match=r"this is what scoring each "
        r"position against its own input "
        r"token \(the colleague's "
        r"mistake: .* to copy\) gives$",
    ):
        checks.check_letters_loss(shifted(0))


def test_the_right_shift_passes(capsys):
    checks.check_letters_loss(shifted(1))
    assert "✓ loss of a name's letters" in capsys.readouterr().out


def test_the_whole_documents_loss_is_named():
    # The package's loss of the document keeps the closing BOS.
    with pytest.raises(
        CheckFailed,
        match=r"letters' loss of a 7-token document .* this is what "
        r"keeping the prediction of the closing BOS .* gives$",
    ):
        checks.check_letters_loss(
            lambda params, tokens, cfg: letters_loss(
                params, tokens, cfg, drop=1
            )
        )


def test_a_float_is_accepted_as_well_as_a_value(capsys):
    checks.check_letters_loss(
        lambda params, tokens, cfg: letters_loss(params, tokens, cfg).data
    )
    assert "✓ loss of a name's letters" in capsys.readouterr().out


def test_letters_loss_with_a_wrong_sign_is_named():
    with pytest.raises(
        CheckFailed,
        match=r"a wrong sign \(log p, not "
        r"-log p\) gives$",
    ):
        checks.check_letters_loss(
            lambda params, tokens, cfg: -1 * letters_loss(params, tokens, cfg)
        )


def test_letters_loss_divided_by_the_tokens_names_it():
    def per_token(params, tokens, cfg):
        n = min(cfg.block_size, len(tokens) - 2)
        return letters_loss(params, tokens, cfg) * n / len(tokens)

    with pytest.raises(
        CheckFailed,
        match=r"this is what dividing by the "
        r"number of tokens instead of "
        r"predictions gives$",
    ):
        checks.check_letters_loss(per_token)


def test_letters_loss_without_the_cut_fails_on_the_long_document():
    def uncut(params, tokens, cfg):
        n = len(tokens) - 2
        cache = gpt_scalar.new_kv_cache(cfg)
        losses = []
        for pos in range(n):
            # Positions past block_size have no embedding: wrap them
            # so that the mistake shows as a wrong loss, not an IndexError.
            logits = gpt_scalar.gpt(
                tokens[pos], pos % cfg.block_size, cache, params, cfg
            )
            losses.append(-gpt_scalar.softmax(logits)[tokens[pos + 1]].log())
        return (1 / n) * sum(losses)

    with pytest.raises(
        CheckFailed, match="loss of a 19-token document with block_size 16"
    ):
        checks.check_letters_loss(uncut)


def test_letters_loss_that_consumes_its_tokens_passes(capsys):
    def consuming(params, tokens, cfg):
        loss = letters_loss(params, tokens, cfg)
        tokens.reverse()  # changes the caller's list: allowed
        return loss

    checks.check_letters_loss(consuming)
    assert "✓ loss of a name's letters" in capsys.readouterr().out


def test_cross_entropy_raising_without_a_message_reads_well():
    def bare(logits, target):
        raise ValueError

    with pytest.raises(
        CheckFailed,
        match=r"loss of case 0 .* raised "
        r"ValueError \(with no message\), called as bare\(a list of 27 "
        r"items, 6\);",
    ):
        checks.check_cross_entropy(bare)


def test_zero_model_loss_passes_ln_27(capsys):
    checks.check_zero_model_loss(lambda: math.log(27))
    assert "is right (measured 3.296" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (27, "the number of tokens"),
        (1 / 27, "the probability of the target"),
        (math.log2(27), "log base 2"),
        (0, "a loss of 0 means p = 1"),
        (3.0, "too small"),
    ],
)
def test_zero_model_loss_names_the_mistake(wrong, hint):
    with pytest.raises(
        CheckFailed,
        match=rf"^chapter 8, exercise 1: the "
        rf"loss of a model whose weights are all zero: "
        rf".* is .*{hint}",
    ):
        checks.check_zero_model_loss(lambda: wrong)


def test_zero_model_loss_wants_a_number():
    with pytest.raises(CheckFailed, match="expected a number, got 'ln 27'"):
        checks.check_zero_model_loss(lambda: "ln 27")


@pytest.mark.parametrize("letter", ["c", "(c)", " C "])
def test_doubled_logits_passes_the_right_letter(letter, capsys):
    checks.check_doubled_logits(lambda: letter)
    assert "(c) is right" in capsys.readouterr().out


@pytest.mark.parametrize("letter", ["a", "b"])
def test_doubled_logits_wrong_letter_points_at_the_section(letter):
    with pytest.raises(
        CheckFailed,
        match=rf"^chapter 8, exercise 2: .*: "
        rf"not \({letter}\); the mean initial loss is ln 27 "
        rf"\+ var/2.*Why the first loss is close",
    ):
        checks.check_doubled_logits(lambda: letter)


def test_doubled_logits_is_what_the_model_does():
    """The answer the key holds, (c), is what the package measures."""
    cfg = checks.ModelConfig()
    rng = random.Random(42)
    params = checks.gpt_numpy.init_params(cfg, rng)
    frames = [
        [26] + [rng.randrange(26) for _ in range(6)] + [26] for _ in range(100)
    ]

    def mean(p):
        return sum(
            checks.gpt_numpy.batch_loss(p, [f], cfg) for f in frames
        ) / len(frames)

    doubled = dict(params, lm_head=2 * params["lm_head"])
    assert mean(doubled) > mean(params) + 0.02  # (c): it goes up


def test_doubled_logits_rejects_anything_but_a_letter():
    with pytest.raises(
        CheckFailed,
        match=r"answer with one letter, 'a', "
        r"'b', 'c'; got 2",
    ):
        checks.check_doubled_logits(lambda: 2)


def naive_gradient(logits, target):
    exps = [math.exp(z) for z in logits]  # overflows on large logits
    return [e / sum(exps) - (i == target) for i, e in enumerate(exps)]


def test_gradient_with_a_softmax_that_overflows_fails_on_large_logits():
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 8, exercise 4: gradient of case 5 \(logits "
        r"\[1000\.0, 999\.0, 998\.0\], target 2\) raised OverflowError: "
        r".*, called as naive_gradient\(\[1000\.0, 999\.0, 998\.0\], 2\); "
        r"a softmax overflows .* unless it subtracts the largest logit",
    ):
        checks.check_cross_entropy_gradient(naive_gradient)


def test_gradient_that_overflows_to_nan_fails_on_large_logits():
    import numpy as np

    def numpy_naive(logits, target):
        with np.errstate(all="ignore"):
            e = np.exp(np.array(logits))
            p = e / e.sum()
        p[target] -= 1
        return list(p)

    with pytest.raises(
        CheckFailed,
        match=r"gradient of case 5 \(logits \[1000\.0, 999\.0, 998\.0\], "
        r"target 2\): got \[nan, nan, nan\]; a softmax overflows",
    ):
        checks.check_cross_entropy_gradient(numpy_naive)


def test_letters_loss_that_keeps_the_pair_from_forward_is_told_to_unpack():
    def kept_the_pair(params, tokens, cfg):
        n = min(cfg.block_size, len(tokens) - 2)
        logits = gpt_scalar.forward(params, tokens[:n], cfg)  # a pair
        losses = [
            -gpt_scalar.softmax(lg)[y].log()
            for lg, y in zip(logits, tokens[1:])
        ]
        return (1 / n) * sum(losses)

    with pytest.raises(
        CheckFailed,
        match=r"^chapter 8, exercise 5: letters' loss of a 7-token document "
        r"with block_size 16: your answer raised AttributeError: .*, called "
        r"as kept_the_pair\(.*\); if that comes from the logits: "
        r"gpt_scalar.forward returns a pair, \(logits, None\); unpack it",
    ):
        checks.check_letters_loss(kept_the_pair)


def test_letters_loss_without_the_cut_is_told_to_cut():
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 8, exercise 5: letters' loss of a 19-token document "
        r"with block_size 16: your answer raised IndexError: .*; a document "
        r"with more than block_size predictions is cut to its first "
        r"block_size",
    ):
        checks.check_letters_loss(
            lambda params, tokens, cfg: letters_loss(
                params, tokens, cfg, cut=False
            )
        )
