"""The PyTorch model with switches that take one part out at a time.

forward is gpt_torch.forward with keyword switches: no first norm, no
residual connections, no MLP, no position embeddings, and attention
heads silenced. Every switch at its default gives gpt_torch.forward's
logits exactly, since the same operations run in the same order. The
rest of the module trains and measures such a model on whole names, one
name to a row of a batch, so that variants can be compared over seeds.
"""

import random

import numpy as np
import torch
import torch.nn.functional as F

from .batch import check_ids, check_length
from .data import Tokenizer
from .gpt_torch import Adam, attention, from_weights, linear, rmsnorm
from .params import init_weights, param_shapes
from .train import lr_at

# The names' characters, a to z, with BOS after them.
TOKENIZER = Tokenizer(tuple("abcdefghijklmnopqrstuvwxyz"))

# Each variant of the ablation table: its name -> forward's switches.
VARIANTS = {
    "full": {},
    "no first norm": {"first_norm": False},
    "no residuals": {"residual": False},
    "no MLP": {"mlp": False},
    "no positions": {"positions": False},
}


def head_gate(cfg, layer, silenced, like):
    """Return a (n_embd,) vector of ones, zero over silenced heads' slices.

    silenced holds (layer, head) pairs. Attention's output puts head h
    in columns h * head_dim up to (h + 1) * head_dim, so multiplying by
    the gate removes exactly that head's contribution before attn_wo.
    """
    gate = torch.ones(cfg.n_embd, dtype=like.dtype, device=like.device)
    hd = cfg.head_dim
    for i, h in silenced:
        if not (0 <= i < cfg.n_layer and 0 <= h < cfg.n_head):
            raise ValueError(
                f"no head {h} in layer {i} of a model with "
                f"{cfg.n_layer} layers of {cfg.n_head} heads"
            )
        if i == layer:
            gate[h * hd : (h + 1) * hd] = 0
    return gate


def block(x, i, params, cfg, *, residual=True, mlp=True, silenced=()):
    """Transformer block i, with its residuals or its MLP switched off."""
    # x: (..., T, n_embd)
    layer = f"layer{i}."
    skip = x
    x = rmsnorm(x)
    q = linear(x, params[layer + "attn_wq"])  # (..., T, n_embd)
    k = linear(x, params[layer + "attn_wk"])  # (..., T, n_embd)
    v = linear(x, params[layer + "attn_wv"])  # (..., T, n_embd)
    x = attention(q, k, v, cfg)  # (..., T, n_embd)
    if any(j == i for j, _ in silenced):
        x = x * head_gate(cfg, i, silenced, x)  # (..., T, n_embd)
    x = linear(x, params[layer + "attn_wo"])
    x = x + skip if residual else x
    if not mlp:
        return x
    skip = x
    x = rmsnorm(x)
    x = linear(x, params[layer + "mlp_fc1"])  # (..., T, 4 * n_embd)
    x = torch.relu(x)
    x = linear(x, params[layer + "mlp_fc2"])  # (..., T, n_embd)
    return x + skip if residual else x


def forward(
    params,
    tokens,
    cfg,
    *,
    first_norm=True,
    residual=True,
    mlp=True,
    positions=True,
    silenced=(),
):
    """Logits at every position of tokens (T,) or (B, T), parts removed.

    first_norm=False feeds the raw sum of embeddings to the first block;
    residual=False drops both additions in every block; mlp=False skips
    every MLP; positions=False leaves out the position embeddings; and
    silenced lists (layer, head) pairs whose attention output is zero.
    """
    device = params["wte"].device
    if not torch.is_tensor(tokens):
        tokens = check_ids(tokens, cfg.vocab_size)
    check_length(tokens.shape[-1], cfg)
    ids = torch.as_tensor(tokens, dtype=torch.long, device=device)
    pos = torch.arange(ids.shape[-1], device=device)  # (T,)
    x = params["wte"][ids]  # (..., T, n_embd)
    if positions:
        x = x + params["wpe"][pos]
    if first_norm:
        x = rmsnorm(x)
    for i in range(cfg.n_layer):
        x = block(
            x, i, params, cfg, residual=residual, mlp=mlp, silenced=silenced
        )  # (..., T, n_embd)
    return linear(x, params["lm_head"])  # (..., T, vocab_size)


def used(params, *, mlp=True, positions=True, **_):
    """The parameters a variant's forward reads, name -> tensor."""
    return {
        name: p
        for name, p in params.items()
        if (mlp or "mlp_" not in name) and (positions or name != "wpe")
    }


def rows(docs, tokenizer, cfg):
    """Documents as (N, block_size + 1) ids, one to a row, -1 padding.

    A row is BOS, the characters and BOS, cut to block_size + 1 tokens
    as training cuts a document; inputs are a row's first block_size
    ids and targets its last, and padding after the final BOS is never
    seen by the real positions under the causal mask.
    """
    out = np.full((len(docs), cfg.block_size + 1), -1, dtype=np.int64)
    for r, doc in enumerate(docs):
        ids = tokenizer.frame(doc)[: cfg.block_size + 1]
        out[r, : len(ids)] = ids
    return out


def batch_loss(params, ids, cfg, switches):
    """Return the mean cross-entropy over the real targets of rows of ids.

    Padding (-1) is fed as id 0, which the causal mask hides from the
    real positions, and its targets are ignored.
    """
    ids = torch.as_tensor(ids, device=params["wte"].device)
    inputs = ids[:, :-1].clamp(min=0)  # (B, T)
    logits = forward(params, inputs, cfg, **switches)  # (B, T, V)
    return F.cross_entropy(
        logits.flatten(0, 1), ids[:, 1:].flatten(), ignore_index=-1
    )


@torch.no_grad()
def held_out_loss(params, ids, cfg, switches=None):
    """Return the mean loss per predicted token over rows of held-out ids."""
    return float(batch_loss(params, ids, cfg, switches or {}))


def train(train_docs, cfg, tcfg, switches=None, *, dtype=torch.float32):
    """A model trained with switches on train_docs; returns its params.

    tcfg.seed drives one stream, as in microgpt.train: it shuffles the
    documents and then draws the initial weights, so every variant
    trained with one seed starts from the same weights and sees the same
    batches. Step s trains on the batch_size names that follow.
    """
    switches = switches or {}
    rng = random.Random(tcfg.seed)
    docs = list(train_docs)
    rng.shuffle(docs)
    params = from_weights(init_weights(cfg, rng), device="cpu", dtype=dtype)
    ids = rows(docs, TOKENIZER, cfg)
    opt = Adam(used(params, **switches), tcfg)
    B = tcfg.batch_size
    for step in range(tcfg.num_steps):
        take = np.arange(step * B, (step + 1) * B) % len(docs)
        loss = batch_loss(params, ids[take], cfg, switches)
        loss.backward()
        opt.step(lr_at(step, tcfg))
    return params


def num_used(cfg, switches=None):
    """How many parameters a variant's forward reads."""
    keep = used(param_shapes(cfg), **(switches or {}))
    return sum(r * c for r, c in keep.values())


def pca_2d(rows):
    """Project rows on their first two principal axes.

    It returns the (n, 2) projection and the share of the variance each
    axis holds. The rows are centered and split by an SVD. An axis's sign
    is free, so each is turned to make its largest coordinate (by
    magnitude) positive, which gives one picture on every machine.
    """
    x = np.asarray(rows, dtype=np.float64)
    x = x - x.mean(axis=0)  # (n, d), centered
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    axes = vt[:2]  # (2, d)
    biggest = np.abs(axes).argmax(axis=1)
    axes = axes * np.sign(axes[np.arange(2), biggest])[:, None]
    share = s[:2] ** 2 / (s**2).sum()
    return x @ axes.T, share  # (n, 2), (2,)
