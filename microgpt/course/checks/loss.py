"""Checks for the loss chapter's exercises and questions."""

import math
import random

import numpy as np

from ... import gpt_numpy, gpt_scalar
from ... import layers_numpy as layers
from ...config import ModelConfig
from ...engine import Value
from . import CheckFailed, check_close, passed, questions, raised
from .exercise import exercise

# Names as token ids (BOS is 26): a model with all weights zero gives each
# of them the same loss, whatever their letters.
_FRAMES = (
    [26, 4, 12, 12, 0, 26],
    [26, 24, 20, 7, 4, 13, 6, 26],
    [26, 9, 14, 26],
)


@exercise(1, points=1)
def check_zero_model_loss(zero_model_loss):
    """zero_model_loss() -> the predicted loss of an all-zero model."""
    cfg = ModelConfig()
    params = {
        k: np.zeros_like(w)
        for k, w in gpt_numpy.init_params(cfg, random.Random(0)).items()
    }
    truth = float(
        np.mean([gpt_numpy.batch_loss(params, [f], cfg) for f in _FRAMES])
    )
    section = 'see "From logits to a loss"'
    questions.number(
        "the loss of a model whose weights are all zero",
        zero_model_loss,
        truth,
        0.01,
        [
            (
                27,
                f"that is the number of tokens; the loss is -log p of the "
                f"target, {section}",
            ),
            (
                1 / 27,
                f"that is the probability of the target; the loss is "
                f"-log p, {section}",
            ),
            (
                math.log2(27),
                "that is log base 2 (bits); the book's loss uses "
                "the natural log (nats)",
            ),
            (
                0,
                "a loss of 0 means p = 1 for the target; what probability "
                "does a model with all logits 0 give each of the 27 tokens?",
            ),
        ],
    )


@exercise(2, points=1)
def check_doubled_logits(doubled_logits):
    """doubled_logits() -> 'a', 'b' or 'c'."""
    hint = (
        "the mean initial loss is ln 27 + var/2 + a luck term; work "
        "out what doubling every logit does to the variance, and see "
        '"Why the first loss is close to ln 27"'
    )
    questions.choice(
        "the initial loss with the logits doubled",
        doubled_logits,
        "microgpt ch08 doubled logits",
        hint=hint,
    )


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
    return [
        ([rng.gauss(0, 2) for _ in range(size)], rng.randrange(size))
        for _ in range(n)
    ]


def _mistaken_losses(logits, expected):
    """What the loss gives with a wrong sign, or the max not added back."""
    return {
        "a wrong sign (log p, not -log p)": -expected,
        "leaving the largest logit out of the log-sum-exp": expected
        - max(logits),
    }


@exercise(
    3,
    points=1,
    forbids=(
        layers.cross_entropy_forward,
        _reference_cross_entropy,
    ),
)
def check_cross_entropy(cross_entropy, seed=0):
    """cross_entropy(logits, target) -> the loss, for a list of floats."""
    rng = random.Random(seed)
    for k, (logits, target) in enumerate(_random_cases(rng, 5) + HARD_CASES):
        case = f"case {k} (logits {logits[:3]}..., target {target})"
        expected = _reference_cross_entropy(logits, target)
        try:
            got = cross_entropy(list(logits), target)
        except (OverflowError, ValueError, ZeroDivisionError) as e:
            raise CheckFailed(
                f"loss of {case} {raised(e)}; keep the "
                f"exponentials small by subtracting the largest logit, and "
                f"take no log of a probability that may be 0"
            ) from e
        check_close(
            f"loss of {case}",
            got,
            expected,
            tol=1e-9,
            mistakes=_mistaken_losses(logits, expected),
        )
    passed("cross-entropy")


def _mistaken_gradients(target, expected):
    """The gradient without its one-hot, or with the wrong sign."""
    return {
        "the softmax without the 1 subtracted at the target": [
            g + (i == target) for i, g in enumerate(expected)
        ],
        "a wrong sign (onehot - softmax, not softmax - onehot)": [
            -g for g in expected
        ],
    }


@exercise(4, points=2, forbids=(layers.cross_entropy_backward, Value.backward))
def check_cross_entropy_gradient(gradient, seed=0):
    """gradient(logits, target) -> d(loss)/d(logits) as a list of floats."""
    rng = random.Random(seed)
    # The hard cases overflow math.exp, or underflow every exponential
    # to 0.0, in a softmax that does not subtract the largest logit.
    cases = _random_cases(rng, 5) + HARD_CASES[:2]
    for k, (logits, target) in enumerate(cases):
        # The reference: the package's softmax and Value autograd.
        zs = [Value(z) for z in logits]
        (-gpt_scalar.softmax(zs)[target].log()).backward()
        expected = [z.grad for z in zs]
        case = (
            f"case {k} (target {target})"
            if k < 5
            else f"case {k} (logits {logits}, target {target})"
        )
        overflow = (
            "; a softmax overflows (or divides 0 by 0) on "
            "large logits unless it subtracts the largest logit "
            "before exponentiating"
        )
        try:
            got = gradient(list(logits), target)
        except (OverflowError, ValueError, ZeroDivisionError) as e:
            raise CheckFailed(f"gradient of {case} {raised(e)}{overflow}")
        shown = got.tolist() if hasattr(got, "tolist") else got
        if isinstance(shown, (list, tuple)) and any(
            isinstance(g, float) and not math.isfinite(g) for g in shown
        ):
            shown = [float(g) for g in shown]
            raise CheckFailed(f"gradient of {case}: got {shown!r}{overflow}")
        check_close(
            f"gradient of {case}",
            got,
            expected,
            tol=1e-9,
            axes=("logit",),
            mistakes=_mistaken_gradients(target, expected),
        )
    passed("gradient of the cross-entropy")


def _letters_loss(params, tokens, cfg, targets=1, cut=2):
    """The mean loss over the first n positions, n = min(block_size,
    len(tokens) - cut), position t scored against tokens[t + targets]:
    targets=1, cut=2 is the right answer (the letters only), targets=0
    is the colleague's mistake and cut=1 keeps the closing BOS."""
    n = min(cfg.block_size, len(tokens) - cut)
    logits, _ = gpt_scalar.forward(params, tokens[:n], cfg)
    losses = [
        -gpt_scalar.softmax(lg)[y].log()
        for lg, y in zip(logits, tokens[targets:])
    ]
    return ((1 / n) * sum(losses)).data


_FORWARD_PAIR = (
    "if that comes from the logits: gpt_scalar.forward returns a pair, "
    "(logits, None); unpack it, logits, _ = gpt_scalar.forward(params, "
    "inputs, cfg)"
)
_UNCUT = (
    "a document with more than block_size predictions is cut to its "
    "first block_size, since the position embedding wpe has block_size "
    "rows and position block_size has none"
)


def _mistaken_letters_losses(params, tokens, cfg, n, expected):
    """The typical mistakes: the planted one, the closing BOS kept, a sum,
    a wrong sign, a wrong divisor."""
    return {
        "scoring each position against its own input token (the "
        "colleague's mistake: the model sees that token, so the loss "
        "falls towards 0 and training teaches it to copy)": _letters_loss(
            params, tokens, cfg, targets=0
        ),
        "keeping the prediction of the closing BOS (that is the loss of "
        "the whole document; the letters' predictions are the positions "
        "before the last)": _letters_loss(params, tokens, cfg, cut=1),
        "a wrong sign (log p, not -log p)": -expected,
        "summing the losses instead of averaging them": n * expected,
        "dividing by the number of tokens instead of predictions": expected
        * n
        / len(tokens),
    }


@exercise(
    5, points=2, forbids=(gpt_scalar.batch_loss, gpt_scalar.loss_and_grads)
)
def check_letters_loss(letters_loss, seed=0):
    """letters_loss(params, tokens, cfg) -> the letters' mean loss."""
    rng = random.Random(seed)
    # The short context makes the long document get cut, as the
    # package does when a document has more than block_size predictions.
    for cfg, length in (
        (ModelConfig(), 7),
        (ModelConfig(), 17),
        (ModelConfig(), 19),
        (ModelConfig(block_size=4), 9),
    ):
        params = gpt_scalar.init_params(cfg, rng)
        bos = cfg.vocab_size - 1
        tokens = (
            [bos] + [rng.randrange(bos) for _ in range(length - 2)] + [bos]
        )
        # The reference first, and a copy of the tokens to the
        # solution: a right answer may reuse (and change) its inputs.
        expected = _letters_loss(params, tokens, cfg)
        n = min(cfg.block_size, length - 2)
        what = (
            f"letters' loss of a {length}-token document with "
            f"block_size {cfg.block_size}"
        )
        try:
            got = letters_loss(params, list(tokens), cfg)
        except (AttributeError, TypeError, IndexError) as e:
            pair = isinstance(e, (AttributeError, TypeError)) or (
                "tuple" in str(e)
            )
            raise CheckFailed(
                f"{what}: your answer {raised(e)}; "
                + (_FORWARD_PAIR if pair else _UNCUT)
            ) from e
        if isinstance(got, Value):
            got = got.data
        check_close(
            f"letters' loss of a {length}-token document with block_size "
            f"{cfg.block_size}",
            got,
            expected,
            tol=1e-12,
            mistakes=_mistaken_letters_losses(
                params, tokens, cfg, n, expected
            ),
        )
    passed("loss of a name's letters")
