"""The sampling chapter's exercise checks pass right answers, fail wrong."""

import math

import pytest

from microgpt import gpt_scalar
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
        return apply_temperature([z * temperature ** 2 for z in logits],
                                 temperature)

    with pytest.raises(CheckFailed, match=r"^chapter 10, exercise 1: "
                       r"probabilities with temperature 0\.1 at token \d+: "
                       r"got .*difference.*; this is what multiplying the "
                       r"logits by the temperature instead of dividing "
                       r"gives$"):
        sampling.check_temperature(times_t)


def test_temperature_left_out_names_it():
    with pytest.raises(CheckFailed, match=r"temperature 0\.1 at token \d+: "
                                          r".*; this is what leaving out the "
                                          r"temperature gives$"):
        sampling.check_temperature(
            lambda logits, t: apply_temperature(logits, 1.0))


def test_temperature_without_max_subtraction_reports_the_overflow():
    def naive(logits, temperature):
        exps = [math.exp(z / temperature) for z in logits]
        return [e / sum(exps) for e in exps]

    with pytest.raises(CheckFailed, match="overflowed at temperature 0.1.*"
                       "subtract the largest logit"):
        sampling.check_temperature(naive)


def my_generate(params, cfg, rng, temperature, argmax=False,
                keep_bos=False, stop=True):
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


def test_generate_passes_the_reference(capsys):
    sampling.check_generate(my_generate)
    assert "✓ my_generate" in capsys.readouterr().out


def test_generate_that_ignores_temperature_names_the_sample():
    def at_one(params, cfg, rng, temperature):
        return my_generate(params, cfg, rng, 1.0)

    with pytest.raises(CheckFailed, match=r"^chapter 10, exercise 2: sample "
                       r"1 at temperature 0.5: got .*, expected .*; this is "
                       r"what leaving out the temperature gives$"):
        sampling.check_generate(at_one)


@pytest.mark.parametrize("stop, mistake", [
    (True, "keeping the final BOS in the list"),
    (False, "not stopping at BOS")])
def test_generate_with_bos_in_the_ids_names_the_mistake(stop, mistake):
    with pytest.raises(CheckFailed, match=rf"sample \d at temperature .*; "
                                          rf"this is what {mistake} gives$"):
        sampling.check_generate(
            lambda *args: my_generate(*args, keep_bos=True, stop=stop))


def test_generate_that_draws_extra_random_numbers_fails():
    def wasteful(params, cfg, rng, temperature):
        out = my_generate(params, cfg, rng, temperature)
        rng.random()
        return out

    with pytest.raises(CheckFailed, match="random stream does not"):
        sampling.check_generate(wasteful)


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

    with pytest.raises(CheckFailed, match=r"^chapter 10, exercise 3: greedy "
                                          r"ids of model \d+: got .*; this is"
                                          r" what not stopping at BOS gives$"):
        sampling.check_greedy(no_stop)


def test_greedy_that_keeps_the_final_bos_names_it():
    def keeps_bos(params, cfg):
        out = greedy(params, cfg)
        return out + [cfg.vocab_size - 1] if len(out) < cfg.block_size \
            else out

    with pytest.raises(CheckFailed, match=r"this is what keeping the final "
                                          r"BOS in the list gives$"):
        sampling.check_greedy(keeps_bos)


def test_greedy_returning_none_fails_clearly():
    with pytest.raises(CheckFailed, match="returned None"):
        sampling.check_greedy(lambda params, cfg: None)


def until_bos(params, cfg, rng, temperature):
    """my_generate without the block_size limit: runs past the context."""
    bos = cfg.vocab_size - 1
    cache = gpt_scalar.new_kv_cache(cfg)
    token, out, pos = bos, [], 0
    while True:
        logits = gpt_scalar.gpt(token, pos, cache, params, cfg)
        probs = apply_temperature([lg.data for lg in logits], temperature)
        token = rng.choices(range(cfg.vocab_size), weights=probs)[0]
        if token == bos:
            return out
        out.append(token)
        pos += 1


def test_generate_without_a_length_limit_fails_clearly():
    with pytest.raises(CheckFailed, match=r"my_generate \(sample \d at "
                       r"temperature .*\) raised IndexError: .*generation "
                       r"must stop at block_size \(8\) tokens"):
        sampling.check_generate(until_bos)


def test_greedy_without_a_length_limit_fails_clearly():
    def endless(params, cfg):   # never stops: BOS is never the argmax
        cache = gpt_scalar.new_kv_cache(cfg)
        token, out, pos = cfg.vocab_size - 1, [], 0
        while True:
            logits = gpt_scalar.gpt(token, pos, cache, params, cfg)
            token = max(range(cfg.vocab_size - 1),
                        key=lambda i: logits[i].data)
            out.append(token)
            pos += 1

    with pytest.raises(CheckFailed, match=r"greedy \(model 0\) raised "
                                          r"IndexError: .*block_size"):
        sampling.check_greedy(endless)
