"""The GPT against the n-gram tables, as its data budget grows.

Chapter 8 scores count-based n-gram models and the GPT on the same
held-out names. The GPT of that chapter trains for 1,000 steps on one
name each, a small share of the training split; this experiment trains
the same model (the default configuration, the NumPy twin, the original's
optimizer and schedule) on more names, with larger batches and more
steps, and measures each run on the held-out names, for several seeds.
Every run trains on the training split only.
"""

import time

from ..config import ModelConfig, SampleConfig, TrainConfig
from ..data import load_docs, split_docs
from ..train import run as train_run

HELD_OUT = 0.1
SEEDS = (42, 43, 44)
# (batch size, steps): from the chapter's own run to about ten passes
# over the training split.
BUDGETS = ((1, 1000), (8, 1000), (64, 1000), (64, 4000), (64, 16000))
PLAN = {"budgets": BUDGETS, "seeds": SEEDS}
QUICK_PLAN = {"budgets": ((1, 1000),), "seeds": (42,)}


def held_out_loss(train_docs, val_docs, batch_size, num_steps, seed):
    """Train the GPT once and return its held-out loss."""
    tcfg = TrainConfig(batch_size=batch_size, num_steps=num_steps, seed=seed)
    trained = train_run(
        "numpy",
        train_docs,
        ModelConfig(),
        tcfg,
        SampleConfig(num_samples=1),
        val_docs=val_docs,
    )
    return trained.val_losses[-1][1]


def run(quick=False):
    """Train every budget for every seed; return the held-out losses."""
    plan = QUICK_PLAN if quick else PLAN
    train_docs, val_docs = split_docs(load_docs(), HELD_OUT)
    rows = []
    start = time.perf_counter()
    for batch_size, num_steps in plan["budgets"]:
        losses = [
            held_out_loss(train_docs, val_docs, batch_size, num_steps, seed)
            for seed in plan["seeds"]
        ]
        rows.append(
            {
                "batch_size": batch_size,
                "num_steps": num_steps,
                "names_seen": batch_size * num_steps,
                "passes": batch_size * num_steps / len(train_docs),
                "seeds": list(plan["seeds"]),
                "held_out_loss": losses,
            }
        )
    return {
        "plan": {
            "budgets": [list(b) for b in plan["budgets"]],
            "seeds": list(plan["seeds"]),
            "held_out": HELD_OUT,
            "model": vars(ModelConfig()),
            "implementation": "numpy",
            "optimizer": "the original's Adam and schedule",
        },
        "train_names": len(train_docs),
        "held_out_names": len(val_docs),
        "rows": rows,
        "elapsed_s": time.perf_counter() - start,
    }
