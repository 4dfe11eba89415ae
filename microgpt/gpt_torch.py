"""The GPT in PyTorch: the same model, differentiated by torch autograd.

It runs on CUDA when available, otherwise on the CPU. On the CPU the
default dtype is float64, so it matches the scalar twin to 13 digits and
more; on a GPU it is float32, the GPU's fast native width (float64 runs at
a fraction of the speed on most cards). Pass device= and dtype= to choose.
"""

import numpy as np
import torch
import torch.nn.functional as F

from .packing import check_ids, pack, visible
from .params import init_weights

# -- parameters -------------------------------------------------------------


def default_device():
    """CUDA when torch can see a GPU, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def default_dtype(device):
    """float64 on the CPU (parity with the twins), float32 on a GPU."""
    return torch.float64 if torch.device(device).type == "cpu" \
        else torch.float32


def from_weights(weights, device=None, dtype=None):
    """Name -> rows of floats (or arrays), as a state dict of leaf tensors."""
    device = torch.device(device) if device is not None else default_device()
    dtype = dtype if dtype is not None else default_dtype(device)
    # NOTE: through float64 numpy first, so float32 tensors are the float64
    # weights rounded once, whatever the input held (lists, arrays or
    # another state dict's tensors).
    return {name: torch.tensor(np.asarray(_host(rows), dtype=np.float64))
            .to(device, dtype).requires_grad_()
            for name, rows in weights.items()}


def _host(w):
    """A tensor as a float64 CPU tensor outside autograd; else w as is."""
    # NOTE: float64 first: numpy cannot take a bfloat16 tensor.
    return w.detach().to("cpu", torch.float64) if torch.is_tensor(w) else w


def to_weights(params):
    """The state dict's current values: name -> float64 numpy array."""
    # NOTE: copy=True, or a CPU float64 tensor would share its memory with
    # the array, and the next training step would change the "snapshot".
    return {name: p.detach().to("cpu", torch.float64, copy=True).numpy()
            for name, p in params.items()}


def init_params(cfg, rng, device=None, dtype=None):
    """A fresh model from rng's Gaussian draws (never torch's RNG)."""
    return from_weights(init_weights(cfg, rng), device, dtype)


# -- building blocks --------------------------------------------------------


def linear(x, w):
    """x @ w.T for a weight matrix w of shape (out, in); no bias."""
    return F.linear(x, w)                          # (..., out)


def softmax(logits):
    """Probabilities along the last axis."""
    # NOTE: torch's kernel subtracts the row max itself, as the scalar twin
    # does by hand; one fused op is much cheaper than five small ones.
    return torch.softmax(logits, dim=-1)


def rmsnorm(x):
    """Rescale each row of x to unit root-mean-square; no learned gain."""
    ms = (x * x).mean(dim=-1, keepdim=True)        # (..., 1)
    return x * (ms + 1e-5) ** -0.5                 # (..., n_embd)


# -- the model --------------------------------------------------------------


def new_kv_cache(cfg):
    """Empty per-layer lists of past keys and values."""
    return [[] for _ in range(cfg.n_layer)], [[] for _ in range(cfg.n_layer)]


def attention(q, k, v, cfg, mask=None):
    """Causal multi-head attention of queries q over keys k and values v.

    q is (..., Tq, n_embd) and k, v are (..., Tk, n_embd) with Tk >= Tq;
    the queries are the last Tq positions, so each one sees the keys up to
    its own position. Packed rows pass mask, (B, T, T) bool, True = may
    attend (see packing.visible), which replaces the causal triangle.
    """
    shape, tq, tk, hd = q.shape, q.shape[-2], k.shape[-2], cfg.head_dim

    def heads(x):                                  # (..., T, n_embd) ->
        # NOTE: always 4-D, even for one document: the fused kernel below
        # runs on (B, n_head, T, hd) only, and on other shapes falls back
        # to the ~10 separate ops it replaces.
        return x.reshape(-1, x.shape[-2], cfg.n_head, hd).transpose(1, 2)

    q, k, v = heads(q), heads(k), heads(v)         # (B, n_head, T, hd)
    # NOTE: one fused kernel does it all: softmax(q @ k.T / sqrt(hd) with
    # the future masked out) @ v, and one more its backward, where the
    # spelled-out version costs ~8 ops each way. At this size the number
    # of ops, not the arithmetic, is the cost.
    if mask is not None:  # packed rows: a triangle per document
        out = F.scaled_dot_product_attention(q, k, v,
                                             attn_mask=mask[:, None])
    elif tq == tk:  # every position: the causal triangle
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    elif tq == 1:   # one query over a cache is the last: it sees all
        out = F.scaled_dot_product_attention(q, k, v)
    else:           # the last tq of tk positions; True = may attend
        seen = torch.ones(tq, tk, dtype=torch.bool, device=q.device)
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=seen.tril(tk - tq))
    return out.transpose(1, 2).reshape(shape)      # (..., Tq, n_embd)


def gpt(token_id, pos_id, kv_cache, params, cfg, mask=None):
    """Logits for the next token after token_id at position pos_id.

    With ints, one position: its key and value join kv_cache, and the
    logits are (vocab_size,). forward passes (..., T) id tensors and
    kv_cache=None instead: all T positions at once, with a causal mask
    (or, for packed rows, mask: see attention).
    """
    one = not torch.is_tensor(token_id)
    if one:  # a single position, as a batch of one row
        token_id, pos_id = [token_id], [pos_id]
    tok = params["wte"][token_id]                  # (..., T, n_embd)
    pos = params["wpe"][pos_id]                    # (..., T, n_embd)
    # NOTE: not redundant with the norm inside the block: the residual
    # path below carries this normalized x, not the raw embedding sum.
    x = rmsnorm(tok + pos)                         # (..., T, n_embd)
    for i in range(cfg.n_layer):
        layer = f"layer{i}."
        residual = x
        x = rmsnorm(x)
        q = linear(x, params[layer + "attn_wq"])   # (..., T, n_embd)
        k = linear(x, params[layer + "attn_wk"])   # (..., T, n_embd)
        v = linear(x, params[layer + "attn_wv"])   # (..., T, n_embd)
        if kv_cache is not None:
            keys, values = kv_cache
            keys[i].append(k)
            values[i].append(v)
            k = torch.cat(keys[i], dim=-2)         # (..., t, n_embd)
            v = torch.cat(values[i], dim=-2)       # (..., t, n_embd)
        x = attention(q, k, v, cfg, mask)          # (..., T, n_embd)
        x = linear(x, params[layer + "attn_wo"]) + residual
        residual = x
        x = rmsnorm(x)
        x = linear(x, params[layer + "mlp_fc1"])   # (..., T, 4 * n_embd)
        x = torch.relu(x)
        x = linear(x, params[layer + "mlp_fc2"]) + residual
    logits = linear(x, params["lm_head"])          # (..., T, vocab_size)
    return logits[0] if one else logits


def forward(params, tokens, cfg, pos=None, mask=None):
    """Logits at every position of tokens (a list or (..., T) ids).

    Packed rows (see batch_loss) also pass each token's position and the
    (B, T, T) mask; by default, position t and a causal mask. Ids given
    as a list or an array are checked; a tensor is taken as it is.
    """
    device = params["wte"].device
    if not torch.is_tensor(tokens):  # a tensor is taken as checked
        tokens = check_ids(tokens, cfg.vocab_size)
    if tokens.shape[-1] > cfg.block_size:
        raise ValueError(f"{tokens.shape[-1]} positions do not fit in "
                         f"block_size {cfg.block_size}")
    # NOTE: long, always: a uint8 tensor would index as a boolean mask.
    ids = torch.as_tensor(tokens, dtype=torch.long, device=device)
    pos = torch.arange(ids.shape[-1], device=device) if pos is None \
        else torch.as_tensor(pos, device=device)  # (..., T)
    if mask is not None:
        mask = torch.as_tensor(mask, device=device)
    return gpt(ids, pos, None, params, cfg, mask)  # (..., T, vocab_size)


def _check_docs(batch):
    """Raise ValueError unless every document has something to predict."""
    for tokens in batch:
        if len(tokens) < 2:
            raise ValueError(f"a document needs at least 2 tokens (BOS and "
                             f"a target), got {list(tokens)!r}")


def doc_loss(params, tokens, cfg):
    """Mean cross-entropy of predicting tokens[1:] from what precedes.

    A document longer than the context is cut to its first block_size
    predictions, as in the original.
    """
    _check_docs([tokens])
    n = min(cfg.block_size, len(tokens) - 1)
    ids = torch.as_tensor(check_ids(tokens[:n + 1], cfg.vocab_size),
                          dtype=torch.long, device=params["wte"].device)
    logits = forward(params, ids[:n], cfg)         # (n, vocab_size)
    # NOTE: cross_entropy is -log(softmax) in log-sum-exp form (two ops:
    # log_softmax, nll_loss); it agrees with the scalar's
    # -log(softmax(.)[target]) to the last few bits.
    return F.cross_entropy(logits, ids[1:])        # mean over n targets


def batch_loss(params, batch, cfg):
    """Mean cross-entropy over every real target of a batch of documents.

    The documents are packed, several to a row, each seeing only itself
    (see packing), and padding targets are ignored. So the loss is
    (sum over real targets) / (number of real targets).
    """
    if len(batch) == 1:
        # NOTE: so B = 1 is train_step's loss, op for op. The (B, T)
        # path below costs 10-30% more here, in ops that only reshape.
        return doc_loss(params, batch[0], cfg)
    _check_docs(batch)
    p = pack(batch, cfg.block_size)
    check_ids(p.targets, cfg.vocab_size)  # forward checks the inputs
    # NOTE: when every document has a row of its own, its padding sits
    # after it, where the causal mask already hides it: the fused causal
    # kernel is then the cheaper choice.
    mask = visible(p.docs) if p.shared else None
    logits = forward(params, p.inputs, cfg, p.positions, mask)  # (R, T, V)
    targets = torch.as_tensor(np.where(p.docs >= 0, p.targets, -1),
                              device=logits.device)          # (R, T)
    total = F.cross_entropy(logits.flatten(0, 1), targets.flatten(),
                            ignore_index=-1, reduction="sum")
    return total / sum(p.counts)


def _grads(params):
    """Name -> float64 numpy copy of each .grad; then clears the .grad."""
    grads = {}
    for name, p in params.items():
        grads[name] = p.grad.to("cpu", torch.float64, copy=True).numpy()
        p.grad = None
    return grads


def loss_and_grads(params, tokens, cfg):
    """The loss (a float) and name -> gradient arrays; clears .grad."""
    loss = doc_loss(params, tokens, cfg)
    loss.backward()
    return loss.item(), _grads(params)


def loss_and_grads_batch(params, batch, cfg):
    """loss_and_grads for a batch, averaged over its real targets."""
    loss = batch_loss(params, batch, cfg)
    loss.backward()
    return loss.item(), _grads(params)


EVAL_BATCH = 512  # documents packed per forward pass of evaluate


@torch.no_grad()
def evaluate(params, docs, cfg):
    """Mean loss per predicted token over docs, lists of token ids."""
    # Each document is cut to block_size predictions, as in doc_loss;
    # every prediction counts once. batch_loss is a batch's mean, so it
    # is weighted by the batch's number of predictions.
    docs, total, count = list(docs), 0.0, 0
    for start in range(0, len(docs), EVAL_BATCH):
        batch = docs[start:start + EVAL_BATCH]
        n = sum(min(cfg.block_size, len(tokens) - 1) for tokens in batch)
        total += batch_loss(params, batch, cfg).item() * n
        count += n
    if not count:
        raise ValueError("no documents to evaluate")
    return total / count


# -- training and sampling --------------------------------------------------


class Adam:
    """Adam with bias correction, on all parameters as one flat vector."""

    def __init__(self, params, tcfg, device=None, dtype=None):
        # device and dtype are accepted so that train.run can pass the same
        # keywords as to init_params; the moments follow the parameters.
        self.params = list(params.values())
        # NOTE: 1-D views that share memory with the parameters, so one
        # in-place op per tensor applies the update without autograd.
        self.flat = [p.detach().view(-1) for p in self.params]
        self.sizes = [p.numel() for p in self.params]
        self.beta1, self.beta2, self.eps = tcfg.beta1, tcfg.beta2, \
            tcfg.eps_adam
        like = self.params[0]
        n = sum(self.sizes)
        self.m = like.new_zeros(n)  # running mean of gradients   (n,)
        self.v = like.new_zeros(n)  # running mean of their squares (n,)
        self.t = 0                  # steps taken

    @torch.no_grad()
    def step(self, lr):
        """Move every parameter by its .grad, then clear the .grad."""
        # NOTE: by hand, not torch.optim.Adam: that one folds the bias
        # corrections into the step size and under eps (lr / (1 - b1**t),
        # sqrt(v) / sqrt(1 - b2**t) + eps). Equal on paper, but rounded
        # differently in the last bits; here each update is the scalar
        # twin's own expression, so only the model's ops can differ.
        # One flat vector turns ~10 ops per tensor into ~10 ops in all:
        # at this size, op overhead is the whole cost.
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        g = torch.cat([p.grad.view(-1) for p in self.params])  # (n,)
        self.m.mul_(b1).add_((1 - b1) * g)
        self.v.mul_(b2).add_((1 - b2) * (g * g))
        m_hat = self.m / (1 - b1 ** self.t)
        v_hat = self.v / (1 - b2 ** self.t)
        update = lr * m_hat / (v_hat.sqrt() + self.eps)        # (n,)
        torch._foreach_sub_(self.flat, update.split(self.sizes))
        for p in self.params:
            p.grad = None


def train_step(params, opt, tokens, lr, cfg):
    """One step on one document; returns its loss before the update."""
    loss = doc_loss(params, tokens, cfg)
    loss.backward()
    opt.step(lr)
    return loss.item()  # the step's only sync with the device


def train_step_batch(params, opt, batch, lr, cfg):
    """One step on B documents; the loss is averaged over real targets."""
    loss = batch_loss(params, batch, cfg)
    loss.backward()
    opt.step(lr)
    return loss.item()


@torch.inference_mode()
def generate(params, cfg, rng, temperature):
    """Draw one sequence of ids until BOS (the last id) or block_size."""
    bos = cfg.vocab_size - 1
    cache = new_kv_cache(cfg)
    token, out = bos, []
    for pos in range(cfg.block_size):
        logits = gpt(token, pos, cache, params, cfg)   # (vocab_size,)
        probs = softmax(logits / temperature)          # (vocab_size,)
        # NOTE: the draw is Python's, from the run's one random stream, so
        # every twin consumes rng identically.
        token = rng.choices(range(cfg.vocab_size),
                            weights=probs.tolist())[0]
        if token == bos:
            break
        out.append(token)
    return out
