"""Checks for the sampling chapter: temperature, greedy, completing a name."""

import random

from ... import gpt_numpy, gpt_scalar
from ...config import ModelConfig
from ...engine import Value
from ...train import sample
from . import CheckFailed, check_close, passed, questions, raised
from .exercise import exercise

# A small model keeps the checks fast; the sampling code is the same.
CFG = ModelConfig(n_embd=8, n_head=2, block_size=8)


def _model(seed, bos_boost=0.0):
    """A seeded random model; bos_boost makes BOS likelier (shorter names)."""
    params = gpt_scalar.init_params(CFG, random.Random(seed))
    for w in params["lm_head"][CFG.vocab_size - 1]:
        w.data *= 1 + bos_boost
    return params


@exercise(1, points=1)
def check_cold_names(cold_names, params=None, cfg=None):
    """cold_names() -> distinct names among 20 drawn at temperature 0.01.

    params, cfg: the chapter's trained NumPy model, which the answer is
    about.
    """

    def truth():
        if params is None or cfg is None:
            raise CheckFailed(
                "check_cold_names needs the trained model: "
                "check_cold_names(cold_names, params, cfg)"
            )
        rng = random.Random(0)
        return len(
            {
                tuple(gpt_numpy.generate(params, cfg, rng, 0.01))
                for _ in range(20)
            }
        )

    questions.number(
        "distinct names among 20 at temperature 0.01",
        cold_names,
        truth,
        0.5,
        [
            (
                20,
                "every name different is what a high temperature gives; "
                'see "Temperature": what does p_i(T) become as T goes to 0?',
            )
        ],
    )


def _reference_probs(logits, temperature):
    """The package's tempered softmax of plain float logits."""
    probs = gpt_scalar.softmax([Value(z) / temperature for z in logits])
    return [p.data for p in probs]


def _mistaken_probs(logits, temperature):
    """The probabilities with the temperature multiplied in, or left out."""
    return {
        "multiplying the logits by the temperature instead of "
        "dividing": _reference_probs(logits, 1 / temperature),
        "leaving out the temperature": _reference_probs(logits, 1.0),
    }


@exercise(2, points=1, forbids=(_reference_probs,))
def check_temperature(apply_temperature):
    """apply_temperature(logits, temperature) -> list of probabilities."""
    rng = random.Random(0)
    cases = [
        ([rng.gauss(0, scale) for _ in range(27)], t)
        for scale in (1.0, 3.0)
        for t in (0.1, 0.5, 1.0, 2.0)
    ]
    # A confident model has large logits; at a low temperature e^(z/T)
    # overflows unless the largest logit is subtracted first.
    cases.append(([rng.gauss(0, 1) for _ in range(26)] + [90.0], 0.1))
    for logits, t in cases:
        expected = _reference_probs(logits, t)
        try:
            got = apply_temperature(list(logits), t)
        except OverflowError:
            raise CheckFailed(
                f"apply_temperature overflowed at temperature {t} with a "
                f"largest logit of {max(logits):g}: subtract the largest "
                "logit before exponentiating"
            ) from None
        got = [float(p.data if isinstance(p, Value) else p) for p in got]
        check_close(
            f"probabilities with temperature {t}",
            got,
            expected,
            1e-12,
            axes=("token",),
            mistakes=_mistaken_probs(logits, t),
        )
    passed("apply_temperature (9 cases, temperatures 0.1 to 2)")


def _ids(what, fn, *args):
    """fn(*args) as a list of ints; an IndexError or None is CheckFailed."""
    try:
        got = fn(*args)
    except IndexError as e:
        # A loop that waits for BOS alone runs past the context when
        # BOS never comes, and the model has no position embedding there.
        raise CheckFailed(
            f"{what} {raised(e)}; if the model raised it, generation must "
            f"stop at block_size ({CFG.block_size}) tokens even when BOS "
            "never comes"
        ) from e
    if got is None:
        raise CheckFailed(
            f"{what} returned None, expected a list of token ids"
        )
    return [int(x) for x in got]


def _check_ids(what, got, expected, mistakes=()):
    """check_equal on lists of ids, naming a likely mistake that fits.

    mistakes holds (mistake, ids it gives) pairs; a BOS kept at the end,
    or ids that go on past it, are recognized without them.
    """
    if got == expected:
        return
    mistake = next((m for m, wrong in mistakes if got == wrong), None)
    if mistake is None and got[: len(expected) + 1] == expected + [
        CFG.vocab_size - 1
    ]:
        mistake = (
            "keeping the final BOS in the list"
            if len(got) == len(expected) + 1
            else "not stopping at BOS"
        )
    hint = f"; this is what {mistake} gives" if mistake else ""
    raise CheckFailed(f"{what}: got {got!r}, expected {expected!r}{hint}")


def _reference_complete(
    params, cfg, rng, temperature, prefix, bos_first=True, draw_prefix=False
):
    """The prefix and what the model draws after it, without the BOS.

    bos_first=False and draw_prefix=True give two likely mistakes: no BOS
    at position 0, and a draw at every position, the prefix's too.
    """
    bos = cfg.vocab_size - 1
    cache = gpt_scalar.new_kv_cache(cfg)
    feed = ([bos] if bos_first else []) + list(prefix)
    if not feed:
        return None
    out, token = list(prefix), feed[0]
    for pos in range(cfg.block_size):
        logits = gpt_scalar.gpt(token, pos, cache, params, cfg)
        forced = pos + 1 < len(feed)
        if forced and not draw_prefix:
            token = feed[pos + 1]
            continue
        probs = gpt_scalar.softmax([z / temperature for z in logits])
        drawn = rng.choices(
            range(cfg.vocab_size), weights=[p.data for p in probs]
        )[0]
        token = feed[pos + 1] if forced else drawn
        if forced:
            continue
        if token == bos:
            break
        out.append(token)
    return out


# (prefix ids, temperature): one letter, none, two, and one that leaves
# a single position of the context of 8 to draw.
_PREFIXES = (
    ([0], 0.5),
    ([], 1.0),
    ([10, 0], 1.0),
    ([0, 13, 13, 0, 1, 4, 11], 2.0),
)


@exercise(
    4,
    points=2,
    forbids=(
        gpt_scalar.generate,
        sample,
        _reference_complete,
    ),
)
def check_complete(complete):
    """complete(params, cfg, rng, temperature, prefix) -> the name's ids."""
    params = _model(1, bos_boost=1.0)
    for n, (prefix, temperature) in enumerate(_PREFIXES):
        mine, ref = random.Random(n), random.Random(n)
        for i in range(3):
            state = ref.getstate()
            expected = _reference_complete(
                params, CFG, ref, temperature, prefix
            )
            what = f"completion {i + 1} of prefix {prefix}"
            got = _ids(
                f"complete ({what})",
                complete,
                params,
                CFG,
                mine,
                temperature,
                list(prefix),
            )
            if got != expected:
                mistakes = [
                    (
                        "returning only the drawn letters, without the prefix",
                        expected[len(prefix) :],
                    )
                ]
                for mistake, kw in (
                    (
                        "leaving out the BOS at position 0",
                        {"bos_first": False},
                    ),
                    (
                        "drawing a token at the prefix's positions too "
                        "(feed them, draw nothing)",
                        {"draw_prefix": True},
                    ),
                ):
                    again = random.Random()
                    again.setstate(state)
                    mistakes.append(
                        (
                            mistake,
                            _reference_complete(
                                params, CFG, again, temperature, prefix, **kw
                            ),
                        )
                    )
                _check_ids(what, got, expected, mistakes)
            if mine.getstate() != ref.getstate():
                raise CheckFailed(
                    f"{what}: the ids agree but the random stream does "
                    "not; draw exactly one rng.choices per token after "
                    "the prefix, and none for the prefix itself"
                )
    passed("complete (4 prefixes, 3 names each)")


def _reference_greedy(params, cfg):
    """Most likely next token at every step until BOS or block_size."""
    bos = cfg.vocab_size - 1
    cache = gpt_scalar.new_kv_cache(cfg)
    token, out = bos, []
    for pos in range(cfg.block_size):
        logits = gpt_scalar.gpt(token, pos, cache, params, cfg)
        token = max(range(cfg.vocab_size), key=lambda i: logits[i].data)
        if token == bos:
            break
        out.append(token)
    return out


@exercise(3, points=2, forbids=(_reference_greedy,))
def check_greedy(greedy):
    """greedy(params, cfg) -> the ids of the most likely continuation."""
    for seed, boost in ((0, 0.0), (2, 2.0), (3, 3.0), (4, 4.0)):
        params = _model(seed, boost)
        expected = _reference_greedy(params, CFG)
        got = _ids(f"greedy (model {seed})", greedy, params, CFG)
        _check_ids(f"greedy ids of model {seed}", got, expected)
    passed("greedy (4 models)")
