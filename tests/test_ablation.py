"""The model with switches: exact at its defaults, each switch checked."""

import random

import numpy as np
import pytest
import torch

from microgpt import ablation, gpt_torch
from microgpt.config import ModelConfig, TrainConfig
from microgpt.data import split_docs
from microgpt.gpt_torch import attention, linear, rmsnorm
from microgpt.params import num_params

pytestmark = pytest.mark.torch

CFG = ModelConfig(n_layer=2, block_size=8)


def model(cfg=CFG, seed=0):
    return gpt_torch.init_params(cfg, random.Random(seed), device="cpu")


def tokens(cfg=CFG, seed=1, shape=(3, 8)):
    return torch.randint(
        0, cfg.vocab_size, shape, generator=torch.Generator().manual_seed(seed)
    )


def with_zeroed(params, name, cols=None):
    """A copy of params with one matrix (or some of its columns) zero."""
    out = {n: p.detach().clone() for n, p in params.items()}
    if cols is None:
        out[name].zero_()
    else:
        out[name][:, cols] = 0
    return out


@pytest.mark.parametrize("shape", [(8,), (3, 8), (2, 5)])
def test_defaults_give_gpt_torch_forward_exactly(shape):
    params, ids = model(), tokens(shape=shape)
    want, _ = gpt_torch.forward(params, ids, CFG)
    got = ablation.forward(params, ids, CFG)
    assert want.dtype == torch.float64
    assert torch.equal(got, want)


def test_silencing_a_head_is_zeroing_its_columns_of_attn_wo():
    params, ids = model(), tokens()
    hd = CFG.head_dim
    for layer, head in [(0, 0), (1, 3)]:
        got = ablation.forward(params, ids, CFG, silenced=[(layer, head)])
        zeroed = with_zeroed(
            params, f"layer{layer}.attn_wo", slice(head * hd, (head + 1) * hd)
        )
        want, _ = gpt_torch.forward(zeroed, ids, CFG)
        assert torch.allclose(got, want, rtol=0, atol=1e-15)
        full, _ = gpt_torch.forward(params, ids, CFG)
        assert not torch.allclose(got, full, atol=1e-6)


def test_no_mlp_and_no_positions_are_zeroed_weights():
    params, ids = model(), tokens()
    zeroed = params
    for i in range(CFG.n_layer):
        zeroed = with_zeroed(zeroed, f"layer{i}.mlp_fc2")
    want, _ = gpt_torch.forward(zeroed, ids, CFG)
    assert torch.equal(ablation.forward(params, ids, CFG, mlp=False), want)
    want, _ = gpt_torch.forward(with_zeroed(params, "wpe"), ids, CFG)
    assert torch.equal(
        ablation.forward(params, ids, CFG, positions=False), want
    )


def test_no_first_norm_and_no_residuals_by_hand():
    cfg = ModelConfig(block_size=8)
    params, ids = model(cfg), tokens(cfg)
    p = {n: t.detach() for n, t in params.items()}
    x = p["wte"][ids] + p["wpe"][torch.arange(8)]
    h = rmsnorm(x)
    q, k, v = (linear(h, p["layer0.attn_" + w]) for w in ("wq", "wk", "wv"))
    a = linear(attention(q, k, v, cfg), p["layer0.attn_wo"])
    m = linear(
        torch.relu(linear(rmsnorm(a), p["layer0.mlp_fc1"])),
        p["layer0.mlp_fc2"],
    )
    want = linear(m, p["lm_head"])
    got = ablation.forward(params, ids, cfg, first_norm=False, residual=False)
    assert torch.allclose(got, want, rtol=0, atol=1e-15)
    normed = ablation.forward(params, ids, cfg, residual=False)
    assert not torch.allclose(normed, want, atol=1e-6)


def test_bad_head_is_a_value_error():
    params, ids = model(), tokens()
    with pytest.raises(ValueError, match="no head 4 in layer 0"):
        ablation.forward(params, ids, CFG, silenced=[(0, 4)])
    with pytest.raises(ValueError, match="no head 0 in layer 2"):
        ablation.head_gate(CFG, 0, [(2, 0)], torch.zeros(1))


def test_parameter_counts_leave_out_what_is_unused():
    cfg, d = ModelConfig(), ModelConfig().n_embd
    assert ablation.num_used(cfg) == num_params(cfg) == 4192
    assert ablation.num_used(cfg, {"mlp": False}) == 4192 - 8 * d * d
    assert ablation.num_used(cfg, {"positions": False}) == 4192 - 16 * d
    assert ablation.num_used(cfg, {"residual": False}) == 4192


def test_rows_pad_with_minus_one_and_cut_long_names():
    cfg = ModelConfig(block_size=4)
    ids = ablation.rows(["ab", "abcdefg"], ablation.TOKENIZER, cfg)
    assert ids.tolist() == [[26, 0, 1, 26, -1], [26, 0, 1, 2, 3]]


def test_batch_loss_equals_the_twins_mean_over_the_same_names(docs):
    cfg = ModelConfig()
    params = model(cfg)
    some = docs[:40]
    ids = ablation.rows(some, ablation.TOKENIZER, cfg)
    want = gpt_torch.evaluate(
        params, [ablation.TOKENIZER.frame(d) for d in some], cfg
    )
    got = ablation.held_out_loss(params, ids, cfg)
    assert got == pytest.approx(want, rel=1e-12)


def test_training_is_seeded_and_lowers_the_loss(docs):
    cfg = ModelConfig(n_embd=8, n_head=2)
    train_docs, val_docs = split_docs(docs[:2000], 0.1)
    tcfg = TrainConfig(num_steps=60, batch_size=8, seed=3)
    val = ablation.rows(val_docs, ablation.TOKENIZER, cfg)
    start = ablation.held_out_loss(model(cfg), val, cfg)
    a = ablation.train(train_docs, cfg, tcfg, dtype=torch.float64)
    b = ablation.train(train_docs, cfg, tcfg, dtype=torch.float64)
    for name in a:
        assert torch.equal(a[name], b[name])
    assert ablation.held_out_loss(a, val, cfg) < start - 0.2
    # Without its MLP a model leaves the MLP's weights where they began.
    c = ablation.train(train_docs, cfg, tcfg, {"mlp": False})
    rng = random.Random(3)
    rng.shuffle(list(train_docs))  # the run shuffles, then draws weights
    init = gpt_torch.init_params(cfg, rng, device="cpu")
    assert not torch.equal(c["wte"].double(), init["wte"])
    assert np.allclose(
        c["layer0.mlp_fc1"].detach().numpy(),
        init["layer0.mlp_fc1"].detach().numpy(),
        atol=1e-7,
    )


def test_pca_finds_the_axis_of_a_line_with_a_fixed_sign():
    rng = np.random.default_rng(0)
    t = rng.normal(size=50)
    rows = np.outer(t, [3.0, -4.0, 0.0]) / 5 + 0.01 * rng.normal(size=(50, 3))
    for sign in (1, -1):
        xy, share = ablation.pca_2d(sign * rows)
        assert xy.shape == (50, 2) and share[0] > 0.99
        # the axis is (0.6, -0.8, 0) up to sign; -0.8 is made positive
        assert np.allclose(
            xy[:, 0],
            -(sign * rows - (sign * rows).mean(axis=0)) @ [0.6, -0.8, 0.0],
            atol=0.02,
        )
