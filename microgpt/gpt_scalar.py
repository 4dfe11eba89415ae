"""The GPT in pure Python on scalar Values: the reference implementation.

With the default configs and seed it reproduces the original program's run
bit for bit. Every operation below is ordered as in the original, because
floating-point sums depend on order.
"""

from bisect import bisect_left
from itertools import accumulate

from .batch import check_batch, mean_loss
from .config import EPS_NORM, check_top
from .engine import Value
from .params import init_weights

# -- parameters -------------------------------------------------------------


def from_weights(weights):
    """Name -> rows of floats, as a state dict of Value matrices."""
    return {
        name: [[Value(float(w)) for w in row] for row in rows]
        for name, rows in weights.items()
    }


def to_weights(params):
    """The state dict's current floats: name -> list of rows."""
    return {
        name: [[p.data for p in row] for row in mat]
        for name, mat in params.items()
    }


def init_params(cfg, rng):
    """A fresh model from rng's Gaussian draws."""
    return from_weights(init_weights(cfg, rng))


def flat_params(params):
    """Every Value of the state dict in one list, in state-dict order."""
    return [p for mat in params.values() for row in mat for p in row]


# -- building blocks --------------------------------------------------------


def linear(x, w):
    """w @ x for a matrix w given as a list of rows; no bias."""
    return [sum(wi * xi for wi, xi in zip(row, x)) for row in w]


def softmax(logits):
    """Probabilities from logits; the max is subtracted to avoid overflow."""
    # The max is a plain float, so no gradient flows through it; none is
    # needed, since softmax does not change when all logits shift.
    top = max(v.data for v in logits)
    exps = [(v - top).exp() for v in logits]
    total = sum(exps)
    return [e / total for e in exps]


def rmsnorm(x):
    """Rescale x to unit root-mean-square; no learned gain."""
    ms = sum(xi * xi for xi in x) / len(x)
    scale = (ms + EPS_NORM) ** -0.5
    return [xi * scale for xi in x]


# -- the model --------------------------------------------------------------


def new_kv_cache(cfg):
    """Empty per-layer lists of past keys and values."""
    return [[] for _ in range(cfg.n_layer)], [[] for _ in range(cfg.n_layer)]


def attention(q, keys, values, cfg):
    """Multi-head attention of one query over the cached keys and values."""
    hd = cfg.head_dim
    out = []
    for h in range(cfg.n_head):
        s = h * hd
        q_h = q[s : s + hd]  # (hd,)
        k_h = [k[s : s + hd] for k in keys]  # (t, hd)
        v_h = [v[s : s + hd] for v in values]  # (t, hd)
        scores = [
            sum(q_h[j] * k_t[j] for j in range(hd)) / hd**0.5 for k_t in k_h
        ]  # (t,)
        weights = softmax(scores)  # (t,)
        out.extend(
            sum(weights[t] * v_h[t][j] for t in range(len(v_h)))
            for j in range(hd)
        )  # (hd,)
    return out  # (n_embd,)


def gpt(token_id, pos_id, kv_cache, params, cfg):
    """Logits for the next token after token_id at position pos_id.

    Causality comes from the cache: this position's key and value are
    appended, and the query sees only what is cached so far.
    """
    keys, values = kv_cache
    tok = params["wte"][token_id]  # (n_embd,)
    pos = params["wpe"][pos_id]  # (n_embd,)
    x = [t + p for t, p in zip(tok, pos)]  # (n_embd,)
    # Not redundant with the norm inside the block: the residual path
    # below carries this normalized x, not the raw embedding sum.
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
        x = linear(x, params[layer + "attn_wo"])  # (n_embd,)
        x = [a + b for a, b in zip(x, residual)]
        residual = x
        x = rmsnorm(x)
        x = linear(x, params[layer + "mlp_fc1"])  # (4 * n_embd,)
        x = [xi.relu() for xi in x]
        x = linear(x, params[layer + "mlp_fc2"])  # (n_embd,)
        x = [a + b for a, b in zip(x, residual)]
    return linear(x, params["lm_head"])  # (vocab_size,)


def forward(params, tokens, cfg):
    """Logits at every position of tokens, one position at a time.

    Returns (logits, None): the Values hold their own graph, so there is
    no cache for a backward pass to keep.
    """
    kv_cache = new_kv_cache(cfg)
    logits = [
        gpt(tok, pos, kv_cache, params, cfg) for pos, tok in enumerate(tokens)
    ]  # (T, vocab_size)
    return logits, None


def batch_loss(params, batch, cfg):
    """Mean cross-entropy over every target of a batch of sequences.

    Each sequence predicts tokens[1:] from what precedes them. One longer
    than the context is cut to its first block_size predictions, as in
    the original. The mean is over all the batch's targets, so a batch of
    one document is the original's loss, bit for bit.
    """
    check_batch(batch)
    losses = []
    for tokens in batch:
        n = min(cfg.block_size, len(tokens) - 1)
        logits, _ = forward(params, tokens[:n], cfg)
        losses += [
            -softmax(lg)[target].log()
            for lg, target in zip(logits, tokens[1 : n + 1])
        ]
    return (1 / len(losses)) * sum(losses)


def loss_and_grads(params, batch, cfg):
    """The loss (a float) and name -> gradient rows; leaves .grad at 0."""
    return _backward(params, batch_loss(params, batch, cfg))


def _backward(params, loss):
    """loss.data and name -> gradient rows; then every .grad is 0."""
    loss.backward()
    grads = {
        name: [[p.grad for p in row] for row in mat]
        for name, mat in params.items()
    }
    for p in flat_params(params):
        p.grad = 0
    return loss.data, grads


def evaluate(params, seqs, cfg):
    """Mean loss per predicted token over seqs, lists of token ids."""

    # One sequence at a time, so that each one's graph of Values is
    # dropped before the next is built.
    def loss(params, batch, cfg):
        return batch_loss(params, batch, cfg).data

    return mean_loss(loss, params, seqs, cfg, batch_size=1)


# -- training and sampling --------------------------------------------------


class Adam:
    """Adam with bias correction, one scalar at a time."""

    def __init__(self, params, tcfg):
        self.params = flat_params(params)
        self.beta1, self.beta2, self.eps = (
            tcfg.beta1,
            tcfg.beta2,
            tcfg.eps_adam,
        )
        self.m = [0.0] * len(self.params)  # running mean of gradients
        self.v = [0.0] * len(self.params)  # running mean of their squares
        self.t = 0  # steps taken

    def step(self, lr):
        """Move every parameter by its .grad, then zero the .grad."""
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        for i, p in enumerate(self.params):
            self.m[i] = b1 * self.m[i] + (1 - b1) * p.grad
            self.v[i] = b2 * self.v[i] + (1 - b2) * p.grad**2
            m_hat = self.m[i] / (1 - b1**self.t)
            v_hat = self.v[i] / (1 - b2**self.t)
            p.data -= lr * m_hat / (v_hat**0.5 + self.eps)
            p.grad = 0


def train_step(params, opt, batch, lr, cfg):
    """One step on a batch of sequences; returns the loss before it."""
    loss = batch_loss(params, batch, cfg)
    loss.backward()
    opt.step(lr)
    return loss.data


def top_filter(probs, top_k=None, top_p=None):
    """probs kept for the likeliest tokens only, renormalised; 0 elsewhere.

    The tokens are ranked by probability, largest first, a tie going to
    the smaller id. top_k keeps the first k of the ranking; top_p then
    keeps its shortest head whose probability reaches p of what is left.
    """
    ranked = sorted(range(len(probs)), key=lambda i: -probs[i])
    if top_k is not None:
        ranked = ranked[:top_k]
    # The running sums of the ranked probabilities, largest first.
    mass = list(accumulate(probs[i] for i in ranked))
    if top_p is not None:
        # The head ends at the first running sum that reaches top_p of
        # the total, so a sum exactly equal to it ends the head.
        ranked = ranked[: bisect_left(mass, top_p * mass[-1]) + 1]
    kept = mass[len(ranked) - 1]
    out = [0.0] * len(probs)
    for i in ranked:
        out[i] = probs[i] / kept
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
        probs = [p.data for p in softmax([lg / temperature for lg in logits])]
        if filtered:
            probs = top_filter(probs, top_k, top_p)
        token = rng.choices(range(cfg.vocab_size), weights=probs)[0]
        if token == bos:
            break
        out.append(token)
    return out
