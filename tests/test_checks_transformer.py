"""The transformer chapter's checks pass the reference and catch mistakes."""

import numpy as np
import pytest

from microgpt.course.checks import CheckFailed
from microgpt.course.checks import transformer as checks
from microgpt.gpt_scalar import attention, linear, rmsnorm

pytestmark = pytest.mark.model


def _rms_rows(X):
    return X / np.sqrt((X**2).mean(axis=-1, keepdims=True) + 1e-5)


def good_forward_matrix(W, tokens, cfg, first_norm=True, mask=True, power=0.5):
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
            S = Q[:, s] @ K[:, s].T / hd**power
            if mask:
                S[future] = -np.inf
            A = np.exp(S - S.max(axis=1, keepdims=True))
            heads.append(A / A.sum(axis=1, keepdims=True) @ V[:, s])
        X = X + np.concatenate(heads, axis=1) @ W[w + "attn_wo"].T
        X = (
            X
            + np.maximum(_rms_rows(X) @ W[w + "mlp_fc1"].T, 0)
            @ W[w + "mlp_fc2"].T
        )
    return X @ W["lm_head"].T


def mlp(x, params, i, norm=True):
    h = rmsnorm(x) if norm else x
    h = [hi.relu() for hi in linear(h, params[f"layer{i}.mlp_fc1"])]
    return linear(h, params[f"layer{i}.mlp_fc2"])


def good_mlp_block(x, params, i):
    return [a + b for a, b in zip(mlp(x, params, i), x)]


def good_gpt(
    token_id, pos_id, kv_cache, params, cfg, first_norm=True, layers=None
):
    keys, values = kv_cache
    x = [t + p for t, p in zip(params["wte"][token_id], params["wpe"][pos_id])]
    x = rmsnorm(x) if first_norm else x
    for i in range(cfg.n_layer if layers is None else layers):
        w = f"layer{i}."
        h = rmsnorm(x)
        q = linear(h, params[w + "attn_wq"])
        keys[i].append(linear(h, params[w + "attn_wk"]))
        values[i].append(linear(h, params[w + "attn_wv"]))
        h = attention(q, keys[i], values[i], cfg)
        x = [a + b for a, b in zip(linear(h, params[w + "attn_wo"]), x)]
        x = [a + b for a, b in zip(mlp(x, params, i), x)]
    return linear(x, params["lm_head"])


def test_checks_pass_the_reference(capsys):
    checks.check_post_norm_mlp(good_post_norm)
    checks.check_gpt(good_gpt)
    checks.check_forward_matrix(good_forward_matrix)
    assert capsys.readouterr().out.count("✓") == 3


def good_post_norm(x, params, i):
    h = [hi.relu() for hi in linear(x, params[f"layer{i}.mlp_fc1"])]
    h = linear(h, params[f"layer{i}.mlp_fc2"])
    return rmsnorm([a + b for a, b in zip(x, h)])


def test_cache_size_passes_the_measured_number(capsys):
    checks.check_cache_size(lambda: 160)
    assert "✓ numbers in the KV cache" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (80, "the cache keeps a key and a value"),
        (192, "the closing BOS is only a target"),
        (640, "the heads split each 16-number key"),
        (128, "that counts four positions; the inputs are five"),
        (
            100,
            "is too small .*; run the package's gpt on the inputs of "
            "'emma' and add up",
        ),
    ],
)
def test_cache_size_typical_mistakes_get_their_hint(wrong, hint):
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 7, exercise 1: "
        r"numbers in the KV cache .*" + hint,
    ):
        checks.check_cache_size(lambda: wrong)


def test_post_norm_in_the_chapters_order_names_it():
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 7, exercise 2: output "
        r"of layer 0's post-norm MLP block \(n_embd=16\) at "
        r"dimension \d+: got .*; this is what the chapter's "
        r"pre-norm order, x \+ MLP\(rmsnorm\(x\)\) gives$",
    ):
        checks.check_post_norm_mlp(good_mlp_block)


@pytest.mark.parametrize(
    "wrong, mistake",
    [
        (
            lambda x, p, i: [
                a + b for a, b in zip(x, mlp(x, p, i, norm=False))
            ],
            r"leaving out the norm \(x \+ MLP\(x\)\)",
        ),
        (
            lambda x, p, i: rmsnorm(good_mlp_block(x, p, i)),
            "normalizing twice, before the MLP and after the sum",
        ),
        (
            lambda x, p, i: rmsnorm(mlp(x, p, i, norm=False)),
            r"leaving out the residual \(rmsnorm\(MLP\(x\)\)\)",
        ),
    ],
)
def test_post_norm_typical_mistakes_name_it(wrong, mistake):
    with pytest.raises(
        CheckFailed, match=r"this is what " + mistake + " gives$"
    ):
        checks.check_post_norm_mlp(wrong)


def test_post_norm_that_ignores_the_layer_index_fails_on_layer_1():
    with pytest.raises(
        CheckFailed,
        match=r"layer 1's post-norm MLP block "
        r"\(n_embd=8\) at dimension \d: "
        r".*; this is what using layer 0's"
        r" weights whatever i is gives$",
    ):
        checks.check_post_norm_mlp(
            lambda x, params, i: good_post_norm(x, params, 0)
        )


def test_gpt_that_runs_one_layer_fails_on_the_deep_model():
    with pytest.raises(
        CheckFailed,
        match=r"keys cached for layer 1 after "
        r"position 0 \(n_layer=2\): "
        r"got 0, expected 1",
    ):
        checks.check_gpt(lambda *args: good_gpt(*args, layers=1))


def shared_cache_gpt(token_id, pos_id, kv_cache, params, cfg):
    # Exercise 3's planted mistake: every layer uses layer 0's cache.
    keys, values = kv_cache
    x = rmsnorm(
        [t + p for t, p in zip(params["wte"][token_id], params["wpe"][pos_id])]
    )
    for i in range(cfg.n_layer):
        w = f"layer{i}."
        h = rmsnorm(x)
        q = linear(h, params[w + "attn_wq"])
        keys[0].append(linear(h, params[w + "attn_wk"]))
        values[0].append(linear(h, params[w + "attn_wv"]))
        h = attention(q, keys[0], values[0], cfg)
        x = [a + b for a, b in zip(linear(h, params[w + "attn_wo"]), x)]
        x = [a + b for a, b in zip(mlp(x, params, i), x)]
    return linear(x, params["lm_head"])


def test_a_cache_shared_by_the_layers_is_named():
    with pytest.raises(
        CheckFailed,
        match=r"keys cached after position 0 "
        r"\(n_layer=2\): layer 0 holds 2, "
        r"the other layers none; this is "
        r"what one cache shared by every "
        r"layer .* gives$",
    ):
        checks.check_gpt(shared_cache_gpt)


def test_gpt_without_first_norm_fails_at_position_0():
    with pytest.raises(
        CheckFailed,
        match=r"logits at position 0 \(n_layer="
        r"1, n_embd=16\) at token \d+: got .*; this is what "
        r"leaving out the rmsnorm right after the embeddings "
        r"gives$",
    ):
        checks.check_gpt(lambda *args: good_gpt(*args, first_norm=False))


def test_forward_matrix_without_first_norm_fails():
    with pytest.raises(
        CheckFailed,
        match=r"logits \(n_layer=1, n_embd=16\)"
        r" at position 0, token \d+: got .*difference.*; "
        r"this is what leaving out the rmsnorm right after "
        r"the embeddings gives$",
    ):
        checks.check_forward_matrix(
            lambda W, t, cfg: good_forward_matrix(W, t, cfg, False)
        )


def test_forward_matrix_without_mask_fails_at_position_0():
    with pytest.raises(
        CheckFailed,
        match=r"at position 0, token \d+: .*; "
        r"this is what the causal mask not "
        r"applied gives$",
    ):
        checks.check_forward_matrix(
            lambda W, t, cfg: good_forward_matrix(W, t, cfg, mask=False)
        )


@pytest.mark.parametrize(
    "power, mistake",
    [
        (1.0, "dividing the scores by head_dim, not its square root"),
        (0.0, "leaving the scores unscaled"),
    ],
)
def test_forward_matrix_with_a_wrong_scale_names_it(power, mistake):
    with pytest.raises(
        CheckFailed, match=r"; this is what " + mistake + " gives$"
    ):
        checks.check_forward_matrix(
            lambda W, t, cfg: good_forward_matrix(W, t, cfg, power=power)
        )


def test_forward_matrix_of_wrong_shape_fails():
    with pytest.raises(
        CheckFailed,
        match=r"logits shape .* expected "
        r"\(16, 27\), got \(15, 27\)",
    ):
        checks.check_forward_matrix(
            lambda W, t, cfg: good_forward_matrix(W, t, cfg)[:-1]
        )


def test_post_norm_that_adds_the_residual_in_place_passes(capsys):
    def in_place(x, params, i):
        h = mlp(x, params, i, norm=False)
        for j in range(len(x)):
            x[j] = x[j] + h[j]
        return rmsnorm(x)

    checks.check_post_norm_mlp(in_place)
    assert "✓ post-norm MLP block" in capsys.readouterr().out


def test_forward_matrix_that_consumes_its_tokens_passes(capsys):
    def consuming(W, tokens, cfg):
        out = good_forward_matrix(W, tokens, cfg)
        tokens.reverse()
        return out

    checks.check_forward_matrix(consuming)
    assert "✓ the forward pass as matrices" in capsys.readouterr().out
