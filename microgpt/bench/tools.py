"""The benchmark's instruments: threads, inputs, a timer, op counts.

run.py makes the measurements with these.
"""

import gc
import json
import os
import random
import statistics
import subprocess
import sys
import time

from ..config import TrainConfig
from ..train import get_twin

# -- threads ----------------------------------------------------------------


def limit_threads(n):
    """Ask numpy's BLAS and torch for n threads (0: leave the defaults)."""
    if n <= 0:
        return
    # The environment only reaches a BLAS that is not loaded yet, as under
    # `python -m microgpt.bench`; threadpoolctl (when installed) also
    # reaches one that is, e.g. inside a notebook.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    except ImportError:
        pass
    try:
        import torch
    except ImportError:
        return  # main reports it
    torch.set_num_threads(n)


# -- inputs -----------------------------------------------------------------


def stream_docs(names, tokenizer, length, count):
    """count documents of exactly length tokens, cut from framed names.

    The names follow each other as in training (BOS, e, m, m, a, BOS, ...),
    so every document fills the context: T = length - 1 = block_size.
    """
    stream, i = [], 0
    while len(stream) < length * count:
        stream += tokenizer.frame(names[i % len(names)])[:-1]
        i += 1
    return [stream[j * length : (j + 1) * length] for j in range(count)]


# -- timing -----------------------------------------------------------------


def stepper(name, cfg, batched, device):
    """Return step(x): one training step on x of a fresh twin called name.

    x is a batch of token sequences when batched, else one sequence,
    which the step trains on as a batch of one.
    """
    twin = get_twin(name)
    kw = {"device": device} if name == "torch" else {}
    params = twin.init_params(cfg, random.Random(0), **kw)
    opt = twin.Adam(params, TrainConfig())

    def train(x):
        batch = x if batched else [x]
        return twin.train_step(params, opt, batch, 0.001, cfg)

    if name == "torch" and device.type == "cuda":
        import torch

        def step(x):
            train(x)
            # GPU work is queued; the clock must wait for it.
            torch.cuda.synchronize(device)

        return step
    return train


def time_steps(cases, repeat_s):
    """Median seconds per step of each case, timed in turns.

    cases maps a key to (step, inputs, repeats). After one warm-up step
    each, every repeat of every case runs as many steps as fit in about
    repeat_s, going on through its inputs (cycled) where the last repeat
    stopped. The cases take turns, repeat by repeat, so a slow spell of a
    shared machine hits them all alike and their ratios stay fair.
    """
    plan = {}
    for key, (step, inputs, repeats) in cases.items():
        step(inputs[0])  # warm-up: caches, allocator, lazy init
        t0 = time.perf_counter()
        step(inputs[0])  # a warm step, or the plan runs too few
        est = time.perf_counter() - t0
        plan[key] = max(1, round(repeat_s / est)) if est < repeat_s else 1
    # Each repeat goes on where the last one stopped, so that the steps
    # timed cover the inputs evenly, as the tokens credited assume.
    done = dict.fromkeys(cases, 0)
    times = {key: [] for key in cases}
    for r in range(max(c[2] for c in cases.values())):
        for key, (step, inputs, repeats) in cases.items():
            if r >= repeats:
                continue
            n = plan[key]
            # Garbage left by the previous case (the scalar model's graphs)
            # is collected here, not on this case's clock.
            gc.collect()
            t0 = time.perf_counter()
            for j in range(done[key], done[key] + n):
                step(inputs[j % len(inputs)])
            times[key].append((time.perf_counter() - t0) / n)
            done[key] += n
    return {
        key: (statistics.median(t), plan[key], len(t))
        for key, t in times.items()
    }


# -- page faults -----------------------------------------------------------

# A batched NumPy training run, as `--batch-size 64` trains, in a process
# of its own; argv[1] says whether it keeps freed memory (see heap).
CHURN = """
import json, random, resource, statistics, sys, time
from microgpt import gpt_numpy
from microgpt.config import ModelConfig, TrainConfig
from microgpt.data import load_docs
from microgpt.heap import keep_freed_memory
from microgpt.train import prepare
kept = keep_freed_memory() if sys.argv[1] == "keep" else False
_, names, tok = prepare(load_docs(), 42)
cfg = ModelConfig(vocab_size=tok.vocab_size)
batch = [tok.frame(name) for name in names[:64]]
params = gpt_numpy.init_params(cfg, random.Random(0))
opt = gpt_numpy.Adam(params, TrainConfig())
for _ in range(10):  # warm-up: the first steps grow the heap
    gpt_numpy.train_step(params, opt, batch, 0.001, cfg)
faults, times = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, []
for _ in range(int(sys.argv[2])):
    t0 = time.perf_counter()
    for _ in range(10):
        gpt_numpy.train_step(params, opt, batch, 0.001, cfg)
    times.append((time.perf_counter() - t0) / 10)
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
print(json.dumps({"kept": kept, "step_ms": statistics.median(times) * 1e3,
                  "faults_per_step": faults / (10 * len(times))}))
"""


def heap_churn(keep, repeats=5):
    """Page faults and median ms per batched NumPy step, in a new process.

    B = 64 names at the default config. A process of its own, because
    what malloc does depends on the history of the heap; keep says
    whether it calls heap.keep_freed_memory first.
    """
    mode = "keep" if keep else "plain"
    done = subprocess.run(
        [sys.executable, "-c", CHURN, mode, str(repeats)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"the {mode} page-fault run failed:\n{done.stderr[-2000:]}"
        )
    return json.loads(done.stdout)


# -- what a torch step is made of -------------------------------------------


def torch_ops(cfg, batch, device):
    """The aten ops one torch training step dispatches, in order.

    Forward, backward and the Adam update all go through the dispatcher;
    each op that is not a view is (at least) one kernel on a GPU.
    """
    from torch.utils._python_dispatch import TorchDispatchMode

    class Record(TorchDispatchMode):
        """Notes each op's name, and whether it is a view."""

        def __init__(self):
            super().__init__()
            self.ops = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            view = func.is_view or func.__name__.startswith("_unsafe_view")
            self.ops.append((func.__name__.split(".")[0], view))
            return func(*args, **(kwargs or {}))

    step = stepper("torch", cfg, len(batch) > 1, device)
    x = batch if len(batch) > 1 else batch[0]
    step(x)  # warm-up: the first step may differ (lazy init)
    with Record() as rec:
        step(x)
    return rec.ops


def op_counts(ops):
    """All ops, and those that compute (not views)."""
    return {"ops": len(ops), "compute_ops": sum(not v for _, v in ops)}
