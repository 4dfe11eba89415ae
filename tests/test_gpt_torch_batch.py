"""The PyTorch twin's batched training: packed rows, token-weighted loss."""

import random

import pytest
import torch  # pinned in requirements.txt: a broken install must fail

from microgpt import gpt_torch
from microgpt.config import ModelConfig, TrainConfig
from microgpt.packing import pack, visible
from microgpt.train import lr_at
from twins import (CONFIGS, PARITY, assert_grads_close, pick_docs, rel_err,
                   twin_params)

pytestmark = pytest.mark.torch


# -- batched training -------------------------------------------------------


def test_batch_of_one_is_train_step_exactly(names):
    cfg, tcfg = ModelConfig(), TrainConfig()
    _, a = twin_params(gpt_torch, cfg, device="cpu")
    _, b = twin_params(gpt_torch, cfg, device="cpu")
    opt_a, opt_b = gpt_torch.Adam(a, tcfg), gpt_torch.Adam(b, tcfg)
    shuffled, tok = names
    for step in range(5):
        tokens, lr = tok.frame(shuffled[step]), lr_at(step, tcfg)
        assert gpt_torch.train_step(a, opt_a, tokens, lr, cfg) == \
            gpt_torch.train_step_batch(b, opt_b, [tokens], lr, cfg)
    for name in a:
        assert torch.equal(a[name], b[name]), name


@pytest.mark.parametrize("cfg", [CONFIGS[k] for k in
                                 ("default", "block_size=4", "n_layer=2")],
                         ids=["default", "block_size=4", "n_layer=2"])
def test_batch_gradient_is_the_token_weighted_sum_of_doc_gradients(
        cfg, names):
    _, params = twin_params(gpt_torch, cfg, device="cpu")
    shuffled, tok = names
    batch = [tok.frame(n) for n in shuffled[:5] + [min(shuffled, key=len)]]
    batch += [tok.frame("a"), tok.frame("o")]  # these two always share
    batch += pick_docs(names, cfg, 1)  # the longest name
    ns = [min(cfg.block_size, len(t) - 1) for t in batch]
    assert len(set(ns)) > 1  # real padding happens
    assert pack(batch, cfg.block_size).shared  # and packing
    loss, grads = gpt_torch.loss_and_grads_batch(params, batch, cfg)
    want_loss, want = 0.0, {}
    for tokens, n in zip(batch, ns):
        doc, g = gpt_torch.loss_and_grads(params, tokens, cfg)
        want_loss += doc * n / sum(ns)
        for name, x in g.items():
            want[name] = want.get(name, 0) + x * n / sum(ns)
    assert abs(loss - want_loss) <= PARITY * want_loss
    assert_grads_close(grads, want)


def test_batch_gradient_matches_finite_differences(names):
    cfg = ModelConfig(block_size=8)
    _, params = twin_params(gpt_torch, cfg, device="cpu")
    shuffled, tok = names
    batch = [tok.frame(n) for n in shuffled[:4] + ["al"]] + pick_docs(
        names, cfg, 1)
    assert pack(batch, cfg.block_size).shared
    _, grads = gpt_torch.loss_and_grads_batch(params, batch, cfg)
    h, rng = 1e-6, random.Random(0)
    for name, p in params.items():
        for _ in range(3):
            i = rng.randrange(p.shape[0])
            j = rng.randrange(p.shape[1])
            old, losses = p[i, j].item(), []
            for delta in (h, -h):
                with torch.no_grad():
                    p[i, j] = old + delta
                    losses.append(gpt_torch.batch_loss(params, batch,
                                                       cfg).item())
                    p[i, j] = old
            numeric = (losses[0] - losses[1]) / (2 * h)
            assert grads[name][i, j] == pytest.approx(
                numeric, rel=1e-6, abs=1e-9), f"{name}[{i}, {j}]"


def test_packed_documents_see_only_themselves(names):
    cfg = CONFIGS["n_layer=2"]
    _, params = twin_params(gpt_torch, cfg, device="cpu")
    shuffled, tok = names
    batch = [tok.frame(n) for n in shuffled[:12]]
    p = pack(batch, cfg.block_size)
    assert p.shared
    with torch.no_grad():
        logits, _ = gpt_torch.forward(params, p.inputs, cfg,
                                      pos=p.positions,
                                      mask=visible(p.docs))  # (R, T, V)
        for b, tokens in enumerate(batch):
            alone, _ = gpt_torch.forward(params, tokens[:-1], cfg)
            got = logits[torch.as_tensor(p.docs == b)]
            assert rel_err(got, alone) <= PARITY, b
