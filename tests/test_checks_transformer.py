"""The transformer chapter's checks pass the reference and catch mistakes."""

import math
from dataclasses import replace

import numpy as np
import pytest

from microgpt import gpt_scalar
from microgpt.checks import CheckFailed
from microgpt.checks import transformer as checks

pytestmark = pytest.mark.model


def _rms_rows(X):
    return X / np.sqrt((X**2).mean(axis=-1, keepdims=True) + 1e-5)


def good_forward_matrix(W, tokens, cfg, first_norm=True):
    T, hd = len(tokens), cfg.head_dim
    future = np.triu(np.ones((T, T), dtype=bool), k=1)
    X = W["wte"][tokens] + W["wpe"][:T]
    X = _rms_rows(X) if first_norm else X
    for i in range(cfg.n_layer):
        w = f"layer{i}."
        H = _rms_rows(X)
        Q, K, V = (H @ W[w + f"attn_w{c}"].T for c in "qkv")
        heads = []
        for h in range(cfg.n_head):
            s = slice(h * hd, (h + 1) * hd)
            S = Q[:, s] @ K[:, s].T / math.sqrt(hd)
            S[future] = -np.inf
            A = np.exp(S - S.max(axis=1, keepdims=True))
            heads.append(A / A.sum(axis=1, keepdims=True) @ V[:, s])
        X = X + np.concatenate(heads, axis=1) @ W[w + "attn_wo"].T
        X = X + np.maximum(_rms_rows(X) @ W[w + "mlp_fc1"].T, 0) \
            @ W[w + "mlp_fc2"].T
    return X @ W["lm_head"].T


def only_layer0_gpt(token_id, pos_id, kv_cache, params, cfg):
    """The package's gpt, but every layer uses layer 0's cache."""
    keys, values = kv_cache
    shared = replace(cfg, n_layer=1)
    return gpt_scalar.gpt(token_id, pos_id, ([keys[0]], [values[0]]),
                          params, shared)


def test_checks_pass_the_reference(capsys):
    checks.check_mlp_block(checks._reference_mlp)
    checks.check_gpt(gpt_scalar.gpt)
    checks.check_forward_matrix(good_forward_matrix)
    assert capsys.readouterr().out.count("✓") == 3


def test_mlp_block_without_residual_fails():
    def no_residual(x, params, i):
        out = checks._reference_mlp(x, params, i)
        return [a - b for a, b in zip(out, x)]

    with pytest.raises(CheckFailed, match=r"output of layer 0's MLP block "
                                          r"\(n_embd=16\)\[\d+\]: got"):
        checks.check_mlp_block(no_residual)


def test_mlp_block_that_ignores_the_layer_index_fails_on_layer_1():
    with pytest.raises(CheckFailed, match=r"layer 1's MLP block "
                                          r"\(n_embd=8\)"):
        checks.check_mlp_block(
            lambda x, params, i: checks._reference_mlp(x, params, 0))


def test_gpt_that_runs_one_layer_fails_on_the_deep_model():
    with pytest.raises(CheckFailed, match=r"keys cached for layer 1 after "
                                          r"position 0 \(n_layer=2\): "
                                          r"got 0, expected 1"):
        checks.check_gpt(only_layer0_gpt)


def test_gpt_without_first_norm_fails_at_position_0():
    def no_first_norm(token_id, pos_id, kv_cache, params, cfg):
        old = gpt_scalar.rmsnorm
        calls = []

        def skip_first(x):
            calls.append(1)
            return x if len(calls) == 1 else old(x)

        gpt_scalar.rmsnorm = skip_first
        try:
            return gpt_scalar.gpt(token_id, pos_id, kv_cache, params, cfg)
        finally:
            gpt_scalar.rmsnorm = old

    with pytest.raises(CheckFailed, match=r"logits at position 0 \(n_layer="
                                          r"1, n_embd=16\)\[\d+\]"):
        checks.check_gpt(no_first_norm)


def test_forward_matrix_without_first_norm_fails():
    with pytest.raises(CheckFailed, match=r"logits at position 0 .*"
                                          r"difference"):
        checks.check_forward_matrix(
            lambda W, t, cfg: good_forward_matrix(W, t, cfg, False))


def test_forward_matrix_of_wrong_shape_fails():
    with pytest.raises(CheckFailed, match=r"logits shape .* expected "
                                          r"\(16, 27\), got \(15, 27\)"):
        checks.check_forward_matrix(
            lambda W, t, cfg: good_forward_matrix(W, t, cfg)[:-1])


def test_mlp_block_that_adds_the_residual_in_place_passes(capsys):
    def in_place(x, params, i):
        h = gpt_scalar.rmsnorm(x)
        h = gpt_scalar.linear(h, params[f"layer{i}.mlp_fc1"])
        h = [hi.relu() for hi in h]
        h = gpt_scalar.linear(h, params[f"layer{i}.mlp_fc2"])
        for j in range(len(x)):
            x[j] = x[j] + h[j]
        return x

    checks.check_mlp_block(in_place)
    assert "✓ MLP block with its residual" in capsys.readouterr().out


def test_forward_matrix_that_consumes_its_tokens_passes(capsys):
    def consuming(W, tokens, cfg):
        out = good_forward_matrix(W, tokens, cfg)
        tokens.reverse()
        return out

    checks.check_forward_matrix(consuming)
    assert "✓ the forward pass as matrices" in capsys.readouterr().out
