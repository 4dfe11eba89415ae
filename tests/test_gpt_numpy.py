"""The NumPy twin: every backward, parity with the scalar model, batches."""

import random

import numpy as np
import pytest
from twins import (
    CONFIGS,
    PARITY,
    assert_grad,
    long_doc,
    numeric_grad,
    rel_err,
    twin_params,
)

from microgpt import gpt_numpy, gpt_scalar
from microgpt import layers_numpy as layers
from microgpt.batch import batch_arrays, mean_loss, pack
from microgpt.config import ModelConfig, TrainConfig
from microgpt.params import init_weights
from microgpt.train import lr_at, prepare, run

pytestmark = pytest.mark.numpy


def test_evaluate_agrees_with_the_scalar_twin(docs):
    cfg = ModelConfig(n_layer=2, block_size=8)
    _, shuffled, tok = prepare(docs, 1)
    weights = init_weights(cfg, random.Random(2))
    # names longer than block_size are cut, as in training
    batch = [tok.frame(d) for d in shuffled[:16]]
    assert max(map(len, batch)) > cfg.block_size + 1
    want = gpt_scalar.evaluate(gpt_scalar.from_weights(weights), batch, cfg)
    params = gpt_numpy.from_weights(weights)
    assert gpt_numpy.evaluate(params, batch, cfg) == pytest.approx(
        want, rel=PARITY
    )
    several = mean_loss(gpt_numpy.batch_loss, params, batch, cfg, 7)
    assert several == pytest.approx(want, rel=PARITY)
    with pytest.raises(ValueError, match="no documents"):
        gpt_numpy.evaluate(params, [], cfg)


# -- every layer's backward against finite differences ----------------------

rs = np.random.default_rng(0)


def test_embedding_backward():
    wte, wpe = rs.normal(size=(5, 4)), rs.normal(size=(6, 4))
    idx = np.array([[1, 3, 1], [4, 1, 0]])  # token 1 repeats
    dout = rs.normal(size=(2, 3, 4))

    def f():
        return (layers.embedding_forward(idx, wte, wpe)[0] * dout).sum()

    dwte, dwpe = layers.embedding_backward(
        dout, layers.embedding_forward(idx, wte, wpe)[1]
    )
    assert_grad(dwte, numeric_grad(f, wte))
    assert_grad(dwpe, numeric_grad(f, wpe))
    assert not dwpe[3:].any()  # positions past T get nothing


def test_rmsnorm_backward():
    x, dout = rs.normal(size=(2, 3, 8)), rs.normal(size=(2, 3, 8))

    def f():
        return (layers.rmsnorm_forward(x)[0] * dout).sum()

    dx = layers.rmsnorm_backward(dout, layers.rmsnorm_forward(x)[1])
    assert_grad(dx, numeric_grad(f, x))


def test_linear_backward():
    x, w = rs.normal(size=(6, 4)), rs.normal(size=(5, 4))
    dout = rs.normal(size=(6, 5))

    def f():
        return (layers.linear_forward(x, w)[0] * dout).sum()

    dx, dw = layers.linear_backward(dout, layers.linear_forward(x, w)[1])
    assert_grad(dx, numeric_grad(f, x))
    assert_grad(dw, numeric_grad(f, w))


def test_attention_backward():
    q, k, v = (rs.normal(size=(2, 5, 8)) for _ in range(3))
    dout = rs.normal(size=(2, 5, 8))

    def f():
        return (layers.attention_forward(q, k, v, 2)[0] * dout).sum()

    dq, dk, dv = layers.attention_backward(
        dout, layers.attention_forward(q, k, v, 2)[1]
    )
    for analytic, x in ((dq, q), (dk, k), (dv, v)):
        assert_grad(analytic, numeric_grad(f, x))


def test_attention_is_causal():
    q, k, v = (rs.normal(size=(1, 5, 8)) for _ in range(3))
    out = layers.attention_forward(q, k, v, 2)[0]
    k[:, 3:], v[:, 3:] = 0, 0  # changing the future ...
    assert np.array_equal(
        out[:, :3], layers.attention_forward(q, k, v, 2)[0][:, :3]
    )  # ... leaves the past alone


def rowwise_softmax(x):
    """The textbook softmax: each row shifted by its own maximum."""
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_softmax_is_each_rows_softmax():
    scores = np.where(
        layers.causal_mask(5), rs.standard_normal((2, 3, 5, 5)) * 4, -np.inf
    )
    assert np.allclose(
        layers.softmax(scores), rowwise_softmax(scores), rtol=1e-14, atol=0
    )
    assert np.allclose(
        layers.softmax(scores[0, 0, 3]),  # one row, 1-D
        rowwise_softmax(scores[0, 0, 3]),
        rtol=1e-14,
        atol=0,
    )
    # rows 1000 apart: one shift for all would make the low row all 0
    far = np.array([[0.0, 1.0, -np.inf], [-1000.0, -999.0, -998.0]])
    assert np.allclose(
        layers.softmax(far), rowwise_softmax(far), rtol=1e-14, atol=0
    )


def test_relu_backward():
    # Keep inputs away from 0, where relu has no derivative.
    x = rs.normal(size=(2, 3, 4))
    x += np.sign(x) * 0.01
    dout = rs.normal(size=(2, 3, 4))

    def f():
        return (layers.relu_forward(x)[0] * dout).sum()

    dx = layers.relu_backward(dout, layers.relu_forward(x)[1])
    assert_grad(dx, numeric_grad(f, x))


def test_residual_backward():
    x, branch = rs.normal(size=(2, 3, 4)), rs.normal(size=(2, 3, 4))
    dout = rs.normal(size=(2, 3, 4))

    def f():
        return (layers.residual_forward(x, branch)[0] * dout).sum()

    dx, dbranch = layers.residual_backward(
        dout, layers.residual_forward(x, branch)[1]
    )
    assert_grad(dx, numeric_grad(f, x))
    assert_grad(dbranch, numeric_grad(f, branch))


def test_cross_entropy_backward_with_padding():
    logits = rs.normal(size=(2, 3, 6))
    targets = np.array([[1, 5, 0], [2, 2, 0]])
    weights = np.array([[1, 1, 1], [1, 1, 0]]) / 5  # one padded position

    def f():
        return layers.cross_entropy_forward(logits, targets, weights)[0]

    dlogits = layers.cross_entropy_backward(
        0.7, layers.cross_entropy_forward(logits, targets, weights)[1]
    )
    assert_grad(dlogits, 0.7 * numeric_grad(f, logits))
    assert not dlogits[1, 2].any()


# -- parity with the scalar model -------------------------------------------


@pytest.mark.parametrize("cfg", CONFIGS.values(), ids=CONFIGS.keys())
def test_loss_and_every_gradient_match_scalar(cfg, names):
    # A short name and the longest one, which overflows the smaller
    # blocks (the original truncates) and exactly fills the default one.
    shuffled, tok = names
    longest = tok.frame(max(shuffled, key=len))
    assert len(longest) >= cfg.block_size + 1
    for tokens in (tok.frame(shuffled[0]), longest):
        ps, pn = twin_params(gpt_numpy, cfg)
        loss_s, grads_s = gpt_scalar.loss_and_grads(ps, [tokens], cfg)
        loss_n, grads_n = gpt_numpy.loss_and_grads(pn, [tokens], cfg)
        assert rel_err(loss_n, loss_s) <= PARITY
        assert grads_n.keys() == grads_s.keys()
        for name in grads_s:
            assert rel_err(grads_n[name], grads_s[name]) <= PARITY, name


@pytest.mark.parametrize(
    "cfg",
    [ModelConfig(), ModelConfig(n_layer=2)],
    ids=["default", "n_layer=2"],
)
def test_kv_cache_decoding_matches_full_forward(cfg, names):
    tokens = long_doc(names, 10)[: cfg.block_size]
    _, params = twin_params(gpt_numpy, cfg)
    full, _ = gpt_numpy.forward(params, tokens, cfg)  # (T, vocab)
    cache = gpt_numpy.new_kv_cache(cfg)
    steps = [
        gpt_numpy.gpt(tok, pos, cache, params, cfg)
        for pos, tok in enumerate(tokens)
    ]
    assert rel_err(steps, full) <= PARITY


def test_generate_consumes_the_stream_like_scalar():
    cfg = ModelConfig()
    ps, pn = twin_params(gpt_numpy, cfg)
    rng_s, rng_n = random.Random(7), random.Random(7)
    for _ in range(5):
        assert gpt_numpy.generate(pn, cfg, rng_n, 0.5) == gpt_scalar.generate(
            ps, cfg, rng_s, 0.5
        )
    assert rng_n.getstate() == rng_s.getstate()


def test_training_steps_match_scalar(docs, names, expected_run):
    # Live scalar steps are slow (~0.1 s each), so 20 are compared
    # with it, losses and weights; the recorded run of the original (which
    # the scalar model reproduces bit for bit) covers 300 steps.
    shuffled, tok = names
    cfg, tcfg = ModelConfig(), TrainConfig()
    ps, pn = twin_params(gpt_numpy, cfg, seed=1)
    opt_s, opt_n = gpt_scalar.Adam(ps, tcfg), gpt_numpy.Adam(pn, tcfg)
    for step in range(20):
        tokens, lr = tok.frame(shuffled[step]), lr_at(step, tcfg)
        loss_s = gpt_scalar.train_step(ps, opt_s, [tokens], lr, cfg)
        loss_n = gpt_numpy.train_step(pn, opt_n, [tokens], lr, cfg)
        assert rel_err(loss_n, loss_s) <= PARITY, step
    weights = gpt_scalar.to_weights(ps)
    for name, w in gpt_numpy.to_weights(pn).items():
        assert rel_err(w, weights[name]) <= PARITY, name

    rng, _, _ = prepare(docs, tcfg.seed)  # the original's stream
    params = gpt_numpy.init_params(cfg, rng)
    opt = gpt_numpy.Adam(params, tcfg)
    for step in range(300):
        tokens = tok.frame(shuffled[step])
        loss = gpt_numpy.train_step(
            params, opt, [tokens], lr_at(step, tcfg), cfg
        )
        assert rel_err(loss, expected_run["losses"][step]) <= PARITY, step


@pytest.mark.slow
def test_full_run_matches_the_original(docs, expected_run):
    result = run("numpy", docs, ModelConfig(), TrainConfig())
    assert len(result.losses) == len(expected_run["losses"])
    for step, (got, want) in enumerate(
        zip(result.losses, expected_run["losses"])
    ):
        assert rel_err(got, want) <= PARITY, step
    assert result.samples == expected_run["samples"]


# -- the parameter buffer and bad input -------------------------------------


def test_params_are_views_into_one_buffer():
    cfg = ModelConfig()
    _, params = twin_params(gpt_numpy, cfg)
    flat = gpt_numpy.flat_params(params)
    assert flat.size == sum(p.size for p in params.values())
    weights = gpt_numpy.to_weights(params)
    weights["wte"][0, 0] += 1.0  # a copy: params are untouched
    assert params["wte"][0, 0] != weights["wte"][0, 0]
    again = gpt_numpy.from_weights(weights)
    assert again["wte"][0, 0] == weights["wte"][0, 0]


def test_adam_refuses_params_outside_one_buffer():
    _, params = twin_params(gpt_numpy, ModelConfig())
    params["wte"] = params["wte"].copy()
    with pytest.raises(ValueError, match="one flat buffer"):
        gpt_numpy.Adam(params, TrainConfig())


@pytest.mark.parametrize(
    "tokens, message",
    [
        ([26], "at least 2 tokens"),
        ([26, 27, 26], r"token ids must be in \[0, 27\)"),
        ([26, 5, 27], r"token ids must be in \[0, 27\)"),
        ([26, -1, 26], r"token ids must be in \[0, 27\)"),
        ([26, 1.7, 26], "token ids must be integers"),
    ],
    ids=[
        "too-short",
        "id-too-big",
        "target-too-big",
        "negative-id",
        "float-id",
    ],
)
def test_bad_documents_are_clear_errors(tokens, message):
    _, params = twin_params(gpt_numpy, ModelConfig())
    with pytest.raises(ValueError, match=message):
        gpt_numpy.loss_and_grads(params, [tokens], ModelConfig())


def test_forward_refuses_more_positions_than_the_block():
    cfg = ModelConfig(block_size=4)
    _, params = twin_params(gpt_numpy, cfg)
    with pytest.raises(ValueError, match="do not fit in block_size 4"):
        gpt_numpy.forward(params, [0] * 5, cfg)
    with pytest.raises(ValueError, match="no token ids"):
        gpt_numpy.forward(params, [], cfg)


# -- batches of several documents ------------------------------------------


def test_batch_gradients_are_token_weighted_doc_gradients(names):
    cfg = ModelConfig(block_size=8)
    shuffled, tok = names
    batch = [tok.frame(d) for d in shuffled[:5] + ["al", "bo"]] + [
        long_doc(names, 9)
    ]
    ns = [min(cfg.block_size, len(t) - 1) for t in batch]
    assert len(set(ns)) > 1  # so there is padding
    assert pack(batch, cfg.block_size).shared  # and rows with two names
    _, params = twin_params(gpt_numpy, cfg)
    loss, grads = gpt_numpy.loss_and_grads(params, batch, cfg)
    singles = [gpt_numpy.loss_and_grads(params, [t], cfg) for t in batch]
    assert (
        rel_err(loss, sum(n * s[0] for n, s in zip(ns, singles)) / sum(ns))
        <= PARITY
    )
    for name in grads:
        combined = sum(n * s[1][name] for n, s in zip(ns, singles))
        assert rel_err(grads[name], combined / sum(ns)) <= PARITY, name


def test_batch_loss_gradient_with_padding_by_finite_differences(names):
    cfg = ModelConfig(n_embd=8, n_head=2, block_size=6)
    shuffled, tok = names
    batch = [tok.frame(d) for d in ("al", "emma", "bo")] + [long_doc(names, 8)]
    assert pack(batch, cfg.block_size).shared
    _, params = twin_params(gpt_numpy, cfg)
    _, grads = gpt_numpy.loss_and_grads(params, batch, cfg)

    def f():
        return gpt_numpy.loss_and_grads(params, batch, cfg)[0]

    for name, p in params.items():
        assert_grad(grads[name], numeric_grad(f, p))


def test_packed_documents_see_only_themselves(names):
    cfg = ModelConfig(n_layer=2)
    shuffled, tok = names
    batch = [tok.frame(d) for d in shuffled[:12]]
    _, params = twin_params(gpt_numpy, cfg)
    arrays = batch_arrays(batch, cfg)
    assert arrays.mask is not None and len(arrays.inputs) < len(batch)
    logits, _ = gpt_numpy.forward(params, arrays, cfg)  # (R, T, V)
    p = pack(batch, cfg.block_size)
    for b, tokens in enumerate(batch):
        alone, _ = gpt_numpy.forward(params, tokens[:-1], cfg)  # (T, V)
        assert rel_err(logits[p.seq == b], alone) <= PARITY, b
