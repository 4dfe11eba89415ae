"""Ablations: the names model with one part taken out, over paired seeds.

Every variant (the full model, no first norm, no residuals, no MLP, one
head instead of four, no position embeddings) is trained with the same
seeds, so seed s gives every variant the same initial draws and batches:
a paired design. Each run's held-out loss per prediction is measured on
the names the book holds out (split_docs(docs, 0.1)). Each trained full
model is then measured again with each attention head silenced in turn,
and the first seed's character embeddings are kept for a picture.
"""

import time

from ..config import ModelConfig, TrainConfig

FULL = {
    "seeds": [0, 1, 2, 3, 4, 5, 6, 7],
    "num_steps": 2000,
    "batch_size": 32,
    "learning_rate": 0.01,
    "variants": [
        "full",
        "no first norm",
        "no residuals",
        "no MLP",
        "1 head",
        "no positions",
    ],
}
# The smallest point of the full plan: the first seed's full model.
QUICK = dict(FULL, seeds=[0], variants=["full"])


def switches_of(variant):
    """Return the ModelConfig and forward's switches of a variant's name."""
    from .. import ablation

    if variant == "1 head":
        return ModelConfig(n_head=1), {}
    return ModelConfig(), ablation.VARIANTS[variant]


def paired(diffs):
    """Return the mean and standard error of paired differences.

    The standard deviation divides by n - 1, as for a sample.
    """
    n = len(diffs)
    mean = sum(diffs) / n
    if n < 2:
        return mean, None
    var = sum((d - mean) ** 2 for d in diffs) / (n - 1)
    return mean, (var / n) ** 0.5


def run(quick=False):
    """Train every variant with every seed; return a JSON-ready dict."""
    import torch

    from .. import ablation
    from ..data import load_docs, split_docs

    # One thread adds in one order, whatever the machine's core count.
    torch.set_num_threads(1)
    plan = QUICK if quick else FULL
    train_docs, val_docs = split_docs(load_docs(), 0.1)
    losses, heads, started = {}, {}, time.perf_counter()
    embedding = None
    for variant in plan["variants"]:
        cfg, switches = switches_of(variant)
        val = ablation.rows(val_docs, ablation.TOKENIZER, cfg)
        losses[variant] = []
        for seed in plan["seeds"]:
            tcfg = TrainConfig(
                num_steps=plan["num_steps"],
                batch_size=plan["batch_size"],
                learning_rate=plan["learning_rate"],
                seed=seed,
            )
            params = ablation.train(
                train_docs, cfg, tcfg, switches, dtype=torch.float64
            )
            full = ablation.held_out_loss(params, val, cfg, switches)
            losses[variant].append(full)
            if variant != "full":
                continue
            heads[seed] = [
                ablation.held_out_loss(
                    params, val, cfg, {"silenced": [(0, h)]}
                )
                - full
                for h in range(cfg.n_head)
            ]
            if embedding is None:
                embedding = params["wte"].detach().tolist()
    table = {}
    for variant, row in losses.items():
        n = len(row)
        diffs = [a - b for a, b in zip(row, losses["full"])]
        d, se = paired(diffs)
        table[variant] = {"mean": sum(row) / n, "diff": d, "se": se}
    return {
        "plan": plan,
        "dataset": "names.txt, split_docs(docs, 0.1)",
        "dtype": "float64",
        "model": vars(ModelConfig()),
        "params": {
            v: ablation.num_used(*switches_of(v)) for v in plan["variants"]
        },
        "losses": losses,
        "table": table,
        "head_removed": {str(s): d for s, d in heads.items()},
        "wte_seed0": embedding,
        "chars": "".join(ablation.TOKENIZER.chars) + "<BOS>",
        "seconds": round(time.perf_counter() - started, 1),
    }
