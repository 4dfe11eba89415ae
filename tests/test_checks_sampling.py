"""The sampling chapter's exercise checks pass right answers, fail wrong."""

import math
import random

import pytest

from microgpt import gpt_numpy, gpt_scalar
from microgpt.course.checks import CheckFailed, sampling

pytestmark = pytest.mark.model


def apply_temperature(logits, temperature):
    top = max(logits)
    exps = [math.exp((z - top) / temperature) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


def test_temperature_passes_the_reference(capsys):
    sampling.check_temperature(apply_temperature)
    assert "✓ apply_temperature" in capsys.readouterr().out


def test_temperature_multiplied_instead_of_divided_fails():
    def times_t(logits, temperature):
        return apply_temperature(
            [z * temperature**2 for z in logits], temperature
        )

    with pytest.raises(
        CheckFailed,
        match=r"^chapter 10, exercise 2: "
        r"probabilities with temperature 0\.1 at token \d+: "
        r"got .*difference.*; this is what multiplying the "
        r"logits by the temperature instead of dividing "
        r"gives$",
    ):
        sampling.check_temperature(times_t)


def test_temperature_left_out_names_it():
    with pytest.raises(
        CheckFailed,
        match=r"temperature 0\.1 at token \d+: "
        r".*; this is what leaving out the "
        r"temperature gives$",
    ):
        sampling.check_temperature(
            lambda logits, t: apply_temperature(logits, 1.0)
        )


def test_temperature_without_max_subtraction_reports_the_overflow():
    def naive(logits, temperature):
        exps = [math.exp(z / temperature) for z in logits]
        return [e / sum(exps) for e in exps]

    with pytest.raises(
        CheckFailed,
        match="overflowed at temperature 0.1.*subtract the largest logit",
    ):
        sampling.check_temperature(naive)


def my_generate(
    params, cfg, rng, temperature, argmax=False, keep_bos=False, stop=True
):
    """Right by default; keep_bos or stop=False give the BOS mistakes."""
    bos = cfg.vocab_size - 1
    cache = gpt_scalar.new_kv_cache(cfg)
    token, out = bos, []
    for pos in range(cfg.block_size):
        logits = gpt_scalar.gpt(token, pos, cache, params, cfg)
        probs = apply_temperature([lg.data for lg in logits], temperature)
        if argmax:
            token = max(range(cfg.vocab_size), key=probs.__getitem__)
        else:
            token = rng.choices(range(cfg.vocab_size), weights=probs)[0]
        if token == bos and not keep_bos and stop:
            break
        out.append(token)
        if token == bos and stop:
            break
    return out


def complete(
    params, cfg, rng, temperature, prefix, bos=True, draw=False, whole=True
):
    """Right by default; the flags give the typical mistakes."""
    end = cfg.vocab_size - 1
    cache = gpt_scalar.new_kv_cache(cfg)
    feed = ([end] if bos else []) + list(prefix)
    out = list(prefix) if whole else []
    token = None
    for pos in range(cfg.block_size):
        token = feed[pos] if pos < len(feed) else token
        logits = gpt_scalar.gpt(token, pos, cache, params, cfg)
        probs = apply_temperature([lg.data for lg in logits], temperature)
        if pos + 1 < len(feed):
            if draw:
                rng.choices(range(cfg.vocab_size), weights=probs)
            continue
        token = rng.choices(range(cfg.vocab_size), weights=probs)[0]
        if token == end:
            break
        out.append(token)
    return out


def test_complete_passes_the_reference(capsys):
    sampling.check_complete(complete)
    assert "✓ complete" in capsys.readouterr().out


def test_complete_with_an_empty_prefix_is_generate():
    params = sampling._model(1)
    got = complete(params, sampling.CFG, random.Random(5), 0.7, [])
    assert got == gpt_scalar.generate(
        params, sampling.CFG, random.Random(5), 0.7
    )


@pytest.mark.parametrize(
    "flags, message",
    [
        (
            {"whole": False},
            r"completion 1 of prefix \[0\]: got .*; this is what "
            "returning only the drawn letters, without the prefix gives",
        ),
        (
            {"bos": False},
            r"completion \d of prefix \[0\]: got .*; this is what "
            "leaving out the BOS at position 0 gives",
        ),
        (
            {"draw": True},
            r"completion 1 of prefix \[0\]: the ids agree but the "
            r"random stream does not; .*none for the prefix itself",
        ),
    ],
)
def test_complete_names_the_mistake(flags, message):
    with pytest.raises(
        CheckFailed,
        match=rf"^chapter 10, exercise 4: "
        rf"{message}$",
    ):
        sampling.check_complete(lambda *a: complete(*a, **flags))


def test_complete_with_bos_in_the_ids_names_the_mistake():
    def keeps_bos(params, cfg, rng, temperature, prefix):
        out = complete(params, cfg, rng, temperature, prefix)
        return out + [cfg.vocab_size - 1] if len(out) < cfg.block_size else out

    with pytest.raises(
        CheckFailed,
        match=r"this is what keeping the final "
        r"BOS in the list gives$",
    ):
        sampling.check_complete(keeps_bos)


def test_complete_that_draws_extra_random_numbers_fails():
    def wasteful(*args):
        out = complete(*args)
        args[2].random()
        return out

    with pytest.raises(CheckFailed, match="random stream does not"):
        sampling.check_complete(wasteful)


def cold_names(params, cfg):
    rng = random.Random(0)
    return len(
        {tuple(gpt_numpy.generate(params, cfg, rng, 0.01)) for _ in range(20)}
    )


def test_cold_names_passes_the_measured_count(capsys):
    params = gpt_numpy.init_params(sampling.CFG, random.Random(0))
    sampling.check_cold_names(
        lambda: cold_names(params, sampling.CFG), params, sampling.CFG
    )
    assert " is right (measured " in capsys.readouterr().out


def test_cold_names_of_twenty_gets_the_hint():
    params = gpt_numpy.init_params(sampling.CFG, random.Random(0))
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 10, exercise 1: "
        r"distinct names among 20 at temperature 0\.01: 20 "
        r"is not it; every name different is what a high "
        r"temperature gives",
    ):
        sampling.check_cold_names(lambda: 20, params, sampling.CFG)


def greedy(params, cfg):
    return my_generate(params, cfg, None, 1.0, argmax=True)


def test_greedy_passes_the_reference(capsys):
    sampling.check_greedy(greedy)
    assert "✓ greedy" in capsys.readouterr().out


def test_greedy_that_never_stops_at_bos_fails():
    def no_stop(params, cfg):
        bos = cfg.vocab_size - 1
        cache = gpt_scalar.new_kv_cache(cfg)
        token, out = bos, []
        for pos in range(cfg.block_size):
            logits = gpt_scalar.gpt(token, pos, cache, params, cfg)
            token = max(range(cfg.vocab_size), key=lambda i: logits[i].data)
            out.append(token)
        return out

    with pytest.raises(
        CheckFailed,
        match=r"^chapter 10, exercise 3: greedy "
        r"ids of model \d+: got .*; this is"
        r" what not stopping at BOS gives$",
    ):
        sampling.check_greedy(no_stop)


def test_greedy_that_keeps_the_final_bos_names_it():
    def keeps_bos(params, cfg):
        out = greedy(params, cfg)
        return out + [cfg.vocab_size - 1] if len(out) < cfg.block_size else out

    with pytest.raises(
        CheckFailed,
        match=r"this is what keeping the final "
        r"BOS in the list gives$",
    ):
        sampling.check_greedy(keeps_bos)


def test_greedy_returning_none_fails_clearly():
    with pytest.raises(CheckFailed, match="returned None"):
        sampling.check_greedy(lambda params, cfg: None)


def test_greedy_without_a_length_limit_fails_clearly():
    def endless(params, cfg):  # never stops: BOS is never the argmax
        cache = gpt_scalar.new_kv_cache(cfg)
        token, out, pos = cfg.vocab_size - 1, [], 0
        while True:
            logits = gpt_scalar.gpt(token, pos, cache, params, cfg)
            token = max(
                range(cfg.vocab_size - 1), key=lambda i: logits[i].data
            )
            out.append(token)
            pos += 1

    with pytest.raises(
        CheckFailed,
        match=r"greedy \(model 0\) raised "
        r"IndexError: .*block_size",
    ):
        sampling.check_greedy(endless)
