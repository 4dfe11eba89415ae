"""Scaling: held-out loss against model size and training tokens.

Names models of 1, 2 and 4 layers and several widths are trained for
several numbers of steps, each run with the same seed. Every run records
its parameter count N, the predictions it trained on D (tokens), the
compute C = 6 N D that estimate gives, and its held-out loss per
prediction. fit_power_law fits L = E + A * x ** -alpha to such points.
"""

import math
import random
import time

import numpy as np

from ..config import ModelConfig, TrainConfig

FULL = {
    "n_layer": [1, 2, 4],
    "n_embd": [8, 16, 32, 64],
    "num_steps": [300, 1000, 3000],
    "batch_size": 32,
    "learning_rate": 0.01,
    "seed": 0,
}
# The smallest point of the full plan.
QUICK = dict(FULL, n_layer=[1], n_embd=[8], num_steps=[300])


def fit_line(xs, ys):
    """Fit a line to ys against xs by least squares: (slope, intercept)."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    slope = sxy / sxx
    return slope, my - slope * mx


def fit_power_law(xs, losses, steps=2000):
    """Fit L = E + A * x ** -alpha to the losses; return (E, A, alpha).

    For each floor E on a grid from 0 to just below the smallest loss,
    log(L - E) = log A - alpha log x is a straight line, fitted by least
    squares; the E whose line leaves the smallest squared error in L
    itself wins. With E = 0 this is the plain log-log line.
    """
    best = None
    top = min(losses)
    for i in range(steps):
        e = top * i / steps
        slope, icpt = fit_line(
            [math.log(x) for x in xs], [math.log(y - e) for y in losses]
        )
        a, alpha = math.exp(icpt), -slope
        err = sum((e + a * x**-alpha - y) ** 2 for x, y in zip(xs, losses))
        if best is None or err < best[0]:
            best = (err, e, a, alpha)
    return best[1:]


def frontier(runs, budgets):
    """Find, for each compute budget, the best run that fits in it."""
    out = []
    for c in budgets:
        fits = [r for r in runs if r["compute"] <= c]
        if fits:
            best = min(fits, key=lambda r: r["loss"])
            out.append(dict(budget=c, **best))
    return out


def run(quick=False):
    """Train every (depth, width, steps) of the plan; return a JSON dict."""
    import torch

    from .. import ablation
    from ..data import load_docs, split_docs
    from ..params import num_params

    # One thread adds in one order, whatever the machine's core count.
    torch.set_num_threads(1)
    plan = QUICK if quick else FULL
    train_docs, val_docs = split_docs(load_docs(), 0.1)
    runs, started = [], time.perf_counter()
    for n_layer in plan["n_layer"]:
        for n_embd in plan["n_embd"]:
            cfg = ModelConfig(n_layer=n_layer, n_embd=n_embd)
            val = ablation.rows(val_docs, ablation.TOKENIZER, cfg)
            for steps in plan["num_steps"]:
                tcfg = TrainConfig(
                    num_steps=steps,
                    batch_size=plan["batch_size"],
                    learning_rate=plan["learning_rate"],
                    seed=plan["seed"],
                )
                params = ablation.train(train_docs, cfg, tcfg)
                n = num_params(cfg)
                d = tokens_seen(train_docs, cfg, tcfg)
                runs.append(
                    {
                        "n_layer": n_layer,
                        "n_embd": n_embd,
                        "steps": steps,
                        "params": n,
                        "tokens": d,
                        "compute": 6 * n * d,
                        "loss": ablation.held_out_loss(params, val, cfg),
                    }
                )
    return {
        "plan": plan,
        "dtype": "float32",
        "dataset": "names.txt, split_docs(docs, 0.1)",
        "runs": runs,
        "seconds": round(time.perf_counter() - started, 1),
    }


def tokens_seen(train_docs, cfg, tcfg):
    """Count the predictions a run of tcfg trains on: D in C = 6 N D."""
    from .. import ablation

    docs = list(train_docs)
    random.Random(tcfg.seed).shuffle(docs)
    ids = ablation.rows(docs, ablation.TOKENIZER, cfg)
    per_row = (ids[:, 1:] >= 0).sum(axis=1)  # (N,) targets per name
    take = np.arange(tcfg.num_steps * tcfg.batch_size) % len(docs)
    return int(per_row[take].sum())
