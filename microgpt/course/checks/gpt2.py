"""Checks for the GPT-2 chapter: its size, LayerNorm, one mapped weight."""

import torch
import torch.nn.functional as F

from ... import gpt2
from . import CheckFailed, check_close, check_equal, passed, questions
from .exercise import exercise

# (vocab_size, block_size, n_layer, n_embd): GPT-2 small, a small model
# and two of GPT-2's larger sizes.
_SIZES = (
    (50257, 1024, 12, 768),
    (27, 16, 1, 16),
    (65, 64, 2, 64),
    (50257, 1024, 24, 1024),
    (50257, 1024, 48, 1600),
)


def _reference_count(vocab_size, block_size, n_layer, n_embd):
    """The module's own count, built on the meta device (no memory)."""
    cfg = gpt2.GPT2Config(
        vocab_size=vocab_size,
        block_size=block_size,
        n_layer=n_layer,
        n_head=1,
        n_embd=n_embd,
    ).gpt2()
    with torch.device("meta"):
        return gpt2.GPT(cfg).num_params()


def _count_mistakes(V, T, L, d):
    """What each common slip in the count gives."""
    right = _reference_count(V, T, L, d)
    biases = L * (3 * d + d + 4 * d + d)
    return {
        "counting the tied output matrix a second time": right + V * d,
        "forgetting the biases": right - biases,
        "forgetting the final LayerNorm": right - 2 * d,
        "forgetting the LayerNorms' gains and biases": right - (4 * L + 2) * d,
        "forgetting the position embeddings": right - T * d,
    }


@exercise(1, points=1, forbids=(_reference_count,))
def check_gpt2_params(gpt2_params):
    """gpt2_params(vocab_size, block_size, n_layer, n_embd) -> int."""
    for V, T, L, d in _SIZES:
        what = (
            f"gpt2_params(vocab_size={V}, block_size={T}, "
            f"n_layer={L}, n_embd={d})"
        )
        got = gpt2_params(V, T, L, d)
        if isinstance(got, bool) or not isinstance(got, int):
            raise CheckFailed(f"{what}: expected an int, got {got!r}")
        want = _reference_count(V, T, L, d)
        if got == want:
            continue
        for mistake, wrong in _count_mistakes(V, T, L, d).items():
            if got == wrong:
                raise CheckFailed(
                    f"{what}: got {got:,}, expected "
                    f"{want:,}; this is what {mistake} "
                    f"gives",
                    mistake,
                )
        check_equal(what, f"{got:,}", f"{want:,}")
    passed("gpt2_params")


def _reference_layer_norm(x, weight, bias, eps):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / (var + eps) ** 0.5 * weight + bias


def _layer_norm_mistakes(x, weight, bias, eps):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    n = x.shape[-1]
    return {
        "leaving out the mean subtraction (an RMSNorm with gain and bias)": x
        / ((x * x).mean(-1, keepdim=True) + eps) ** 0.5
        * weight
        + bias,
        "dividing the variance by n - 1 instead of n": (x - mean)
        / (var * n / (n - 1) + eps) ** 0.5
        * weight
        + bias,
        "adding eps outside the square root": (x - mean)
        / (var**0.5 + eps)
        * weight
        + bias,
        "leaving out the gain and the bias": (x - mean) / (var + eps) ** 0.5,
    }


@exercise(
    2,
    points=2,
    forbids=(
        (F, "layer_norm"),
        (torch, "layer_norm"),
        _reference_layer_norm,
    ),
)
def check_layer_norm(layer_norm):
    """layer_norm(x, weight, bias, eps) -> normalized x, the same shape."""
    g = torch.Generator().manual_seed(0)
    # A wide row, a narrow one, a batch, and rows far from zero with a
    # small spread, where the eps and n - 1 slips show most.
    cases = [
        (torch.randn(8, generator=g, dtype=torch.float64), 1e-5),
        (torch.randn(3, 4, 16, generator=g, dtype=torch.float64), 1e-5),
        (5 + 0.01 * torch.randn(2, 6, generator=g, dtype=torch.float64), 1e-3),
    ]
    for x, eps in cases:
        d = x.shape[-1]
        weight = 1 + 0.5 * torch.randn(d, generator=g, dtype=torch.float64)
        bias = 0.3 * torch.randn(d, generator=g, dtype=torch.float64)
        what = f"layer_norm of shape {tuple(x.shape)}, eps {eps:g}"
        got = layer_norm(x.clone(), weight, bias, eps)
        if not torch.is_tensor(got) or got.shape != x.shape:
            shape = (
                tuple(got.shape)
                if torch.is_tensor(got)
                else type(got).__name__
            )
            raise CheckFailed(
                f"{what}: expected a tensor of shape "
                f"{tuple(x.shape)}, got {shape}"
            )
        check_close(
            what,
            got.reshape(-1, d),
            _reference_layer_norm(x, weight, bias, eps).reshape(-1, d),
            1e-9,
            axes=("row", "column"),
            mistakes={
                k: v.reshape(-1, d)
                for k, v in _layer_norm_mistakes(x, weight, bias, eps).items()
            },
        )
    passed("layer_norm")


_NAMES = (
    "wte.weight",
    "wpe.weight",
    "h.0.ln_1.weight",
    "h.0.ln_1.bias",
    "h.1.attn.c_attn.weight",
    "h.1.attn.c_attn.bias",
    "h.0.attn.c_proj.weight",
    "h.1.mlp.c_fc.weight",
    "h.1.mlp.c_proj.weight",
    "h.1.mlp.c_proj.bias",
    "ln_f.weight",
    "lm_head.weight",
)


@exercise(
    3, points=2, forbids=(gpt2.hf_name, gpt2.to_hf_state, gpt2.from_hf_state)
)
def check_to_hf(to_hf):
    """to_hf(name, tensor) -> (GPT2LMHeadModel's name, its tensor)."""
    cfg = gpt2.GPT2Config(
        vocab_size=27, block_size=32, n_layer=2, n_head=4, n_embd=16
    ).gpt2()
    model = gpt2.GPT(cfg)
    model.reset_parameters(torch.Generator().manual_seed(0))
    state = model.state_dict()
    # The package's answer, computed before the answer runs.
    want = gpt2.to_hf_state(model)
    for name in _NAMES:
        p = state[name]
        want_name = gpt2.hf_name(name)
        got = to_hf(name, p.clone())
        if not isinstance(got, tuple) or len(got) != 2:
            raise CheckFailed(
                f"to_hf({name!r}, ...): expected a (name, "
                f"tensor) pair, got {got!r:.60}"
            )
        got_name, got_w = got
        if got_name != want_name:
            hint = (
                "; GPT2LMHeadModel keeps every weight but lm_head "
                "under 'transformer.'"
                if not str(got_name).startswith("transformer.")
                and name != "lm_head.weight"
                else ""
            )
            raise CheckFailed(
                f"to_hf({name!r}, ...): the name is "
                f"{got_name!r}, expected {want_name!r}{hint}"
            )
        w = want[want_name]
        if tuple(got_w.shape) != tuple(w.shape):
            hint = ""
            if name.endswith(gpt2.CONV1D):
                hint = (
                    "; GPT-2's Conv1D stores (in, out), the transpose "
                    "of nn.Linear's (out, in)"
                )
            elif p.dim() == 2 and tuple(got_w.shape) == tuple(w.t().shape):
                hint = "; only Conv1D weights are transposed"
            raise CheckFailed(
                f"to_hf({name!r}, ...): shape "
                f"{tuple(got_w.shape)}, expected "
                f"{tuple(w.shape)}{hint}"
            )
        if (
            p.dim() == 2
            and w.shape[0] == w.shape[1]
            and torch.equal(got_w, w.t())
            and not torch.equal(got_w, w)
        ):
            msg = (
                "not transposing a Conv1D weight"
                if name.endswith(gpt2.CONV1D)
                else "transposing a weight that is not a Conv1D's"
            )
            raise CheckFailed(
                f"to_hf({name!r}, ...): the values are "
                f"w.T, expected w; this is what {msg} gives",
                msg,
            )
        check_close(f"to_hf({name!r}, ...)", got_w, w, 0.0)
    passed("to_hf")


@exercise(4, points=1)
def check_tied_share(tied_share):
    """tied_share() -> 'a', 'b' or 'c'."""
    questions.choice(
        "what tying saves in GPT-2 small",
        tied_share,
        "microgpt ch18 tied share",
        hint="count V * n_embd and compare it with the untied total; "
        'see "Tied embeddings"',
    )
