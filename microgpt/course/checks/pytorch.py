"""Checks for the PyTorch chapter: mask, loss, attention, two questions."""

import torch
import torch.nn.functional as F

from ... import gpt_torch
from ...config import ModelConfig
from . import CheckFailed, check_close, passed, questions
from .exercise import exercise

# (queries, keys): a full square, one query over a cache, a chunk of queries
# at the end of a longer cache, and the model's whole context.
_SHAPES = ((1, 1), (5, 5), (1, 6), (3, 7), (16, 16))


def _reference_mask(tq, tk):
    """True where a query (one of the last tq positions) may look."""
    return torch.ones(tq, tk, dtype=torch.bool).tril(tk - tq)


def _as_tensor(what, got):
    """got as a CPU tensor, or CheckFailed naming what it was."""
    if not torch.is_tensor(got):
        raise CheckFailed(
            f"{what}: expected a torch tensor, got {type(got).__name__}"
        )
    return got.detach().cpu()


def _check_shape(what, got, shape):
    """Raise CheckFailed unless the tensor got has the given shape."""
    if tuple(got.shape) != tuple(shape):
        raise CheckFailed(
            f"{what}: expected shape {tuple(shape)}, got {tuple(got.shape)}"
        )


@exercise(1, points=1)
def check_float32_loss(float32_loss):
    """float32_loss() -> 'a', 'b' or 'c'."""
    questions.choice(
        "float32 against float64",
        float32_loss,
        "microgpt ch12 float32 loss",
        hint="float32 keeps a 24-bit mantissa; how many decimal "
        'digits is that? See "Float32"',
    )


@exercise(2, points=1, forbids=(_reference_mask,))
def check_causal_mask(causal_mask):
    """causal_mask(tq, tk) -> (tq, tk) bool tensor, True = may attend."""
    for tq, tk in _SHAPES:
        what = f"causal_mask({tq}, {tk})"
        got = _as_tensor(what, causal_mask(tq, tk))
        _check_shape(what, got, (tq, tk))
        if got.dtype != torch.bool:
            raise CheckFailed(
                f"{what}: expected dtype torch.bool (True "
                f"where a key is visible), got {got.dtype}"
            )
        expected = _reference_mask(tq, tk)
        wrong = (got != expected).nonzero()
        if len(wrong):
            i, j = wrong[0].tolist()
            pos = tk - tq + i  # the query's position in the sequence
            seen = "visible" if expected[i, j] else "hidden"
            hint = ""
            if torch.equal(got, ~expected):
                hint = (
                    "; this is what True for the hidden keys gives: "
                    "True must mark the ones a query may see, as in "
                    "the package"
                )
            elif torch.equal(got, torch.ones(tq, tk, dtype=torch.bool).tril()):
                hint = (
                    "; this is what a square mask (tril(), right only "
                    "when tq = tk) gives: the queries are the last tq "
                    "of tk positions"
                )
            raise CheckFailed(
                f"{what} at query {i}, key {j}: got {bool(got[i, j])}, "
                f"expected {bool(expected[i, j])}; query {i} sits at "
                f"position {pos} of {tk}, so key {j} must be {seen} "
                f"({len(wrong)} wrong entries in all){hint}"
            )
    passed("causal_mask")


def _rows_changed_by_masking_late(seed, T, n_embd):
    """Output rows that differ when the mask zeroes weights after softmax.

    One head on a random input: the right way sets the future scores to
    -inf before the softmax; the slip takes the softmax over every key
    and then zeroes the future weights, so a row's weights no longer sum
    to 1 unless its query sees every key.
    """
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(T, n_embd, dtype=torch.float64, generator=gen)
    # Weights of scale 1/sqrt(n_embd), as at initialization, keep every
    # weight of the softmax well above 0, so zeroing one shows.
    wq, wk, wv = (
        torch.randn(3, n_embd, n_embd, dtype=torch.float64, generator=gen)
        / n_embd**0.5
    )
    seen = _reference_mask(T, T)
    scores = (x @ wq) @ (x @ wk).T / n_embd**0.5
    right = torch.softmax(scores.masked_fill(~seen, float("-inf")), dim=-1)
    late = torch.softmax(scores, dim=-1) * seen
    out = (right - late) @ (x @ wv)
    return int(out.abs().amax(dim=-1).gt(1e-12).sum())


@exercise(3, points=1, forbids=(_reference_mask,))
def check_mask_after_softmax(mask_after_softmax):
    """mask_after_softmax() -> rows of 5 that differ, masking late."""
    questions.number(
        "output rows that differ when the mask comes after the softmax",
        mask_after_softmax,
        _rows_changed_by_masking_late(0, 5, 16),
        0.5,
        [
            (
                5,
                "the last query sees every key: what does zeroing the future "
                "weights remove from its row?",
            ),
            (
                0,
                "zeroing after the softmax leaves the visible weights as they "
                "were: do they still sum to 1?",
            ),
            (
                1,
                "which rows lose some of their weight when the future is "
                "zeroed? Every query but the last has a future",
            ),
        ],
    )


# Built-ins that compute the whole loss, or its stable log-sum-exp: the
# exercise is to write them.
_LOSS_BUILTINS = tuple(
    (owner, name)
    for owner in (torch, torch.Tensor, torch.special)
    for name in ("logsumexp", "log_softmax")
)


@exercise(
    4,
    points=2,
    forbids=(F.cross_entropy, F.nll_loss, F.log_softmax) + _LOSS_BUILTINS,
)
def check_cross_entropy(cross_entropy, seed=0):
    """cross_entropy(logits, targets) -> mean loss with torch autograd."""
    gen = torch.Generator().manual_seed(seed)
    # The last case has logits in the hundreds: exp() of them
    # overflows float64, so only a stable formula passes it.
    for T, V, scale in (
        (1, 27, 1.0),
        (7, 27, 1.0),
        (16, 27, 3.0),
        (5, 11, 800.0),
    ):
        what = f"cross_entropy on {T} positions, logits of scale {scale:g}"
        raw = torch.randn(T, V, dtype=torch.float64, generator=gen) * scale
        targets = torch.randint(V, (T,), generator=gen)
        ref = raw.clone().requires_grad_()
        expected = F.cross_entropy(ref, targets)
        expected.backward()
        logits = raw.clone().requires_grad_()
        loss = cross_entropy(logits, targets)
        _check_shape(f"{what}: the loss", _as_tensor(what, loss), ())
        if loss.grad_fn is None:
            raise CheckFailed(
                f"{what}: the loss is not connected to the "
                f"logits by autograd (no grad_fn); build it "
                f"from torch operations on logits"
            )
        e = expected.item()
        check_close(
            f"{what}: the loss",
            loss.item(),
            e,
            tol=1e-12,
            mistakes={
                "a wrong sign (log p, not -log p)": -e,
                "summing over the positions instead of averaging": e * T,
            },
        )
        loss.backward()
        if logits.grad is None:
            raise CheckFailed(f"{what}: backward left logits.grad empty")
        check_close(
            f"{what}: d loss / d logits",
            logits.grad,
            ref.grad,
            tol=1e-12,
            axes=("position", "logit"),
        )
    passed("cross_entropy (value and gradient)")


def _mistaken_attention(q, k, v, cfg):
    """Per likely mistake, the output attention gives with it."""
    tq, tk, hd = q.shape[-2], k.shape[-2], cfg.head_dim

    def heads(x):
        return x.unflatten(-1, (cfg.n_head, hd)).transpose(-3, -2)

    def attend(scale, mask, dim):
        s = heads(q) @ heads(k).transpose(-2, -1) / scale
        if mask is not None:
            s = s.masked_fill(~mask, float("-inf"))
        out = torch.softmax(s, dim=dim) @ heads(v)
        return out.transpose(-3, -2).flatten(-2)

    causal = _reference_mask(tq, tk)
    mistakes = {
        "the mask not applied": attend(hd**0.5, None, -1),
        "leaving the scores unscaled": attend(1, causal, -1),
        "a missing square root in the scale (dividing by d, not "
        "sqrt(d))": attend(hd, causal, -1),
        "a softmax over the wrong axis (over the queries, not the "
        "keys)": attend(hd**0.5, causal, -2),
    }
    if tq != tk:  # for a square, a square mask is the right one
        square = torch.ones(tq, tk, dtype=torch.bool).tril()
        mistakes["a square mask (tril(), right only when tq = tk)"] = attend(
            hd**0.5, square, -1
        )
    return mistakes


@exercise(
    5,
    points=3,
    forbids=(
        gpt_torch.attention,
        F.multi_head_attention_forward,
        (F, "scaled_dot_product_attention"),
        _reference_mask,
    ),
)
def check_attention(attention, seed=0):
    """attention(q, k, v, cfg) -> causal multi-head output."""
    gen = torch.Generator().manual_seed(seed)
    for cfg in (ModelConfig(), ModelConfig(n_embd=6, n_head=2)):
        for batch in ((), (2,)):
            for tq, tk in _SHAPES[1:4]:
                what = (
                    f"attention with {tq} queries over {tk} keys, "
                    f"n_head={cfg.n_head}, batch {batch}"
                )
                q = torch.randn(
                    *batch, tq, cfg.n_embd, dtype=torch.float64, generator=gen
                )
                k, v = torch.randn(
                    2,
                    *batch,
                    tk,
                    cfg.n_embd,
                    dtype=torch.float64,
                    generator=gen,
                )
                expected = gpt_torch.attention(q, k, v, cfg)
                got = _as_tensor(
                    what, attention(q.clone(), k.clone(), v.clone(), cfg)
                )
                _check_shape(what, got, expected.shape)
                check_close(
                    what,
                    got,
                    expected,
                    tol=1e-12,
                    axes=("document",) * len(batch) + ("query", "dimension"),
                    mistakes=_mistaken_attention(q, k, v, cfg),
                )
    passed("attention (masked, multi-head, batched)")
