"""Checks for the exercises of the sampling chapter: temperature, decoding."""

import random

from ... import gpt_scalar
from ...config import ModelConfig
from ...engine import Value
from ...train import sample
from . import CheckFailed, check_close, passed, raised
from .exercise import exercise

# A small model keeps the checks fast; the sampling code is the same.
_CFG = ModelConfig(n_embd=8, n_head=2, block_size=8)


def _model(seed, bos_boost=0.0):
    """A seeded random model; bos_boost makes BOS likelier (shorter names)."""
    params = gpt_scalar.init_params(_CFG, random.Random(seed))
    for w in params["lm_head"][_CFG.vocab_size - 1]:
        w.data *= 1 + bos_boost
    return params


def _reference_probs(logits, temperature):
    """The package's tempered softmax of plain float logits."""
    probs = gpt_scalar.softmax([Value(z) / temperature for z in logits])
    return [p.data for p in probs]


def _mistaken_probs(logits, temperature):
    """The probabilities with the temperature multiplied in, or left out."""
    return {"multiplying the logits by the temperature instead of "
            "dividing": _reference_probs(logits, 1 / temperature),
            "leaving out the temperature": _reference_probs(logits, 1.0)}


@exercise(1, points=1)
def check_temperature(apply_temperature):
    """apply_temperature(logits, temperature) -> list of probabilities."""
    rng = random.Random(0)
    cases = [([rng.gauss(0, scale) for _ in range(27)], t)
             for scale in (1.0, 3.0) for t in (0.1, 0.5, 1.0, 2.0)]
    # NOTE: a confident model has large logits; at a low temperature e^(z/T)
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
                "logit before exponentiating") from None
        got = [float(p.data if isinstance(p, Value) else p) for p in got]
        check_close(f"probabilities with temperature {t}", got, expected,
                    1e-12, axes=("token",),
                    mistakes=_mistaken_probs(logits, t))
    passed("apply_temperature (9 cases, temperatures 0.1 to 2)")


def _ids(what, fn, *args):
    """fn(*args) as a list of ints; an IndexError or None is CheckFailed."""
    try:
        got = fn(*args)
    except IndexError as e:
        # NOTE: a loop that waits for BOS alone runs past the context when
        # BOS never comes, and the model has no position embedding there.
        raise CheckFailed(
            f"{what} {raised(e)}; if the model raised it, generation must "
            f"stop at block_size ({_CFG.block_size}) tokens even when BOS "
            "never comes") from e
    if got is None:
        raise CheckFailed(f"{what} returned None, expected a list of "
                          "token ids")
    return [int(x) for x in got]


def _check_ids(what, got, expected, mistakes=()):
    """check_equal on lists of ids, naming a likely mistake that fits.

    mistakes holds (mistake, ids it gives) pairs; a BOS kept at the end,
    or ids that go on past it, are recognized without them.
    """
    if got == expected:
        return
    mistake = next((m for m, wrong in mistakes if got == wrong), None)
    if mistake is None and got[:len(expected) + 1] == expected + [
            _CFG.vocab_size - 1]:
        mistake = ("keeping the final BOS in the list"
                   if len(got) == len(expected) + 1
                   else "not stopping at BOS")
    hint = f"; this is what {mistake} gives" if mistake else ""
    raise CheckFailed(f"{what}: got {got!r}, expected {expected!r}{hint}")


@exercise(2, points=2, forbids=(gpt_scalar.generate, sample))
def check_generate(my_generate):
    """my_generate(params, cfg, rng, temperature) -> list of token ids."""
    params = _model(1, bos_boost=1.0)
    n = 0
    for temperature in (0.5, 1.0, 2.0):
        mine, ref = random.Random(n), random.Random(n)
        for i in range(3):
            state = ref.getstate()
            expected = gpt_scalar.generate(params, _CFG, ref, temperature)
            what = f"sample {i + 1} at temperature {temperature}"
            got = _ids(f"my_generate ({what})", my_generate, params, _CFG,
                       mine, temperature)
            if got != expected:
                at_one = random.Random()
                at_one.setstate(state)
                _check_ids(what, got, expected, [(
                    "leaving out the temperature",
                    gpt_scalar.generate(params, _CFG, at_one, 1.0))])
            if mine.getstate() != ref.getstate():
                raise CheckFailed(
                    f"{what}: the ids agree but the random stream does "
                    "not; draw exactly one rng.choices per generated token")
        n += 1
    passed("my_generate (9 samples at temperatures 0.5, 1, 2)")


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


@exercise(3, points=2)
def check_greedy(greedy):
    """greedy(params, cfg) -> the ids of the most likely continuation."""
    for seed, boost in ((0, 0.0), (2, 2.0), (3, 3.0), (4, 4.0)):
        params = _model(seed, boost)
        expected = _reference_greedy(params, _CFG)
        got = _ids(f"greedy (model {seed})", greedy, params, _CFG)
        _check_ids(f"greedy ids of model {seed}", got, expected)
    passed("greedy (4 models)")
