"""Checks for the loss chapter's exercises."""

import math
import random

from .. import gpt_scalar
from ..config import ModelConfig
from ..engine import Value
from . import CheckFailed, check_close, passed, raised

# Logits that a naive exp() would overflow on, or whose target probability
# underflows to 0 in floating point: a stable solution handles them all.
HARD_CASES = [
    ([1000.0, 999.0, 998.0], 2),
    ([-1000.0, -1001.0, -999.5], 0),
    ([0.0, -800.0, 3.0], 1),
]


def _reference_cross_entropy(logits, target):
    """-log softmax(logits)[target], by the stable log-sum-exp."""
    top = max(logits)
    lse = top + math.log(math.fsum(math.exp(z - top) for z in logits))
    return lse - logits[target]


def _random_cases(rng, n, size=27):
    """n (logits, target) pairs of moderate logits."""
    return [([rng.gauss(0, 2) for _ in range(size)], rng.randrange(size))
            for _ in range(n)]


def check_cross_entropy(cross_entropy, seed=0):
    """cross_entropy(logits, target) -> the loss, for a list of floats."""
    rng = random.Random(seed)
    for k, (logits, target) in enumerate(_random_cases(rng, 5)
                                         + HARD_CASES):
        case = f"case {k} (logits {logits[:3]}..., target {target})"
        try:
            got = cross_entropy(list(logits), target)
        except (OverflowError, ValueError, ZeroDivisionError) as e:
            raise CheckFailed(
                f"loss of {case} {raised(e)}; keep the "
                f"exponentials small by subtracting the largest logit, and "
                f"take no log of a probability that may be 0") from e
        expected = _reference_cross_entropy(logits, target)
        check_close(f"loss of {case}", got, expected, tol=1e-9)
    passed("cross-entropy")


def check_cross_entropy_gradient(gradient, seed=0):
    """gradient(logits, target) -> d(loss)/d(logits) as a list of floats."""
    rng = random.Random(seed)
    for k, (logits, target) in enumerate(_random_cases(rng, 5)):
        got = gradient(list(logits), target)
        # The reference: the package's softmax and Value autograd.
        zs = [Value(z) for z in logits]
        (-gpt_scalar.softmax(zs)[target].log()).backward()
        expected = [z.grad for z in zs]
        check_close(f"gradient of case {k} (target {target})", got,
                    expected, tol=1e-9)
    passed("gradient of the cross-entropy")


def check_doc_loss(doc_loss, seed=0):
    """doc_loss(params, tokens, cfg) -> the document's mean loss."""
    rng = random.Random(seed)
    # NOTE: the short context makes the long document get cut, as the
    # package does when a document has more than block_size predictions.
    for cfg, length in ((ModelConfig(), 7), (ModelConfig(), 17),
                        (ModelConfig(block_size=4), 9)):
        params = gpt_scalar.init_params(cfg, rng)
        bos = cfg.vocab_size - 1
        tokens = [bos] + [rng.randrange(bos) for _ in range(length - 2)] \
            + [bos]
        # NOTE: the reference first, and a copy of the tokens to the
        # solution: a right answer may reuse (and change) its inputs.
        expected = gpt_scalar.doc_loss(params, tokens, cfg)
        got = doc_loss(params, list(tokens), cfg)
        check_close(f"loss of a {length}-token document with block_size "
                    f"{cfg.block_size}", got, expected, tol=1e-12)
    passed("loss of a document")
