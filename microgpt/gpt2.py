"""A GPT-2-shaped model whose options switch microgpt's choices to GPT-2's.

One module in nanoGPT's style: a config dataclass, a block, a model.
Each option of GPT2Config changes one thing GPT-2 does differently from
microgpt; with every option at its microgpt setting (the defaults) the
model computes what gpt_torch.forward computes for the same weights,
and with every option at its GPT-2 setting (GPT2Config.gpt2_small and
friends) it is GPT-2. from_twin copies a twin's weights in, and hf_name
maps each weight name to Hugging Face transformers' GPT2LMHeadModel.
"""

import math
from dataclasses import dataclass, replace

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import EPS_NORM
from .params import INIT_STD


@dataclass(frozen=True)
class GPT2Config:
    """Sizes, and one switch per difference between microgpt and GPT-2."""

    vocab_size: int = 27  # microgpt: 26 letters and BOS
    block_size: int = 16  # positions, the context length
    n_layer: int = 1
    n_head: int = 4
    n_embd: int = 16
    mlp_ratio: int = 4  # the MLP's hidden width is this * n_embd
    norm: str = "rms"  # "rms": RMSNorm, no gain; "layer": GPT-2
    embed_norm: bool = True  # microgpt normalizes the embedding sum
    final_norm: bool = False  # GPT-2 normalizes before the head
    activation: str = "relu"  # "relu", or "gelu" (tanh form, GPT-2)
    bias: bool = False  # biases in every linear but the head
    tie_weights: bool = False  # the head reuses the token embeddings
    dropout: float = 0.0  # 0.1 in transformers' GPT2Config
    init_std: float = INIT_STD  # microgpt 0.08, GPT-2 0.02
    scaled_init: bool = False  # residual projections' std / sqrt(2 n_layer)

    def __post_init__(self):
        if self.n_embd % self.n_head:
            raise ValueError(
                f"GPT2Config.n_embd ({self.n_embd}) must be "
                f"divisible by n_head ({self.n_head})"
            )
        if self.norm not in ("rms", "layer"):
            raise ValueError(
                f"GPT2Config.norm must be 'rms' or 'layer', not {self.norm!r}"
            )
        if self.activation not in ("relu", "gelu"):
            raise ValueError(
                f"GPT2Config.activation must be 'relu' or "
                f"'gelu', not {self.activation!r}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(
                f"GPT2Config.dropout must be in [0, 1), not {self.dropout}"
            )

    @classmethod
    def microgpt(cls, model_cfg):
        """microgpt's model for a twin's ModelConfig: every switch off."""
        return cls(
            vocab_size=model_cfg.vocab_size,
            block_size=model_cfg.block_size,
            n_layer=model_cfg.n_layer,
            n_head=model_cfg.n_head,
            n_embd=model_cfg.n_embd,
        )

    def gpt2(self):
        """The same sizes with every one of GPT-2's choices switched on."""
        return replace(
            self,
            norm="layer",
            embed_norm=False,
            final_norm=True,
            activation="gelu",
            bias=True,
            tie_weights=True,
            dropout=0.1,
            init_std=0.02,
            scaled_init=True,
        )

    @classmethod
    def gpt2_small(cls):
        """GPT-2 small: 12 layers, 12 heads, 768 wide, 50,257 tokens."""
        return cls(
            vocab_size=50257,
            block_size=1024,
            n_layer=12,
            n_head=12,
            n_embd=768,
        ).gpt2()


class Norm(nn.Module):
    """RMSNorm without a gain (microgpt) or LayerNorm with gain and bias."""

    def __init__(self, cfg):
        super().__init__()
        self.layer = cfg.norm == "layer"
        if self.layer:
            self.weight = nn.Parameter(torch.ones(cfg.n_embd))
            self.bias = nn.Parameter(torch.zeros(cfg.n_embd))

    def forward(self, x):
        """x normalized along its last axis, (..., n_embd)."""
        if self.layer:
            return F.layer_norm(
                x, self.weight.shape, self.weight, self.bias, EPS_NORM
            )
        ms = (x * x).mean(dim=-1, keepdim=True)  # (..., 1)
        return x * (ms + EPS_NORM) ** -0.5


class Attention(nn.Module):
    """Causal self-attention; q, k and v come from one matrix, c_attn."""

    def __init__(self, cfg):
        super().__init__()
        self.n_head = cfg.n_head
        self.dropout = cfg.dropout
        self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=cfg.bias)
        self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.resid_drop = nn.Dropout(cfg.dropout)

    def forward(self, x):
        """Mix the values each position may see, then project the mix."""
        B, T, C = x.shape  # (B, T, n_embd)
        q, k, v = self.c_attn(x).split(C, dim=2)  # 3 x (B, T, C)

        def heads(t):  # (B, T, C) -> (B, n_head, T, head_dim)
            return t.view(B, T, self.n_head, -1).transpose(1, 2)

        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(
            heads(q), heads(k), heads(v), dropout_p=p, is_causal=True
        )
        y = y.transpose(1, 2).reshape(B, T, C)  # (B, T, n_embd)
        return self.resid_drop(self.c_proj(y))


class MLP(nn.Module):
    """Two linear maps with an activation between them."""

    def __init__(self, cfg):
        super().__init__()
        hidden = cfg.mlp_ratio * cfg.n_embd
        self.gelu = cfg.activation == "gelu"
        self.c_fc = nn.Linear(cfg.n_embd, hidden, bias=cfg.bias)
        self.c_proj = nn.Linear(hidden, cfg.n_embd, bias=cfg.bias)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x):
        """Return the MLP's output at every position, (B, T, n_embd)."""
        h = self.c_fc(x)  # (B, T, 4 * n_embd)
        h = F.gelu(h, approximate="tanh") if self.gelu else F.relu(h)
        return self.drop(self.c_proj(h))  # (B, T, n_embd)


class Block(nn.Module):
    """Pre-norm block: x + attention(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, cfg):
        super().__init__()
        self.ln_1 = Norm(cfg)
        self.attn = Attention(cfg)
        self.ln_2 = Norm(cfg)
        self.mlp = MLP(cfg)

    def forward(self, x):
        """Return the stream after both sublayers have added to it."""
        x = x + self.attn(self.ln_1(x))  # (B, T, n_embd)
        return x + self.mlp(self.ln_2(x))  # (B, T, n_embd)


class GPT(nn.Module):
    """Embeddings, n_layer blocks, and a head to vocabulary logits."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.drop = nn.Dropout(cfg.dropout)
        self.ln_e = Norm(cfg) if cfg.embed_norm else None
        self.h = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = Norm(cfg) if cfg.final_norm else None
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        if cfg.tie_weights:  # one matrix, used at both ends
            self.lm_head.weight = self.wte.weight
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self, generator=None):
        """Gaussian weights of std init_std, zero biases, unit gains."""
        std = self.cfg.init_std
        # The residual projections add into the stream 2 n_layer times.
        scale = (
            1 / math.sqrt(2 * self.cfg.n_layer)
            if self.cfg.scaled_init
            else 1.0
        )
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                p.zero_()
            elif p.dim() == 1:  # a LayerNorm's gain
                p.fill_(1.0)
            elif name.endswith("c_proj.weight"):
                p.normal_(0.0, std * scale, generator=generator)
            else:
                p.normal_(0.0, std, generator=generator)

    def num_params(self):
        """Count the distinct parameter scalars, tied ones once."""
        return sum(p.numel() for p in self.parameters())

    def forward(self, idx):
        """Return logits at every position of token ids idx, (B, T)."""
        T = idx.shape[-1]
        if T > self.cfg.block_size:
            raise ValueError(
                f"sequence of {T} tokens is longer than "
                f"block_size {self.cfg.block_size}"
            )
        pos = torch.arange(T, device=idx.device)  # (T,)
        x = self.drop(self.wte(idx) + self.wpe(pos))  # (B, T, n_embd)
        if self.ln_e is not None:
            x = self.ln_e(x)
        for block in self.h:
            x = block(x)  # (B, T, n_embd)
        if self.ln_f is not None:
            x = self.ln_f(x)
        return self.lm_head(x)  # (B, T, vocab)


# -- weights from elsewhere -------------------------------------------------


def twin_state(params, cfg):
    """A state dict for GPT from a twin's weights (name -> 2-D array).

    microgpt keeps q, k and v as three matrices; c_attn stacks them.
    """

    def t(name):
        return torch.as_tensor(params[name]).detach()

    state = {
        "wte.weight": t("wte"),
        "wpe.weight": t("wpe"),
        "lm_head.weight": t("lm_head"),
    }
    for i in range(cfg.n_layer):
        src, dst = f"layer{i}.", f"h.{i}."
        state[dst + "attn.c_attn.weight"] = torch.cat(
            [t(src + "attn_wq"), t(src + "attn_wk"), t(src + "attn_wv")]
        )
        state[dst + "attn.c_proj.weight"] = t(src + "attn_wo")
        state[dst + "mlp.c_fc.weight"] = t(src + "mlp_fc1")
        state[dst + "mlp.c_proj.weight"] = t(src + "mlp_fc2")
    return state


def from_twin(params, cfg, dtype=torch.float64):
    """microgpt's model (every switch off) holding a twin's weights."""
    model = GPT(GPT2Config.microgpt(cfg)).to(dtype)
    model.load_state_dict(twin_state(params, cfg))
    return model


# Hugging Face's GPT2LMHeadModel stores its linear maps as Conv1D, whose
# weight is (in, out): the transpose of nn.Linear's (out, in).
CONV1D = (
    "attn.c_attn.weight",
    "attn.c_proj.weight",
    "mlp.c_fc.weight",
    "mlp.c_proj.weight",
)


def hf_name(name):
    """Return the name GPT2LMHeadModel's state dict gives our weight."""
    if name == "lm_head.weight":
        return name
    return "transformer." + name


def to_hf_state(model):
    """Rename and transpose our state dict for GPT2LMHeadModel."""
    return {
        hf_name(name): p.t() if name.endswith(CONV1D) else p
        for name, p in model.state_dict().items()
    }


def from_hf_state(hf_state, cfg):
    """Make a state dict for GPT(cfg) from GPT2LMHeadModel's."""
    # A model on the meta device has names and shapes but no memory.
    with torch.device("meta"):
        model_names = GPT(cfg).state_dict()
    return {
        name: hf_state[hf_name(name)].t()
        if name.endswith(CONV1D)
        else hf_state[hf_name(name)]
        for name in model_names
    }
