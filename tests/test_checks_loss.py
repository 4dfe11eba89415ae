"""The loss chapter's checks pass the reference and catch mistakes."""

import math
import random

import pytest

from microgpt import gpt_scalar
from microgpt.checks import CheckFailed
from microgpt.checks import loss as checks
from microgpt.engine import Value

pytestmark = pytest.mark.model


def naive_cross_entropy(logits, target):
    total = sum(math.exp(z) for z in logits)
    return -math.log(math.exp(logits[target]) / total)


def good_gradient(logits, target):
    top = max(logits)
    exps = [math.exp(z - top) for z in logits]
    return [e / sum(exps) - (i == target) for i, e in enumerate(exps)]


def test_checks_pass_the_reference(capsys):
    checks.check_cross_entropy(checks._reference_cross_entropy)
    checks.check_cross_entropy_gradient(good_gradient)
    checks.check_doc_loss(gpt_scalar.doc_loss)
    assert capsys.readouterr().out.count("✓") == 3


def test_reference_loss_matches_the_package_softmax():
    rng = random.Random(5)
    for logits, target in checks._random_cases(rng, 20):
        probs = gpt_scalar.softmax([Value(z) for z in logits])
        package = -probs[target].log()
        assert abs(checks._reference_cross_entropy(logits, target)
                   - package.data) < 1e-12


def test_naive_cross_entropy_fails_on_large_logits():
    # The moderate cases pass; the overflow is what the check must catch.
    with pytest.raises(CheckFailed, match=r"loss of case 5 .* raised "
                                          r"OverflowError"):
        checks.check_cross_entropy(naive_cross_entropy)


def test_log_of_an_underflowed_probability_fails():
    def log_of_softmax(logits, target):
        top = max(logits)
        exps = [math.exp(z - top) for z in logits]
        return -math.log(exps[target] / sum(exps))

    with pytest.raises(CheckFailed, match=r"loss of case 7 .* raised "
                                          r"ValueError"):
        checks.check_cross_entropy(log_of_softmax)


def test_cross_entropy_with_wrong_sign_fails_with_the_case():
    with pytest.raises(CheckFailed, match=r"loss of case 0 \(logits .*, "
                                          r"target \d+\): got -"):
        checks.check_cross_entropy(
            lambda z, y: -checks._reference_cross_entropy(z, y))


def test_gradient_without_the_onehot_fails_at_the_target():
    def softmax_only(logits, target):
        return [g + (i == target)
                for i, g in enumerate(good_gradient(logits, target))]

    rng = random.Random(0)
    _, target = checks._random_cases(rng, 1)[0]
    with pytest.raises(CheckFailed, match=rf"gradient of case 0 \(target "
                                          rf"{target}\)\[{target}\]: got "
                                          r".* \(difference 1,"):
        checks.check_cross_entropy_gradient(softmax_only)


def test_doc_loss_as_a_sum_fails():
    def summed(params, tokens, cfg):
        n = min(cfg.block_size, len(tokens) - 1)
        return n * gpt_scalar.doc_loss(params, tokens, cfg)

    with pytest.raises(CheckFailed, match="loss of a 7-token document"):
        checks.check_doc_loss(summed)


def test_doc_loss_without_the_cut_fails_on_the_long_document():
    def uncut(params, tokens, cfg):
        n = len(tokens) - 1
        cache = gpt_scalar.new_kv_cache(cfg)
        losses = []
        for pos in range(n):
            # NOTE: positions past block_size have no embedding: wrap them
            # so that the mistake shows as a wrong loss, not an IndexError.
            logits = gpt_scalar.gpt(tokens[pos], pos % cfg.block_size,
                                    cache, params, cfg)
            losses.append(-gpt_scalar.softmax(logits)[tokens[pos + 1]].log())
        return (1 / n) * sum(losses)

    with pytest.raises(CheckFailed, match="loss of a 9-token document with "
                                          "block_size 4"):
        checks.check_doc_loss(uncut)


def test_doc_loss_that_consumes_its_tokens_passes(capsys):
    def consuming(params, tokens, cfg):
        loss = gpt_scalar.doc_loss(params, tokens, cfg)
        tokens.reverse()   # changes the caller's list: allowed
        return loss

    checks.check_doc_loss(consuming)
    assert "✓ loss of a document" in capsys.readouterr().out


def test_cross_entropy_raising_without_a_message_reads_well():
    def bare(logits, target):
        raise ValueError

    with pytest.raises(CheckFailed, match=r"loss of case 0 .* raised "
                                          r"ValueError \(with no message\);"):
        checks.check_cross_entropy(bare)
