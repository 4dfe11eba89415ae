"""Checks for the transformer chapter's exercises."""

import random

import numpy as np

from ... import gpt_numpy, gpt_scalar
from ...config import ModelConfig
from ...engine import Value
from ...params import init_weights
from . import CheckFailed, check_close, check_equal, passed
from .exercise import exercise
from .questions import number

# The default model and a deeper, narrower one: a solution that forgets
# the layer loop, or hard-codes layer 0 or 16 numbers, fails on it.
CFGS = (
    ModelConfig(),
    ModelConfig(vocab_size=7, n_layer=2, n_embd=8, block_size=6, n_head=2),
)

_NO_FIRST_NORM = "leaving out the rmsnorm right after the embeddings"
_SHARED_CACHE = (
    "one cache shared by every layer (keys[0] and values[0] "
    "where layer i's own keys[i] and values[i] belong): "
    "with one layer the two are the same, so only a deeper "
    "model shows it"
)


def _weights(cfg, seed, std=0.3):
    """Seeded weights, larger than the init's so that every path shows."""
    return init_weights(cfg, random.Random(seed), std=std)


def _reference_cache_size(doc):
    """How many numbers the KV cache holds after the inputs of doc."""
    cfg = ModelConfig()
    params = gpt_scalar.from_weights(_weights(cfg, 0))
    tokens = [cfg.vocab_size - 1] + [ord(ch) - ord("a") for ch in doc]
    cache = gpt_scalar.new_kv_cache(cfg)
    for pos, token in enumerate(tokens):  # the inputs: BOS, letters
        gpt_scalar.gpt(token, pos, cache, params, cfg)
    return sum(
        len(vector) for side in cache for layer in side for vector in layer
    )


@exercise(1, points=1, forbids=(_reference_cache_size,))
def check_cache_size(predicted_numbers):
    """How many numbers the KV cache holds after the inputs of "emma"."""
    truth = _reference_cache_size("emma")
    number(
        "numbers in the KV cache after the inputs of 'emma'",
        predicted_numbers,
        truth,
        0,
        [
            (
                truth // 2,
                "the cache keeps a key and a value for every position",
            ),
            (
                truth * 6 // 5,
                "the inputs are BOS and the four letters; "
                "the closing BOS is only a target",
            ),
            (
                truth * 4,
                "the heads split each 16-number key and value "
                "between them; they do not make copies",
            ),
            (
                truth * 4 // 5,
                "that counts four positions; the inputs are five, BOS "
                "and then e, m, m, a, and each leaves its key and value",
            ),
        ],
        advice="run the package's gpt on the inputs of 'emma' and add up "
        "the lengths of the keys and values its cache holds",
    )


def _post_norm_branch(x, params, i):
    """fc2(relu(fc1(x))) with layer i's weights."""
    h = gpt_scalar.linear(x, params[f"layer{i}.mlp_fc1"])  # (4 * n_embd,)
    h = [hi.relu() for hi in h]
    return gpt_scalar.linear(h, params[f"layer{i}.mlp_fc2"])  # (n_embd,)


def _reference_post_norm(x, params, i):
    """rmsnorm(x + fc2(relu(fc1(x)))) with layer i's weights."""
    h = _post_norm_branch(x, params, i)
    return gpt_scalar.rmsnorm([a + b for a, b in zip(x, h)])


def _mistaken_post_norm(x, params, i):
    """What the block gives in the chapter's order, or without a piece."""
    branch = _post_norm_branch(x, params, i)
    pre = _post_norm_branch(gpt_scalar.rmsnorm(x), params, i)
    mistakes = {
        "the chapter's pre-norm order, x + MLP(rmsnorm(x))": [
            a + b for a, b in zip(x, pre)
        ],
        "leaving out the norm (x + MLP(x))": [
            a + b for a, b in zip(x, branch)
        ],
        (
            "normalizing twice, before the MLP and after the sum"
        ): gpt_scalar.rmsnorm([a + b for a, b in zip(x, pre)]),
        "leaving out the residual (rmsnorm(MLP(x)))": gpt_scalar.rmsnorm(
            branch
        ),
    }
    if i > 0:
        mistakes["using layer 0's weights whatever i is"] = (
            _reference_post_norm(x, params, 0)
        )
    return mistakes


@exercise(2, points=2, forbids=(_reference_post_norm,))
def check_post_norm_mlp(post_norm_mlp_block, seed=0):
    """post_norm_mlp_block(x, params, i) -> rmsnorm(x + MLP of layer i)."""
    rng = random.Random(seed)
    for cfg in CFGS:
        params = gpt_scalar.from_weights(_weights(cfg, seed))
        for i in range(cfg.n_layer):
            x = [Value(rng.gauss(0, 1)) for _ in range(cfg.n_embd)]
            expected = _reference_post_norm(x, params, i)
            wrong = _mistaken_post_norm(x, params, i)
            # A copy, after the reference: a right answer may add
            # the residual in place (x[j] = x[j] + h[j]).
            got = post_norm_mlp_block(list(x), params, i)
            check_close(
                f"output of layer {i}'s post-norm MLP block "
                f"(n_embd={cfg.n_embd})",
                got,
                expected,
                tol=1e-12,
                axes=("dimension",),
                mistakes=wrong,
            )
    passed("post-norm MLP block")


def _mistaken_forward(W, tokens, cfg):
    """What the matrix forward pass gives without its first norm or mask,
    or with a wrong scale for the scores."""

    def norm(X):
        return X / np.sqrt((X**2).mean(axis=-1, keepdims=True) + 1e-5)

    def forward(first_norm, masked, power=0.5):
        T, hd = len(tokens), cfg.head_dim
        future = np.triu(np.ones((T, T), dtype=bool), k=1)
        X = W["wte"][tokens] + W["wpe"][:T]
        X = norm(X) if first_norm else X
        for i in range(cfg.n_layer):
            w = f"layer{i}."
            Q, K, V = (norm(X) @ W[w + f"attn_w{c}"].T for c in "qkv")
            heads = []
            for h in range(cfg.n_head):
                s = slice(h * hd, (h + 1) * hd)
                S = Q[:, s] @ K[:, s].T / hd**power  # (T, T)
                if masked:
                    S[future] = -np.inf
                A = np.exp(S - S.max(axis=1, keepdims=True))
                heads.append(A / A.sum(axis=1, keepdims=True) @ V[:, s])
            X = X + np.concatenate(heads, axis=1) @ W[w + "attn_wo"].T
            X = (
                X
                + np.maximum(norm(X) @ W[w + "mlp_fc1"].T, 0)
                @ W[w + "mlp_fc2"].T
            )
        return X @ W["lm_head"].T

    return {
        _NO_FIRST_NORM: forward(False, True),
        "the causal mask not applied": forward(True, False),
        "dividing the scores by head_dim, not its square root": forward(
            True, True, 1.0
        ),
        "leaving the scores unscaled": forward(True, True, 0.0),
    }


@exercise(3, points=3, forbids=(gpt_scalar.gpt, gpt_scalar.forward))
def check_gpt(gpt, seed=0):
    """gpt(token_id, pos_id, kv_cache, params, cfg) -> logits."""
    rng = random.Random(seed)
    for cfg in CFGS:
        params = gpt_scalar.from_weights(_weights(cfg, seed))
        tokens = [rng.randrange(cfg.vocab_size) for _ in range(cfg.block_size)]
        cache, ref_cache = (gpt_scalar.new_kv_cache(cfg) for _ in "ab")
        W = {
            name: np.array(rows)
            for name, rows in gpt_scalar.to_weights(params).items()
        }
        unnormed = _mistaken_forward(W, tokens, cfg)[_NO_FIRST_NORM]
        for pos, token in enumerate(tokens):
            expected = gpt_scalar.gpt(token, pos, ref_cache, params, cfg)
            got = gpt(token, pos, cache, params, cfg)
            lengths = [len(cache[0][i]) for i in range(cfg.n_layer)]
            if (
                cfg.n_layer > 1
                and not any(lengths[1:])
                and lengths[0] == cfg.n_layer * (pos + 1)
            ):
                raise CheckFailed(
                    f"keys cached after position {pos} (n_layer="
                    f"{cfg.n_layer}): layer 0 holds {lengths[0]}, the "
                    f"other layers none; this is what {_SHARED_CACHE} "
                    f"gives"
                )
            for i in range(cfg.n_layer):
                check_equal(
                    f"keys cached for layer {i} after position "
                    f"{pos} (n_layer={cfg.n_layer})",
                    len(cache[0][i]),
                    pos + 1,
                )
            check_close(
                f"logits at position {pos} (n_layer={cfg.n_layer}"
                f", n_embd={cfg.n_embd})",
                got,
                expected,
                tol=1e-12,
                axes=("token",),
                mistakes={_NO_FIRST_NORM: unnormed[pos]},
            )
    passed("the full forward pass")


@exercise(
    4,
    points=3,
    forbids=(gpt_scalar.forward, gpt_numpy.forward, gpt_numpy.block_forward),
)
def check_forward_matrix(forward_matrix, seed=0):
    """forward_matrix(W, tokens, cfg) -> (T, vocab_size) NumPy logits."""
    rng = random.Random(seed)
    for cfg in CFGS:
        weights = _weights(cfg, seed)
        W = {name: np.array(rows) for name, rows in weights.items()}
        T = cfg.block_size
        tokens = [rng.randrange(cfg.vocab_size) for _ in range(T)]
        expected, _ = gpt_scalar.forward(
            gpt_scalar.from_weights(weights), tokens, cfg
        )
        got = forward_matrix(W, list(tokens), cfg)
        shape = (T, cfg.vocab_size)
        if getattr(got, "shape", None) != shape:
            raise CheckFailed(
                f"logits shape (n_layer={cfg.n_layer}): expected {shape}, "
                f"got {getattr(got, 'shape', None)}"
            )
        check_close(
            f"logits (n_layer={cfg.n_layer}, n_embd={cfg.n_embd})",
            got,
            expected,
            tol=1e-9,
            axes=("position", "token"),
            mistakes=_mistaken_forward(W, tokens, cfg),
        )
    passed("the forward pass as matrices")
