"""The NumPy twin's batched training: packed rows, token-weighted loss."""

import numpy as np
import pytest

from microgpt import gpt_numpy
from microgpt.config import ModelConfig, TrainConfig
from microgpt.packing import pack
from twins import (PARITY, assert_grad, long_doc, numeric_grad, rel_err,
                   twin_params)

pytestmark = pytest.mark.numpy


# -- batched training -------------------------------------------------------


def test_batch_of_one_is_train_step(names):
    shuffled, tok = names
    cfg, tcfg = ModelConfig(), TrainConfig()
    _, a = twin_params(gpt_numpy, cfg)
    _, b = twin_params(gpt_numpy, cfg)
    opt_a, opt_b = gpt_numpy.Adam(a, tcfg), gpt_numpy.Adam(b, tcfg)
    for step in range(20):
        tokens = tok.frame(shuffled[step])
        assert gpt_numpy.train_step(a, opt_a, tokens, 0.01, cfg) == \
            gpt_numpy.train_step_batch(b, opt_b, [tokens], 0.01, cfg)
    for name in a:
        assert np.array_equal(a[name], b[name]), name


def test_batch_gradients_are_token_weighted_doc_gradients(names):
    cfg = ModelConfig(block_size=8)
    shuffled, tok = names
    batch = [tok.frame(d) for d in shuffled[:5] + ["al", "bo"]] + [
        long_doc(names, 9)]
    ns = [min(cfg.block_size, len(t) - 1) for t in batch]
    assert len(set(ns)) > 1  # so there is padding
    assert pack(batch, cfg.block_size).shared  # and rows with two names
    _, params = twin_params(gpt_numpy, cfg)
    loss, grads = gpt_numpy.loss_and_grads_batch(params, batch, cfg)
    singles = [gpt_numpy.loss_and_grads(params, t, cfg) for t in batch]
    assert rel_err(loss, sum(n * s[0] for n, s in zip(ns, singles))
                   / sum(ns)) <= PARITY
    for name in grads:
        combined = sum(n * s[1][name] for n, s in zip(ns, singles))
        assert rel_err(grads[name], combined / sum(ns)) <= PARITY, name


def test_batch_loss_gradient_with_padding_by_finite_differences(names):
    cfg = ModelConfig(n_embd=8, n_head=2, block_size=6)
    shuffled, tok = names
    batch = [tok.frame(d) for d in ("al", "emma", "bo")] + [
        long_doc(names, 8)]
    assert pack(batch, cfg.block_size).shared
    _, params = twin_params(gpt_numpy, cfg)
    _, grads = gpt_numpy.loss_and_grads_batch(params, batch, cfg)
    f = lambda: gpt_numpy.loss_and_grads_batch(params, batch, cfg)[0]
    for name, p in params.items():
        assert_grad(grads[name], numeric_grad(f, p))


def test_packed_documents_see_only_themselves(names):
    cfg = ModelConfig(n_layer=2)
    shuffled, tok = names
    batch = [tok.frame(d) for d in shuffled[:12]]
    _, params = twin_params(gpt_numpy, cfg)
    inputs, _, _, pos, mask = gpt_numpy.batch_arrays(batch, cfg)
    assert mask is not None and len(inputs) < len(batch)  # packed
    logits, _ = gpt_numpy.forward(params, inputs, cfg, pos=pos, mask=mask)
    p = pack(batch, cfg.block_size)
    for b, tokens in enumerate(batch):
        alone, _ = gpt_numpy.forward(params, tokens[:-1], cfg)  # (T, V)
        assert rel_err(logits[p.docs == b], alone) <= PARITY, b
