"""The GPT in NumPy, float64, with a hand-derived backward pass.

A twin of gpt_scalar, plus a backward pass. Training runs a whole batch
of documents at once, packed into rows under a causal mask (the layers
are in layers_numpy, the packing in batch); sampling runs one position
at a time with a KV cache.
Every parameter is a view into one flat buffer, and so are the
gradients and Adam's moments.
"""

import numpy as np

from . import layers_numpy as layers
from .batch import Arrays, batch_arrays, check_ids, check_length, mean_loss
from .config import check_top
from .layers_numpy import (
    attention_backward,
    attention_forward,
    cross_entropy_backward,
    cross_entropy_forward,
    embedding_backward,
    embedding_forward,
    linear_backward,
    linear_forward,
    relu_backward,
    relu_forward,
    residual_backward,
    residual_forward,
    rmsnorm_backward,
    rmsnorm_forward,
    rows,
)
from .params import init_weights
from .speedups import adam_update

# The three attention weights that block_forward stacks into one product.
QKV = ("attn_wq", "attn_wk", "attn_wv")

# -- parameters -------------------------------------------------------------


def views(flat, like):
    """Name -> a view of flat, shaped like each array of like, in order."""
    ends = np.cumsum([a.size for a in like.values()])[:-1]
    return {
        name: part.reshape(a.shape)
        for (name, a), part in zip(like.items(), np.split(flat, ends))
    }


def from_weights(weights):
    """Name -> rows (or arrays), as views into one flat float64 buffer."""
    arrays = {
        name: np.asarray(w, dtype=np.float64) for name, w in weights.items()
    }
    return views(np.concatenate([a.ravel() for a in arrays.values()]), arrays)


def to_weights(params):
    """The state dict's current values: name -> array (a copy)."""
    return {name: p.copy() for name, p in params.items()}


def init_params(cfg, rng):
    """A fresh model from rng's Gaussian draws."""
    return from_weights(init_weights(cfg, rng))


def flat_params(params):
    """The one flat buffer behind params, in state-dict order."""
    flat = next(iter(params.values())).base
    # Adam updates the buffer, so each array must be exactly its view,
    # in order: a copy or a reordered dict would miss the update.
    if (
        flat is None
        or flat.ndim != 1
        or flat.size != sum(p.size for p in params.values())
        or any(
            p.__array_interface__ != v.__array_interface__
            for p, v in zip(params.values(), views(flat, params).values())
        )
    ):
        raise ValueError(
            "params must be views into one flat buffer, "
            "as made by from_weights or init_params"
        )
    return flat


# -- building blocks: layers_numpy's forward halves --------------------------


def linear(x, w):
    """x @ w.T for w of shape (out, in); no bias."""
    return x @ w.T


def softmax(logits):
    """Probabilities along the last axis."""
    return layers.softmax(logits)


def rmsnorm(x):
    """Rescale x to unit root-mean-square; no learned gain."""
    return rmsnorm_forward(x)[0]


# -- the model: one position with a KV cache --------------------------------


def new_kv_cache(cfg):
    """Empty per-layer lists of past keys and values."""
    return [[] for _ in range(cfg.n_layer)], [[] for _ in range(cfg.n_layer)]


def attention(q, keys, values, cfg):
    """Multi-head attention of one query over the cached keys and values."""
    nh, hd = cfg.n_head, cfg.head_dim
    q = q.reshape(nh, 1, hd)  # (nh, 1, hd)
    k = np.array(keys).reshape(-1, nh, hd).transpose(1, 0, 2)  # (nh, t, hd)
    v = np.array(values).reshape(-1, nh, hd).transpose(1, 0, 2)
    weights = softmax(q @ k.transpose(0, 2, 1) / hd**0.5)  # (nh, 1, t)
    return (weights @ v).reshape(-1)  # (n_embd,)


def gpt(token_id, pos_id, kv_cache, params, cfg):
    """Logits for the next token after token_id at position pos_id."""
    keys, values = kv_cache
    x = params["wte"][token_id] + params["wpe"][pos_id]  # (n_embd,)
    # Not redundant with the norm inside the block: the residual path
    # carries this normalized x, not the raw embedding sum.
    x = rmsnorm(x)
    for i in range(cfg.n_layer):
        layer = f"layer{i}."
        residual = x
        x = rmsnorm(x)
        q = linear(x, params[layer + "attn_wq"])  # (n_embd,)
        k = linear(x, params[layer + "attn_wk"])  # (n_embd,)
        v = linear(x, params[layer + "attn_wv"])  # (n_embd,)
        keys[i].append(k)
        values[i].append(v)
        x = attention(q, keys[i], values[i], cfg)  # (n_embd,)
        x = linear(x, params[layer + "attn_wo"]) + residual
        residual = x
        x = rmsnorm(x)
        x = np.maximum(linear(x, params[layer + "mlp_fc1"]), 0)
        x = linear(x, params[layer + "mlp_fc2"]) + residual  # (n_embd,)
    return linear(x, params["lm_head"])  # (vocab_size,)


# -- the model: every position at once, forward and backward ----------------


def block_forward(x, T, params, layer, cfg, mask=None):
    """One block: attention then MLP, each added to the residual stream."""
    # x is (N, C): the N = B * T positions of the batch, one per row. The
    # mask is forward's, None for the plain causal triangle.
    C = cfg.n_embd
    cache = {"T": T}
    # q, k and v come from the same input: one product with the three
    # weights stacked makes all three (and one more in backward).
    wqkv = np.concatenate([params[layer + name] for name in QKV])  # (3C, C)
    h, cache["norm1"] = rmsnorm_forward(x)
    qkv, cache["qkv"] = linear_forward(h, wqkv)  # (N, 3C)
    qkv = qkv.reshape(-1, T, 3 * C)  # (B, T, 3C)
    q, k, v = qkv[..., :C], qkv[..., C : 2 * C], qkv[..., 2 * C :]
    h, cache["attn"] = attention_forward(q, k, v, cfg.n_head, mask)  # (B,T,C)
    h, cache["wo"] = linear_forward(rows(h), params[layer + "attn_wo"])
    x, cache["res1"] = residual_forward(x, h)
    h, cache["norm2"] = rmsnorm_forward(x)
    h, cache["fc1"] = linear_forward(h, params[layer + "mlp_fc1"])  # (N, 4C)
    h, cache["relu"] = relu_forward(h)
    h, cache["fc2"] = linear_forward(h, params[layer + "mlp_fc2"])  # (N, C)
    x, cache["res2"] = residual_forward(x, h)
    return x, cache


def block_backward(dx, cache, layer, grads):
    """block_forward in reverse; writes the block's weight gradients."""
    g = {}
    dx, dh = residual_backward(dx, cache["res2"])
    dh, g["mlp_fc2"] = linear_backward(dh, cache["fc2"])
    dh = relu_backward(dh, cache["relu"])
    dh, g["mlp_fc1"] = linear_backward(dh, cache["fc1"])
    # x fed both the residual and the MLP's norm: the two gradients add.
    dx = dx + rmsnorm_backward(dh, cache["norm2"])
    dx, dh = residual_backward(dx, cache["res1"])
    dh, g["attn_wo"] = linear_backward(dh, cache["wo"])
    dq, dk, dv = attention_backward(
        dh.reshape(-1, cache["T"], dh.shape[-1]), cache["attn"]
    )  # (B, T, C)
    dqkv = np.concatenate((dq, dk, dv), -1)  # (B, T, 3C)
    dh, dwqkv = linear_backward(rows(dqkv), cache["qkv"])  # (3C, C)
    # And again at the attention's norm, the block's first layer.
    dx = dx + rmsnorm_backward(dh, cache["norm1"])
    C = dwqkv.shape[1]
    for i, name in enumerate(QKV):
        g[name] = dwqkv[i * C : (i + 1) * C]
    for name, d in g.items():
        grads[layer + name][...] = d
    return dx


def forward(params, tokens, cfg):
    """Logits at every position of tokens, all at once, and the cache.

    tokens are the ids of one sequence (T,) or of rows (B, T), checked
    here; position t attends to positions 0..t. A packed batch comes as
    its Arrays (see batch.batch_arrays), checked when they were made,
    which bring each token's position and the (B, T, T) mask, True where
    a position may attend. The logits have the shape of the ids plus a
    vocab_size axis; the cache holds what backward needs.
    """
    if isinstance(tokens, Arrays):
        idx, pos, mask = tokens.inputs, tokens.positions, tokens.mask
    else:
        idx, pos, mask = check_ids(tokens, cfg.vocab_size), None, None
        check_length(idx.shape[-1], cfg)
    T = idx.shape[-1]
    x, emb = embedding_forward(
        idx.reshape(-1, T), params["wte"], params["wpe"], pos
    )  # (B, T, C)
    x, norm = rmsnorm_forward(rows(x))  # (N, C)
    blocks = []
    for i in range(cfg.n_layer):
        x, block = block_forward(x, T, params, f"layer{i}.", cfg, mask)
        blocks.append(block)
    logits, head = linear_forward(x, params["lm_head"])  # (N, V)
    cache = (emb, norm, blocks, head, params)
    return logits.reshape(*idx.shape, -1), cache


def backward(dlogits, cache, grads=None):
    """Name -> gradient, from d(loss)/d(logits) and forward's cache."""
    # Written into grads (name -> array) when given, else into views of
    # a new flat buffer laid out like the params.
    emb, norm, blocks, head, params = cache
    if grads is None:
        grads = views(np.empty(sum(p.size for p in params.values())), params)
    dx, grads["lm_head"][...] = linear_backward(rows(dlogits), head)  # (N, C)
    for i in reversed(range(len(blocks))):
        dx = block_backward(dx, blocks[i], f"layer{i}.", grads)
    dx = rmsnorm_backward(dx, norm)
    grads["wte"][...], grads["wpe"][...] = embedding_backward(dx, emb)
    return grads


def batch_loss(params, batch, cfg):
    """Mean cross-entropy over every real target of a batch of sequences.

    Each sequence predicts tokens[1:] from what precedes them. One longer
    than the context is cut to its first block_size predictions, as in
    the original (see batch.pack).
    """
    arrays = batch_arrays(batch, cfg)
    logits, _ = forward(params, arrays, cfg)
    return float(
        cross_entropy_forward(logits, arrays.targets, arrays.weights)[0]
    )


def loss_and_grads(params, batch, cfg, *, grads=None):
    """The mean loss over the batch's real targets and name -> gradient.

    The gradients are written into grads when it is given (see
    backward), else into a new buffer.
    """
    arrays = batch_arrays(batch, cfg)
    logits, cache = forward(params, arrays, cfg)
    loss, ce = cross_entropy_forward(logits, arrays.targets, arrays.weights)
    grads = backward(cross_entropy_backward(1.0, ce), cache, grads)
    return float(loss), grads


def evaluate(params, seqs, cfg):
    """Mean loss per predicted token over seqs, lists of token ids."""
    return mean_loss(batch_loss, params, seqs, cfg)


# -- training and sampling --------------------------------------------------


class Adam:
    """Adam with bias correction, on the flat buffer behind params."""

    def __init__(self, params, tcfg):
        self.data = flat_params(params)
        # A NumPy array has no .grad, so backward writes the gradients
        # into these views of one buffer, which step reads.
        self.grad = np.zeros_like(self.data)
        self.grads = views(self.grad, params)
        self.beta1, self.beta2, self.eps = (
            tcfg.beta1,
            tcfg.beta2,
            tcfg.eps_adam,
        )
        self.m = np.zeros_like(self.data)  # running mean of gradients
        self.v = np.zeros_like(self.data)  # running mean of their squares
        self.t = 0  # steps taken
        self.scratch = np.empty_like(self.data)

    def step(self, lr):
        """Move every parameter by self.grad (backward overwrites it).

        The scalar twin's update on whole arrays: m = b1 m + (1 - b1) g,
        v = b2 v + (1 - b2) g**2, then data -= lr m_hat / (sqrt(v_hat)
        + eps) with m_hat = m / (1 - b1**t), v_hat = v / (1 - b2**t).
        """
        self.t += 1
        adam_update(
            self.data,
            self.grad,
            self.m,
            self.v,
            self.scratch,
            lr,
            self.t,
            self.beta1,
            self.beta2,
            self.eps,
        )


def train_step(params, opt, batch, lr, cfg):
    """One step on a batch of sequences; returns the loss before it."""
    # backward writes the gradients straight into the buffer Adam reads.
    loss, _ = loss_and_grads(params, batch, cfg, grads=opt.grads)
    opt.step(lr)
    return loss


def top_filter(probs, top_k=None, top_p=None):
    """probs kept for the likeliest tokens only, renormalised; 0 elsewhere.

    The tokens are ranked by probability, largest first, a tie going to
    the smaller id. top_k keeps the first k of the ranking; top_p then
    keeps its shortest head whose probability reaches p of what is left.
    """
    ranked = np.argsort(-probs, kind="stable")  # (vocab_size,)
    if top_k is not None:
        ranked = ranked[:top_k]
    # The running sums of the ranked probabilities, largest first.
    mass = np.cumsum(probs[ranked])  # (len(ranked),)
    if top_p is not None:
        # The head ends at the first running sum that reaches top_p of
        # the total, so a sum exactly equal to it ends the head.
        ranked = ranked[: np.searchsorted(mass, top_p * mass[-1]) + 1]
    out = np.zeros_like(probs)
    out[ranked] = probs[ranked] / mass[len(ranked) - 1]
    return out


def generate(params, cfg, rng, temperature, *, top_k=None, top_p=None):
    """Draw one sequence of ids until BOS (the last id) or block_size.

    top_k and top_p, when given, restrict each draw to the likeliest
    tokens (see top_filter); without them every token can be drawn.
    """
    check_top(top_k, top_p)
    filtered = top_k is not None or top_p is not None
    bos = cfg.vocab_size - 1
    cache = new_kv_cache(cfg)
    token, out = bos, []
    for pos in range(cfg.block_size):
        logits = gpt(token, pos, cache, params, cfg)
        probs = softmax(logits / temperature)
        if filtered:
            probs = top_filter(probs, top_k, top_p)
        token = rng.choices(range(cfg.vocab_size), weights=probs.tolist())[0]
        if token == bos:
            break
        out.append(token)
    return out
