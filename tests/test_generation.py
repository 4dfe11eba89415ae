"""Top-k and top-p sampling in the three twins, and on the command line."""

import random

import numpy as np
import pytest
import torch
from cli_run import assert_one_line_error, microgpt, samples_of

from microgpt import checkpoint, gpt_numpy, gpt_scalar, gpt_torch, train
from microgpt.config import (
    ModelConfig,
    SampleConfig,
    TrainConfig,
    check_top,
)

pytestmark = pytest.mark.numpy

TWINS = (gpt_scalar, gpt_numpy, gpt_torch)
CFG = ModelConfig(n_embd=8, n_head=2, block_size=8)
OPTIONS = [
    {"top_k": 1},
    {"top_k": 3},
    {"top_k": 27},
    {"top_p": 0.05},
    {"top_p": 0.5},
    {"top_p": 0.9},
    {"top_p": 1.0},
    {"top_k": 5, "top_p": 0.7},
]


def weights(seed):
    """A random small model's weights, as the twins load them."""
    return gpt_numpy.to_weights(
        gpt_numpy.init_params(CFG, random.Random(seed))
    )


def as_twin(twin, probs):
    """probs (a list of floats) in the type twin's top_filter takes."""
    if twin is gpt_numpy:
        return np.array(probs)
    if twin is gpt_torch:
        return torch.tensor(probs, dtype=torch.float64)
    return list(probs)


def filtered(twin, probs, **options):
    """twin.top_filter(probs, ...) as a list of floats."""
    out = twin.top_filter(as_twin(twin, probs), **options)
    return [
        float(p) for p in (out.tolist() if hasattr(out, "tolist") else out)
    ]


def names(twin, w, seed, n=12, temperature=1.0, **options):
    """n names drawn by twin's generate from one seeded stream."""
    params = twin.from_weights(w)
    rng = random.Random(seed)
    return [
        twin.generate(params, CFG, rng, temperature, **options)
        for _ in range(n)
    ], rng.getstate()


def greedy(w):
    """The argmax at every step, a tie going to the smaller id."""
    params = gpt_numpy.from_weights(w)
    bos = CFG.vocab_size - 1
    cache = gpt_numpy.new_kv_cache(CFG)
    token, out = bos, []
    for pos in range(CFG.block_size):
        token = int(np.argmax(gpt_numpy.gpt(token, pos, cache, params, CFG)))
        if token == bos:
            break
        out.append(token)
    return out


# -- the filter ---------------------------------------------------------------

PROBS = [0.1, 0.3, 0.2, 0.3, 0.1]


@pytest.mark.parametrize("twin", TWINS, ids=lambda t: t.__name__)
@pytest.mark.parametrize(
    "options, kept",
    [
        ({"top_k": 1}, [1]),  # a tie at the top: the smaller id
        ({"top_k": 2}, [1, 3]),
        ({"top_k": 3}, [1, 2, 3]),
        ({"top_k": 4}, [0, 1, 2, 3]),  # a tie at the k-th: the smaller id
        ({"top_k": 9}, [0, 1, 2, 3, 4]),
        ({"top_p": 0.3}, [1]),  # reached exactly: no more tokens
        ({"top_p": 0.31}, [1, 3]),
        ({"top_p": 0.6}, [1, 3]),
        ({"top_p": 0.61}, [1, 2, 3]),
        ({"top_p": 1.0}, [0, 1, 2, 3, 4]),
        ({"top_k": 2, "top_p": 0.5}, [1]),  # p of what top-k left
        ({"top_k": 3, "top_p": 0.5}, [1, 3]),
    ],
)
def test_the_filter_keeps_the_likeliest_and_renormalises(twin, options, kept):
    out = filtered(twin, PROBS, **options)
    assert [i for i, p in enumerate(out) if p > 0] == kept
    assert sum(out) == pytest.approx(1, abs=1e-15)
    total = sum(PROBS[i] for i in kept)
    assert out == pytest.approx(
        [PROBS[i] / total if i in kept else 0 for i in range(len(PROBS))],
        abs=1e-15,
    )


@pytest.mark.parametrize("twin", TWINS, ids=lambda t: t.__name__)
def test_the_filter_agrees_across_twins_on_random_distributions(twin):
    rng = np.random.default_rng(0)
    for _ in range(50):
        probs = rng.dirichlet(np.full(27, 0.3)).tolist()
        for options in OPTIONS:
            out = filtered(twin, probs, **options)
            ref = filtered(gpt_scalar, probs, **options)
            assert out == ref, options
            order = sorted(range(27), key=lambda i: -probs[i])
            kept = [i for i in order if out[i] > 0]
            assert kept == order[: len(kept)]  # a head of the ranking
            assert sum(out) == pytest.approx(1, abs=1e-12)
            if "top_k" in options:
                assert len(kept) <= options["top_k"]
            if "top_p" not in options:
                assert len(kept) == min(options["top_k"], 27)
            elif "top_k" not in options:
                mass = np.cumsum([probs[i] for i in kept])
                assert mass[-1] >= options["top_p"] * (1 - 1e-12)
                assert len(kept) == 1 or mass[-2] < options["top_p"] * (
                    1 + 1e-12
                )


# -- generate -----------------------------------------------------------------


@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_the_twins_draw_the_same_names(options):
    w = weights(1)
    drawn = [
        names(twin, w, seed=3, temperature=0.8, **options) for twin in TWINS
    ]
    assert drawn[0] == drawn[1] == drawn[2]


@pytest.mark.parametrize("twin", TWINS, ids=lambda t: t.__name__)
def test_top_1_and_a_tiny_top_p_are_greedy(twin):
    for seed in (0, 1, 2):
        w = weights(seed)
        expected = greedy(w)
        for options in ({"top_k": 1}, {"top_p": 1e-9}):
            got, _ = names(twin, w, seed=seed, n=3, **options)
            assert got == [expected] * 3, options


@pytest.mark.parametrize("twin", TWINS, ids=lambda t: t.__name__)
def test_keeping_every_token_is_plain_sampling(twin):
    w = weights(2)
    plain = names(twin, w, seed=5, n=30)
    for options in (
        {"top_k": CFG.vocab_size},
        {"top_p": 1.0},
        {"top_k": 100, "top_p": 1.0},
    ):
        assert names(twin, w, seed=5, n=30, **options) == plain, options


@pytest.mark.parametrize("twin", TWINS, ids=lambda t: t.__name__)
def test_a_filter_draws_only_kept_tokens(twin):
    """top_k=2: every token drawn is one of the two likeliest there."""
    w = weights(4)
    params = gpt_numpy.from_weights(w)
    got, _ = names(twin, w, seed=7, n=20, top_k=2)
    for ids in got:
        cache = gpt_numpy.new_kv_cache(CFG)
        token = CFG.vocab_size - 1
        for pos, nxt in enumerate(ids):
            logits = gpt_numpy.gpt(token, pos, cache, params, CFG)
            assert nxt in np.argsort(-logits, kind="stable")[:2]
            token = nxt


@pytest.mark.parametrize("twin", TWINS, ids=lambda t: t.__name__)
@pytest.mark.parametrize(
    "options, message",
    [
        ({"top_k": 0}, "top_k must be a positive integer, got 0"),
        ({"top_k": -3}, "top_k must be a positive integer, got -3"),
        ({"top_k": 2.0}, "top_k must be a positive integer, got 2.0"),
        ({"top_k": True}, "top_k must be a positive integer, got True"),
        ({"top_p": 0}, "top_p must be a number in (0, 1], got 0"),
        ({"top_p": 1.5}, "top_p must be a number in (0, 1], got 1.5"),
        ({"top_p": float("nan")}, "top_p must be a number in (0, 1], got nan"),
        ({"top_p": "0.5"}, "top_p must be a number in (0, 1], got '0.5'"),
    ],
)
def test_bad_filters_are_refused(twin, options, message):
    params = twin.from_weights(weights(0))
    with pytest.raises(ValueError) as e:
        twin.generate(params, CFG, random.Random(0), 1.0, **options)
    assert str(e.value) == message


def test_the_sample_config_checks_its_filters():
    assert SampleConfig().top_k is None and SampleConfig().top_p is None
    assert SampleConfig(top_k=5, top_p=0.9).top_k == 5
    with pytest.raises(ValueError, match=r"SampleConfig\.top_k must"):
        SampleConfig(top_k=0)
    with pytest.raises(ValueError, match=r"SampleConfig\.top_p must"):
        SampleConfig(top_p=2.0)
    check_top(None, None)  # nothing given, nothing to refuse


def test_train_run_passes_the_filters_to_the_samples(docs):
    cfg = ModelConfig(n_embd=8, n_head=2)
    run = train.run(
        "numpy",
        docs[:50],
        cfg,
        TrainConfig(num_steps=2),
        SampleConfig(num_samples=3, top_k=1),
    )
    assert len(set(run.samples)) == 1  # greedy: the same name each time


# -- the command line ---------------------------------------------------------


@pytest.fixture(scope="module")
def model(tmp_path_factory, docs):
    """A small checkpoint to sample from."""
    run = train.run(
        "numpy",
        docs,
        ModelConfig(n_embd=8, n_head=2),
        TrainConfig(num_steps=20),
        SampleConfig(num_samples=1),
    )
    path = tmp_path_factory.mktemp("model") / "model.npz"
    return checkpoint.save(path, run.params, run.model_config, run.tokenizer)


@pytest.mark.cli
@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--top-k", "0"], "--top-k must be a positive integer, got 0"),
        (["--top-p", "0"], "--top-p must be a number in (0, 1], got 0.0"),
        (["--top-p", "1.5"], "--top-p must be a number in (0, 1], got 1.5"),
        (["--top-p", "nan"], "--top-p must be a number in (0, 1], got nan"),
    ],
)
@pytest.mark.parametrize("command", ["train", "sample"])
def test_bad_filters_on_the_command_line(model, command, args, fragment):
    where = ["--load", str(model)] if command == "sample" else []
    result = microgpt(command, *where, *args)
    assert_one_line_error(result, fragment)


@pytest.mark.cli
def test_sample_with_the_filters(model):
    weights_, cfg, tok = checkpoint.load(model)
    params = gpt_numpy.from_weights(weights_)
    for args, options in (
        (["--top-k", "1"], {"top_k": 1}),
        (["--top-p", "0.8", "--top-k", "5"], {"top_k": 5, "top_p": 0.8}),
    ):
        result = microgpt(
            "sample",
            "--load",
            str(model),
            "--num-samples",
            "6",
            "--seed",
            "3",
            *args,
        )
        assert result.returncode == 0, result.stderr
        expected = train.sample(
            gpt_numpy, params, tok, cfg, random.Random(3), 0.5, 6, **options
        )
        assert samples_of(result.stdout) == expected


@pytest.mark.cli
def test_train_with_a_filter_says_so():
    result = microgpt(
        "train",
        "--steps",
        "2",
        "--n-embd",
        "8",
        "--n-head",
        "2",
        "--num-samples",
        "3",
        "--top-k",
        "1",
    )
    assert result.returncode == 0, result.stderr
    assert "--- 3 samples at temperature 0.5, top-k 1 ---" in result.stdout
    assert len(set(samples_of(result.stdout))) == 1
