"""Checks for the transformer chapter's exercises."""

import random

import numpy as np

from .. import gpt_scalar
from ..config import ModelConfig
from ..engine import Value
from ..params import init_weights
from . import CheckFailed, check_close, check_equal, passed

# A deeper, narrower model than the default: a solution that forgets the
# layer loop, or hard-codes layer 0 or 16 numbers, fails on it.
SMALL = ModelConfig(vocab_size=7, n_layer=2, n_embd=8, block_size=6,
                    n_head=2)


def _weights(cfg, seed, std=0.3):
    """Seeded weights, larger than the init's so that every path shows."""
    return init_weights(cfg, random.Random(seed), std=std)


def _reference_mlp(x, params, i):
    """x + fc2(relu(fc1(rmsnorm(x)))) with layer i's weights."""
    h = gpt_scalar.rmsnorm(x)
    h = gpt_scalar.linear(h, params[f"layer{i}.mlp_fc1"])  # (4 * n_embd,)
    h = [hi.relu() for hi in h]
    h = gpt_scalar.linear(h, params[f"layer{i}.mlp_fc2"])  # (n_embd,)
    return [a + b for a, b in zip(h, x)]


def check_mlp_block(mlp_block, seed=0):
    """mlp_block(x, params, i) -> x plus the MLP of layer i."""
    rng = random.Random(seed)
    for cfg in (ModelConfig(), SMALL):
        params = gpt_scalar.from_weights(_weights(cfg, seed))
        for i in range(cfg.n_layer):
            x = [Value(rng.gauss(0, 1)) for _ in range(cfg.n_embd)]
            expected = _reference_mlp(x, params, i)
            # NOTE: a copy, after the reference: a right answer may add
            # the residual in place (x[j] = x[j] + h[j]) and return x.
            got = mlp_block(list(x), params, i)
            check_close(f"output of layer {i}'s MLP block "
                        f"(n_embd={cfg.n_embd})", got, expected, tol=1e-12)
    passed("MLP block with its residual")


def check_gpt(gpt, seed=0):
    """gpt(token_id, pos_id, kv_cache, params, cfg) -> logits."""
    rng = random.Random(seed)
    for cfg in (ModelConfig(), SMALL):
        params = gpt_scalar.from_weights(_weights(cfg, seed))
        tokens = [rng.randrange(cfg.vocab_size)
                  for _ in range(cfg.block_size)]
        cache, ref_cache = (gpt_scalar.new_kv_cache(cfg) for _ in "ab")
        for pos, token in enumerate(tokens):
            expected = gpt_scalar.gpt(token, pos, ref_cache, params, cfg)
            got = gpt(token, pos, cache, params, cfg)
            for i in range(cfg.n_layer):
                check_equal(f"keys cached for layer {i} after position "
                            f"{pos} (n_layer={cfg.n_layer})",
                            len(cache[0][i]), pos + 1)
            check_close(f"logits at position {pos} (n_layer={cfg.n_layer}"
                        f", n_embd={cfg.n_embd})", got, expected, tol=1e-12)
    passed("the full forward pass")


def check_forward_matrix(forward_matrix, seed=0):
    """forward_matrix(W, tokens, cfg) -> (T, vocab_size) NumPy logits."""
    rng = random.Random(seed)
    for cfg in (ModelConfig(), SMALL):
        weights = _weights(cfg, seed)
        W = {name: np.array(rows) for name, rows in weights.items()}
        T = cfg.block_size
        tokens = [rng.randrange(cfg.vocab_size) for _ in range(T)]
        expected = gpt_scalar.forward(gpt_scalar.from_weights(weights),
                                      tokens, cfg)
        got = forward_matrix(W, list(tokens), cfg)
        shape = (T, cfg.vocab_size)
        if getattr(got, "shape", None) != shape:
            raise CheckFailed(
                f"logits shape (n_layer={cfg.n_layer}): expected {shape}, "
                f"got {getattr(got, 'shape', None)}")
        for pos in range(T):
            check_close(f"logits at position {pos} (n_layer={cfg.n_layer}"
                        f", n_embd={cfg.n_embd})", got[pos], expected[pos],
                        tol=1e-9)
    passed("the forward pass as matrices")
