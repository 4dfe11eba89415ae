"""The GPT-2-shaped model: microgpt's forward, GPT-2's size, HF's logits."""

import random
import socket

import pytest
import torch

from microgpt import gpt2, gpt_torch
from microgpt.config import ModelConfig
from microgpt.params import init_weights

pytestmark = pytest.mark.torch


@pytest.fixture
def hf_offline(monkeypatch):
    """transformers, with the hub and every socket switched off."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")

    def refuse(*args, **kwargs):
        raise OSError("this test may not touch the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    # Pinned in requirements.txt: a missing install fails, not skips.
    import transformers

    return transformers


def small_hf(transformers):
    """A randomly initialised float64 GPT2LMHeadModel, 2 layers, 27 ids."""
    torch.manual_seed(0)
    hcfg = transformers.GPT2Config(
        n_layer=2,
        n_embd=64,
        n_head=4,
        n_positions=32,
        vocab_size=27,
        bos_token_id=26,
        eos_token_id=26,
    )
    return transformers.GPT2LMHeadModel(hcfg).to(torch.float64).eval()


SMALL = gpt2.GPT2Config(
    vocab_size=27, block_size=32, n_layer=2, n_head=4, n_embd=64
).gpt2()


def tokens(shape, seed=1):
    return torch.randint(
        0, 27, shape, generator=torch.Generator().manual_seed(seed)
    )


@pytest.mark.parametrize("n_layer", [1, 2])
def test_microgpt_settings_compute_the_torch_twin(n_layer):
    cfg = ModelConfig(n_layer=n_layer, n_embd=16, n_head=4, block_size=16)
    params = gpt_torch.from_weights(
        init_weights(cfg, random.Random(n_layer)),
        device="cpu",
        dtype=torch.float64,
    )
    model = gpt2.from_twin(params, cfg).eval()
    idx = tokens((3, 16))
    want, _ = gpt_torch.forward(params, idx, cfg)
    got = model(idx)
    assert got.dtype == torch.float64 and got.shape == (3, 16, 27)
    assert (got - want).abs().max().item() <= 1e-12
    # The same weights under one GPT-2 switch compute something else.
    gelu = gpt2.GPT(
        gpt2.GPT2Config(
            **{**gpt2.GPT2Config.microgpt(cfg).__dict__, "activation": "gelu"}
        )
    )
    gelu = gelu.to(torch.float64).eval()
    gelu.load_state_dict(gpt2.twin_state(params, cfg))
    assert (gelu(idx) - want).abs().max().item() > 1e-6


def test_gpt2_small_has_124_439_808_parameters():
    with torch.device("meta"):  # counted, not allocated
        model = gpt2.GPT(gpt2.GPT2Config.gpt2_small())
    assert model.lm_head.weight is model.wte.weight
    assert model.num_params() == 124_439_808
    untied = gpt2.GPT2Config.gpt2_small().__dict__ | {"tie_weights": False}
    with torch.device("meta"):
        model = gpt2.GPT(gpt2.GPT2Config(**untied))
    assert model.num_params() == 124_439_808 + 50257 * 768


def test_scaled_init_shrinks_only_the_residual_projections():
    cfg = gpt2.GPT2Config(
        n_layer=8, n_embd=64, n_head=4, block_size=32, vocab_size=50
    ).gpt2()
    model = gpt2.GPT(cfg)
    model.reset_parameters(torch.Generator().manual_seed(0))
    proj = torch.cat([b.mlp.c_proj.weight.flatten() for b in model.h])
    fc = torch.cat([b.mlp.c_fc.weight.flatten() for b in model.h])
    assert proj.std().item() == pytest.approx(0.02 / 4, rel=0.05)
    assert fc.std().item() == pytest.approx(0.02, rel=0.05)
    assert all((b.attn.c_attn.bias == 0).all() for b in model.h)
    assert (model.ln_f.weight == 1).all()


def test_dropout_acts_only_in_training_mode():
    model = gpt2.GPT(gpt2.GPT2Config(dropout=0.5)).to(torch.float64)
    idx = tokens((2, 16))
    model.eval()
    assert torch.equal(model(idx), model(idx))
    model.train()
    assert not torch.equal(model(idx), model(idx))


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("norm", "batch", "norm must be"),
        ("activation", "tanh", "activation"),
        ("n_head", 5, "divisible"),
        ("dropout", 1.0, "dropout"),
    ],
)
def test_bad_config_names_the_field(field, value, message):
    with pytest.raises(ValueError, match=message):
        gpt2.GPT2Config(**{field: value})


def test_too_long_a_sequence_names_block_size():
    with pytest.raises(ValueError, match="block_size 16"):
        gpt2.GPT(gpt2.GPT2Config())(tokens((1, 17)))


def test_hf_names_transpose_exactly_the_conv1d_weights():
    assert gpt2.hf_name("lm_head.weight") == "lm_head.weight"
    assert (
        gpt2.hf_name("h.3.attn.c_attn.bias")
        == "transformer.h.3.attn.c_attn.bias"
    )
    model = gpt2.GPT(SMALL)
    state = gpt2.to_hf_state(model)
    assert state["transformer.h.0.attn.c_attn.weight"].shape == (64, 192)
    assert state["transformer.h.0.mlp.c_proj.weight"].shape == (256, 64)
    assert state["transformer.wte.weight"].shape == (27, 64)


def test_hf_weights_copied_in_give_hf_logits(hf_offline):
    hf = small_hf(hf_offline)
    assert hf.num_parameters() == gpt2.GPT(SMALL).num_params()
    model = gpt2.GPT(SMALL).to(torch.float64).eval()
    model.load_state_dict(gpt2.from_hf_state(hf.state_dict(), SMALL))
    idx = tokens((3, 32))
    with torch.no_grad():
        diff = (model(idx) - hf(idx).logits).abs().max().item()
    assert diff <= 1e-10
    # Without the transposes the shapes would not even load.
    wrong = {
        k: v for k, v in gpt2.from_hf_state(hf.state_dict(), SMALL).items()
    }
    wrong["h.0.mlp.c_fc.weight"] = wrong["h.0.mlp.c_fc.weight"].t()
    with pytest.raises(RuntimeError, match="size mismatch"):
        model.load_state_dict(wrong)


def test_our_weights_copied_out_give_the_same_hf_logits(hf_offline):
    model = gpt2.GPT(SMALL).to(torch.float64).eval()
    model.reset_parameters(torch.Generator().manual_seed(3))
    hf = small_hf(hf_offline)
    hf.load_state_dict(gpt2.to_hf_state(model))  # strict: every name
    idx = tokens((2, 20), seed=4)
    with torch.no_grad():
        diff = (model(idx) - hf(idx).logits).abs().max().item()
    assert diff <= 1e-10
