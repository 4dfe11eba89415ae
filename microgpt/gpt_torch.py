"""The GPT in PyTorch: the same model, differentiated by torch autograd.

CUDA when available, else the CPU; float64 on the CPU, where it matches
the scalar twin to 13 digits and more, and float32 on a GPU, its fast
native width. device= and dtype= choose.
"""

import numpy as np
import torch
import torch.nn.functional as F

from .batch import Arrays, batch_arrays, check_ids, check_length, mean_loss
from .config import EPS_NORM, check_top
from .params import init_weights

# -- parameters -------------------------------------------------------------


def default_device():
    """CUDA when torch can see a GPU, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def default_dtype(device):
    """float64 on the CPU (parity with the twins), float32 on a GPU."""
    return (
        torch.float64 if torch.device(device).type == "cpu" else torch.float32
    )


def from_weights(weights, *, device=None, dtype=None):
    """Name -> rows of floats, arrays or tensors, as leaf tensors."""
    device = torch.device(device) if device is not None else default_device()
    dtype = dtype if dtype is not None else default_dtype(device)
    # Every weight goes through float64 first, so that float32 weights
    # are rounded once, from the float64 value, whatever the input was.
    return {
        name: torch.as_tensor(_float64(w)).to(device, dtype).requires_grad_()
        for name, w in weights.items()
    }


def _float64(w):
    """w as a new float64 array (a tensor of any dtype or device too)."""
    if torch.is_tensor(w):
        return w.detach().to("cpu", torch.float64, copy=True).numpy()
    return np.array(w, dtype=np.float64)


def to_weights(params):
    """The state dict's current values: name -> float64 numpy array."""
    # Each array is a copy: one that shared a tensor's memory would keep
    # changing as training goes on.
    return {name: _float64(p) for name, p in params.items()}


def init_params(cfg, rng, *, device=None, dtype=None):
    """A fresh model from rng's Gaussian draws (never torch's RNG)."""
    return from_weights(init_weights(cfg, rng), device=device, dtype=dtype)


def flat_params(params):
    """Every parameter tensor, in state-dict order."""
    return list(params.values())


# -- building blocks --------------------------------------------------------


def linear(x, w):
    """x @ w.T for a weight matrix w of shape (out, in); no bias."""
    return F.linear(x, w)  # (..., out)


def softmax(logits):
    """Probabilities along the last axis."""
    # torch.softmax is one fused op, and it subtracts each row's max
    # first, as the scalar twin does.
    return torch.softmax(logits, dim=-1)


def rmsnorm(x):
    """Rescale each row of x to unit root-mean-square; no learned gain."""
    ms = (x * x).mean(dim=-1, keepdim=True)  # (..., 1)
    return x * (ms + EPS_NORM) ** -0.5  # (..., n_embd)


# -- the model --------------------------------------------------------------


def new_kv_cache(cfg):
    """Empty per-layer lists of past keys and values."""
    return [[] for _ in range(cfg.n_layer)], [[] for _ in range(cfg.n_layer)]


def attention(q, keys, values, cfg, *, mask=None):
    """Causal multi-head attention of queries over keys and values.

    q is (..., Tq, n_embd) and keys, values are (..., Tk, n_embd) with
    Tk >= Tq; the queries are the last Tq positions, so each one sees the
    keys up to its own position. Packed rows pass mask, (B, T, T) bool,
    True where a position may attend (see batch.visible), which
    replaces the causal triangle.
    """
    shape, tq, tk, hd = q.shape, q.shape[-2], keys.shape[-2], cfg.head_dim

    def heads(x):
        # The result is always 4-D, the only shape the fused kernel takes.
        return x.reshape(-1, x.shape[-2], cfg.n_head, hd).transpose(1, 2)

    q, k, v = heads(q), heads(keys), heads(values)  # (B, n_head, T, hd)
    # One fused kernel computes softmax(q @ k.T / sqrt(hd), masked) @ v,
    # and one more its backward. At this model's size the number of
    # operations, not the arithmetic inside them, is what costs time.
    if mask is not None:
        # Packed rows bring their own mask, a triangle per document.
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None])
    elif tq == tk:
        # Every position is a query: the plain causal triangle.
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    elif tq == 1:
        # One query over a cache is the newest position, so it sees all.
        out = F.scaled_dot_product_attention(q, k, v)
    else:
        # The queries are the last tq of the tk positions.
        seen = torch.ones(tq, tk, dtype=torch.bool, device=q.device)
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=seen.tril(tk - tq)
        )
    return out.transpose(1, 2).reshape(shape)  # (..., Tq, n_embd)


def block(x, i, params, cfg, kv_cache=None, mask=None):
    """Transformer block i: attention, then the MLP, each added to x."""
    # x is (..., T, n_embd). With a kv_cache, this block's keys and values
    # are appended to it, and the queries attend over all of it.
    layer = f"layer{i}."
    residual = x
    x = rmsnorm(x)
    q = linear(x, params[layer + "attn_wq"])  # (..., T, n_embd)
    k = linear(x, params[layer + "attn_wk"])  # (..., T, n_embd)
    v = linear(x, params[layer + "attn_wv"])  # (..., T, n_embd)
    if kv_cache is not None:
        keys, values = kv_cache
        keys[i].append(k)
        values[i].append(v)
        k = torch.cat(keys[i], dim=-2)  # (..., t, n_embd)
        v = torch.cat(values[i], dim=-2)  # (..., t, n_embd)
    x = attention(q, k, v, cfg, mask=mask)  # (..., T, n_embd)
    x = linear(x, params[layer + "attn_wo"]) + residual
    residual = x
    x = rmsnorm(x)
    x = linear(x, params[layer + "mlp_fc1"])  # (..., T, 4 * n_embd)
    x = torch.relu(x)
    return linear(x, params[layer + "mlp_fc2"]) + residual


def gpt(token_id, pos_id, kv_cache, params, cfg):
    """Logits for the next token after token_id at position pos_id.

    Its key and value join kv_cache; its query attends over all of it.
    """
    x = params["wte"][[token_id]] + params["wpe"][[pos_id]]  # (1, n_embd)
    # Not redundant with the norm inside the block: the residual path
    # carries this normalized x, not the raw embedding sum.
    x = rmsnorm(x)
    for i in range(cfg.n_layer):
        x = block(x, i, params, cfg, kv_cache)  # (1, n_embd)
    return linear(x, params["lm_head"])[0]  # (vocab_size,)


def forward(params, tokens, cfg):
    """Logits at every position of tokens, all at once, and no cache.

    tokens are the ids of one sequence (T,) or of rows (B, T), as a list,
    an array or a tensor; position t attends to positions 0..t. Lists and
    arrays are checked here, and a tensor is taken as checked. A packed
    batch comes as its Arrays (see batch.batch_arrays), checked when they
    were made, which bring each token's position and the (B, T, T) mask.
    The logits add a vocab_size axis; autograd keeps what backward needs.
    """
    device = params["wte"].device
    pos = mask = None
    if isinstance(tokens, Arrays):
        tokens, pos, mask = tokens.inputs, tokens.positions, tokens.mask
        pos = torch.as_tensor(pos, device=device)  # (B, T)
        if mask is not None:
            mask = torch.as_tensor(mask, device=device)  # (B, T, T)
    else:
        if not torch.is_tensor(tokens):
            tokens = check_ids(tokens, cfg.vocab_size)
        check_length(tokens.shape[-1], cfg)
    # The ids are long, always: a uint8 tensor would index as a boolean
    # mask instead of picking rows.
    ids = torch.as_tensor(tokens, dtype=torch.long, device=device)
    if pos is None:
        pos = torch.arange(ids.shape[-1], device=device)  # (T,)
    x = rmsnorm(params["wte"][ids] + params["wpe"][pos])  # (..., T, C)
    for i in range(cfg.n_layer):
        x = block(x, i, params, cfg, mask=mask)  # (..., T, n_embd)
    return linear(x, params["lm_head"]), None  # (..., T, vocab_size)


def batch_loss(params, batch, cfg):
    """Mean cross-entropy over every real target of a batch of sequences.

    Each sequence predicts tokens[1:] from what precedes them, cut to its
    first block_size predictions as in the original. The sequences are
    packed a few to a row, each seeing only itself (see batch.pack), and
    the targets on padding are ignored. The result is a tensor, so that
    backward can follow it.
    """
    arrays = batch_arrays(batch, cfg)
    logits, _ = forward(params, arrays, cfg)  # (R, T, vocab_size)
    real = arrays.weights > 0  # (R, T), not padding
    targets = np.where(real, arrays.targets, -1)  # (R, T)
    targets = torch.as_tensor(targets, device=logits.device)
    # cross_entropy is -log(softmax(logits)[target]) in log-sum-exp form,
    # averaged over the targets that are not -1; it agrees with the
    # scalar twin to the last few bits.
    return F.cross_entropy(
        logits.flatten(0, 1), targets.flatten(), ignore_index=-1
    )


def _grads(params):
    """Name -> float64 numpy copy of each .grad; then clears the .grad."""
    grads = {name: _float64(p.grad) for name, p in params.items()}
    for p in params.values():
        p.grad = None
    return grads


def loss_and_grads(params, batch, cfg):
    """The loss (a float) and name -> gradient arrays, for a batch.

    The loss is the mean over the batch's real targets. Every .grad is
    cleared afterwards, so the next call starts from nothing.
    """
    loss = batch_loss(params, batch, cfg)
    loss.backward()
    return loss.item(), _grads(params)


@torch.no_grad()
def evaluate(params, seqs, cfg):
    """Mean loss per predicted token over seqs, lists of token ids."""
    return mean_loss(batch_loss, params, seqs, cfg)


# -- training and sampling --------------------------------------------------


class Adam:
    """Adam with bias correction, on all parameters as one flat vector."""

    def __init__(self, params, tcfg):
        self.params = flat_params(params)
        # These 1-D views share memory with the parameters, so one in-place
        # op per tensor applies the update, outside autograd.
        self.flat = [p.detach().view(-1) for p in self.params]
        self.sizes = [p.numel() for p in self.params]
        self.beta1, self.beta2, self.eps = (
            tcfg.beta1,
            tcfg.beta2,
            tcfg.eps_adam,
        )
        n = sum(self.sizes)
        self.m = self.params[0].new_zeros(n)  # mean of gradients (n,)
        self.v = torch.zeros_like(self.m)  # mean of their squares
        self.t = 0  # steps taken

    @torch.no_grad()
    def step(self, lr):
        """Move every parameter by its .grad, then clear the .grad."""
        # The scalar twin's expression for every update, on one flat
        # vector: a few ops in all instead of a few per tensor.
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        g = torch.cat([p.grad.view(-1) for p in self.params])  # (n,)
        self.m.mul_(b1).add_((1 - b1) * g)
        self.v.mul_(b2).add_((1 - b2) * (g * g))
        m_hat = self.m / (1 - b1**self.t)
        v_hat = self.v / (1 - b2**self.t)
        update = lr * m_hat / (v_hat.sqrt() + self.eps)  # (n,)
        torch._foreach_sub_(self.flat, update.split(self.sizes))
        for p in self.params:
            p.grad = None


def train_step(params, opt, batch, lr, cfg):
    """One step on a batch of sequences; returns the loss before it."""
    loss = batch_loss(params, batch, cfg)
    loss.backward()
    opt.step(lr)
    # Reading the loss is the only point where the step waits for the
    # device to finish: everything before it is queued asynchronously.
    return loss.item()


def top_filter(probs, top_k=None, top_p=None):
    """probs kept for the likeliest tokens only, renormalised; 0 elsewhere.

    The tokens are ranked by probability, largest first, a tie going to
    the smaller id. top_k keeps the first k of the ranking; top_p then
    keeps its shortest head whose probability reaches p of what is left.
    """
    ranked = torch.sort(probs, descending=True, stable=True).indices
    if top_k is not None:
        ranked = ranked[:top_k]
    # The running sums of the ranked probabilities, largest first.
    mass = torch.cumsum(probs[ranked], dim=0)  # (len(ranked),)
    if top_p is not None:
        # The head ends at the first running sum that reaches top_p of
        # the total, so a sum exactly equal to it ends the head.
        end = torch.searchsorted(mass, top_p * mass[-1]).item() + 1
        ranked = ranked[:end]
    out = torch.zeros_like(probs)
    out[ranked] = probs[ranked] / mass[len(ranked) - 1]
    return out


@torch.inference_mode()
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
        logits = gpt(token, pos, cache, params, cfg)  # (vocab_size,)
        probs = softmax(logits / temperature)  # (vocab_size,)
        if filtered:
            probs = top_filter(probs, top_k, top_p)
        # The draw is Python's, from the run's one random stream, as in
        # every twin.
        token = rng.choices(range(cfg.vocab_size), weights=probs.tolist())[0]
        if token == bos:
            break
        out.append(token)
    return out
