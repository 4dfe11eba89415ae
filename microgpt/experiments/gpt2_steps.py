"""From microgpt to GPT-2 one difference at a time, on Tiny Shakespeare.

A small GPT (microgpt.gpt2) is trained on character windows of the
corpus, first with microgpt's choices and then with GPT-2's differences
switched on one after another, cumulatively: each step keeps every
earlier switch, so the last step is GPT-2's recipe at this size. The
differences interact (GELU beside a LayerNorm is not GELU beside an
RMSNorm), and the cumulative path is the one GPT-2 actually took.
Every step is trained with the same seeds, and seed s gives every step
the same windows, a paired design: each step's effect is the mean of
its paired differences from the step before, with its standard error.
The loss is measured on the held-out tail of the text in bits per
character.
"""

import math
import random
import time
from dataclasses import asdict, replace

# Each step switches on one more of GPT-2's differences.
STEPS = [
    ("microgpt", {}),
    ("LayerNorm", {"norm": "layer"}),
    ("final norm", {"embed_norm": False, "final_norm": True}),
    ("GELU", {"activation": "gelu"}),
    ("biases", {"bias": True}),
    ("tied embeddings", {"tie_weights": True}),
    ("GPT-2 init", {"init_std": 0.02, "scaled_init": True}),
    ("dropout", {"dropout": 0.1}),
]

FULL = {
    "seeds": [0, 1, 2],
    "num_steps": 800,
    "batch_size": 16,
    "learning_rate": 1e-2,
    "n_layer": 2,
    "n_head": 4,
    "n_embd": 64,
    "block_size": 64,
    "held_out": 0.1,
    "eval_chars": 20000,
    "steps": [name for name, _ in STEPS],
}
# The smallest point of the full plan: microgpt's model, the first seed.
QUICK = dict(FULL, seeds=[0], steps=["microgpt"])
# How far a re-run of QUICK may land from the stored point, in bits per
# character. float32 sums differ between processors' vector paths, and
# 800 steps of training carry such differences along; it is kept below
# the spread between seeds, which a real change would exceed.
REPRODUCE_TOL = 0.06


def config_of(plan, vocab_size, upto):
    """Return the GPT2Config with every step's switch up to upto on."""
    from ..gpt2 import GPT2Config

    cfg = GPT2Config(
        vocab_size=vocab_size,
        block_size=plan["block_size"],
        n_layer=plan["n_layer"],
        n_head=plan["n_head"],
        n_embd=plan["n_embd"],
    )
    for name, switches in STEPS:
        cfg = replace(cfg, **switches)
        if name == upto:
            return cfg
    raise ValueError(f"no step named {upto!r}")


def paired(diffs):
    """Return the mean and standard error of paired differences.

    The standard deviation divides by n - 1, as for a sample.
    """
    n = len(diffs)
    mean = sum(diffs) / n
    if n < 2:
        return mean, float("nan")
    var = sum((d - mean) ** 2 for d in diffs) / (n - 1)
    return mean, (var / n) ** 0.5


def train_one(cfg, plan, train_ids, seed):
    """Train a model from seed on windows of train_ids and return it.

    It uses Adam, with a learning rate that decays linearly to zero.
    """
    import torch

    from ..gpt2 import GPT
    from ..text import windows

    torch.manual_seed(seed)  # this seeds dropout's masks
    model = GPT(cfg)
    model.reset_parameters(torch.Generator().manual_seed(seed))
    model.train()
    opt = torch.optim.Adam(
        model.parameters(), lr=plan["learning_rate"], betas=(0.9, 0.99)
    )
    # With one seed, every step of the plan trains on the same windows.
    rng = random.Random(seed)
    n = plan["num_steps"]
    for step in range(n):
        for group in opt.param_groups:  # linear decay to zero
            group["lr"] = plan["learning_rate"] * (1 - step / n)
        batch = torch.tensor(
            windows(train_ids, cfg.block_size, plan["batch_size"], rng)
        )
        logits = model(batch[:, :-1])  # (B, T, vocab)
        loss = torch.nn.functional.cross_entropy(
            logits.flatten(0, 1), batch[:, 1:].flatten()
        )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return model.eval()


def bits_per_char(model, ids, block_size):
    """Return the mean -log2 p of each held-out character but the first."""
    import torch

    from ..text import eval_windows

    total, count = 0.0, 0
    with torch.no_grad():
        for w in eval_windows(ids, block_size):
            w = torch.tensor([w])
            logits = model(w[:, :-1])  # (1, T, vocab)
            total += torch.nn.functional.cross_entropy(
                logits[0], w[0, 1:], reduction="sum"
            ).item()
            count += w.shape[1] - 1
    return total / count / math.log(2)


def run(quick=False):
    """Train every step with every seed; return a JSON-ready dict."""
    import torch

    from ..text import CharTokenizer, load_text, split_text

    threads = torch.get_num_threads()
    # One thread adds in one order, whatever the machine's core count.
    torch.set_num_threads(1)
    try:
        plan = QUICK if quick else FULL
        text = load_text()
        train_text, val_text = split_text(text, plan["held_out"])
        tok = CharTokenizer.from_text(text)
        train_ids = tok.encode(train_text)
        val_ids = tok.encode(val_text[: plan["eval_chars"]])
        bpc, params, started = {}, {}, time.perf_counter()
        for name in plan["steps"]:
            cfg = config_of(plan, tok.vocab_size, name)
            bpc[name] = [
                bits_per_char(
                    train_one(cfg, plan, train_ids, s), val_ids, cfg.block_size
                )
                for s in plan["seeds"]
            ]
            from ..gpt2 import GPT

            params[name] = GPT(cfg).num_params()
        table, before = {}, None
        for name, row in bpc.items():
            entry = {"mean": sum(row) / len(row)}
            if before is not None:
                d, se = paired([a - b for a, b in zip(row, bpc[before])])
                entry.update(diff=d, se=se)
            table[name], before = entry, name
        return {
            "plan": plan,
            "dataset": "tinyshakespeare.txt, split_text(text, held_out); "
            "the first eval_chars of the tail",
            "dtype": "float32",
            "threads": 1,
            "configs": {
                n: asdict(config_of(plan, tok.vocab_size, n))
                for n in plan["steps"]
            },
            "params": params,
            "bpc": bpc,
            "table": table,
            "seconds": round(time.perf_counter() - started, 1),
        }
    finally:
        torch.set_num_threads(threads)
