"""Benchmark: time per training step and tokens/s of the three twins.

Run ``python -m microgpt.bench [--out PATH.json] [--quick]``. It times
training steps (median of repeats, after a warm-up) at several model
sizes, one document per step and batched, prints a table and writes JSON.
"""

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import asdict

from .. import distributed, outputs
from ..batch import pack
from ..config import ModelConfig
from ..cost import train_flops
from ..data import DataError, load_docs, resolve_data_path
from ..heap import keep_freed_memory
from ..train import prepare
from .report import machine_info, print_table, ratios, targets
from .tools import (
    heap_churn,
    limit_threads,
    op_counts,
    stepper,
    stream_docs,
    time_steps,
    torch_ops,
)

SIZES = [(16, 16), (64, 64), (128, 128)]  # (n_embd, block_size)
LAYERS = [1, 4]
N_HEAD = 4
BATCH = 64
SCALAR_SIZES = [(16, 16)]  # pure Python is far slower: the smallest only
DEFAULT_DOCS = 10  # real names timed at the default config
REPEAT_S = 0.25  # seconds of steps per timed repeat (roughly)

PARALLEL = 2  # processes of the data-parallel comparison
FULL = dict(
    sizes=SIZES,
    layers=LAYERS,
    batch=BATCH,
    repeats=7,
    scalar_repeats=3,
    default_docs=DEFAULT_DOCS,
    repeat_s=REPEAT_S,
    lengths=[1, 2, 4, 8, 16],
    heap_turns=3,
    parallel_steps=40,
)
QUICK = dict(
    sizes=SIZES[:1],
    layers=LAYERS[:1],
    batch=8,
    repeats=2,
    scalar_repeats=1,
    default_docs=2,
    repeat_s=0.02,
    lengths=[1, 4],
    heap_turns=1,
    parallel_steps=3,
)


# -- the benchmark ----------------------------------------------------------


def bench_default(names, tokenizer, plan, device):
    """The original's setting: default config, one real name per step."""
    cfg = ModelConfig(vocab_size=tokenizer.vocab_size)
    docs = [tokenizer.frame(n) for n in names[: plan["default_docs"]]]
    cases = {}
    for name in ("scalar", "numpy", "torch"):
        reps = plan["scalar_repeats" if name == "scalar" else "repeats"]
        step = stepper(name, cfg, False, device)

        def one_pass(_, step=step):  # one step per document, in turn
            for tokens in docs:
                step(tokens)

        cases[name] = (one_pass, [None], reps)
    timed = time_steps(cases, plan["repeat_s"])
    ms = {name: s / len(docs) * 1e3 for name, (s, _, _) in timed.items()}
    return {
        "config": asdict(cfg),
        "batch_size": 1,
        "docs": len(docs),
        "mean_T": statistics.mean(
            min(len(d) - 1, cfg.block_size) for d in docs
        ),
        "step_ms": ms,
        "speedup": {
            "numpy_vs_scalar": ms["scalar"] / ms["numpy"],
            "torch_vs_scalar": ms["scalar"] / ms["torch"],
            "numpy_vs_torch": ms["torch"] / ms["numpy"],
        },
    }


def bench_names(names, tokenizer, plan, device):
    """Default config on the real names: B = 1 against a packed batch.

    This is training as the command line runs it, so tokens count real
    predictions only; padding is work a batch does without a token to
    show for it. Its share is recorded as trained (packed) and as it
    would be with one name to a row, padded to the longest.
    """
    cfg = ModelConfig(vocab_size=tokenizer.vocab_size)
    B = plan["batch"]
    frames = [tokenizer.frame(n) for n in names[: 4 * B]]
    batches = [frames[i * B : (i + 1) * B] for i in range(4)]
    ns = [[min(cfg.block_size, len(f) - 1) for f in b] for b in batches]
    real = sum(map(sum, ns)) / len(batches)  # per batch, on average
    shapes = [pack(b, cfg.block_size).inputs.shape for b in batches]
    packed = statistics.mean(r * t for r, t in shapes)  # positions
    padded = statistics.mean(len(n) * max(n) for n in ns)  # one per row
    cases = {}
    for name in ("numpy", "torch"):
        cases[name, 1] = (
            stepper(name, cfg, False, device),
            frames,
            plan["repeats"],
        )
        cases[name, B] = (
            stepper(name, cfg, True, device),
            batches,
            plan["repeats"],
        )
    timed = time_steps(cases, plan["repeat_s"])
    per_doc = real / B  # mean predictions
    results = [
        {
            "impl": name,
            "batch_size": b,
            "step_ms": s * 1e3,
            "tokens_per_s": (per_doc if b == 1 else real) / s,
        }
        for (name, b), (s, _, _) in timed.items()
    ]
    tps = {(r["impl"], r["batch_size"]): r["tokens_per_s"] for r in results}
    return {
        "config": asdict(cfg),
        "batch_size": B,
        "names": len(frames),
        "mean_T": per_doc,
        "real_share": real / packed,
        "real_share_one_per_row": real / padded,
        "rows": statistics.mean(r for r, _ in shapes),
        "results": results,
        "gain": {
            name: tps[name, B] / tps[name, 1] for name in ("numpy", "torch")
        },
    }


def bench_heap(plan):
    """Batched NumPy steps with malloc as it comes and with memory kept.

    Each run is a process of its own (see bench_tools.heap_churn); the two
    kinds take turns, so a slow spell of the machine hits both alike.
    """
    runs = {"plain": [], "kept": []}
    for _ in range(plan["heap_turns"]):
        for mode, got in runs.items():
            got.append(heap_churn(mode == "kept", plan["repeats"]))
    out = {
        mode: {
            key: statistics.median(r[key] for r in got)
            for key in ("step_ms", "faults_per_step")
        }
        for mode, got in runs.items()
    }
    out["kept"]["kept"] = all(r["kept"] for r in runs["kept"])
    return out


def bench_lengths(names, tokenizer, plan, device):
    """Default config, one document of T tokens per step, for several T.

    What stays when T shrinks to 1 is the cost of a step itself: calls,
    dispatch, bookkeeping. What grows with T is the arithmetic.
    """
    cfg = ModelConfig(vocab_size=tokenizer.vocab_size)
    cases = {}
    for T in plan["lengths"]:
        docs = stream_docs(names, tokenizer, T + 1, 4)
        for name in ("scalar", "numpy", "torch"):
            reps = plan["scalar_repeats" if name == "scalar" else "repeats"]
            cases[name, T] = (
                stepper(name, cfg, False, device),
                docs[:1] if name == "scalar" else docs,
                reps,
            )
    timed = time_steps(cases, plan["repeat_s"])
    return [
        {"impl": name, "T": T, "step_ms": s * 1e3}
        for (name, T), (s, _, _) in timed.items()
    ]


def bench_sizes(names, tokenizer, plan, device):
    """Every size and layer count: each implementation, B = 1 and batched."""
    rows = []
    for n_embd, block in plan["sizes"]:
        for n_layer in plan["layers"]:
            cfg = ModelConfig(
                vocab_size=tokenizer.vocab_size,
                n_layer=n_layer,
                n_embd=n_embd,
                block_size=block,
                n_head=N_HEAD,
            )
            runs = [
                ("numpy", 1),
                ("numpy", plan["batch"]),
                ("torch", 1),
                ("torch", plan["batch"]),
            ]
            if (n_embd, block) in SCALAR_SIZES:
                runs.insert(0, ("scalar", 1))
            docs = stream_docs(names, tokenizer, block + 1, 4 * plan["batch"])
            cases = {}
            for name, B in runs:
                inputs = (
                    [docs[i * B : (i + 1) * B] for i in range(4)]
                    if B > 1
                    else docs[:4]
                )
                reps = plan[
                    "scalar_repeats" if name == "scalar" else "repeats"
                ]
                cases[name, B] = (
                    stepper(name, cfg, B > 1, device),
                    inputs,
                    reps,
                )
            timed = time_steps(cases, plan["repeat_s"])
            for (name, B), (s, n, reps) in timed.items():
                rows.append(
                    {
                        "impl": name,
                        "n_embd": n_embd,
                        "block_size": block,
                        "n_layer": n_layer,
                        "batch_size": B,
                        "T": block,
                        "step_ms": s * 1e3,
                        "tokens_per_s": B * block / s,
                        "gflops": train_flops(cfg, B, block) / s / 1e9,
                        "steps_per_repeat": n,
                        "repeats": reps,
                    }
                )
            print(f"  timed {n_embd}x{block} L{n_layer}", file=sys.stderr)
    return rows


def cpu_jiffies():
    """(busy, all) clock ticks of every CPU since boot, or None.

    Linux's /proc/stat counts them; elsewhere there is nothing to read.
    """
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + fields[4]  # idle, and waiting for input/output
    return sum(fields[:8]) - idle, sum(fields[:8])


def machine_busy(measure):
    """(measure(), the share of all CPUs busy while it ran, ours).

    Ours is the CPU time of this process and the processes it waited
    for, as a share of the same whole; the rest of busy is other work
    on the machine. Both are None where /proc/stat is missing.
    """
    before, times = cpu_jiffies(), os.times()
    result = measure()
    after, done = cpu_jiffies(), os.times()
    if before is None or after is None:
        return result, None, None
    busy, total = (a - b for a, b in zip(after, before))
    ticks = os.sysconf("SC_CLK_TCK")
    ours = sum(done[:4]) - sum(times[:4])  # user, system, children's
    return result, busy / total, ours * ticks / total


def bench_data_parallel(plan):
    """Tokens/s of the torch twin at B on 1 and PARALLEL processes (CPU).

    Each process runs one thread over gloo (see distributed); the best of
    the repeats counts, as a measure of what the machine can do. One
    process on PARALLEL threads is timed too, the other way to give it
    the same cores, and the share of the CPUs that other work took
    meanwhile.
    """
    B, steps = plan["batch"], plan["parallel_steps"]
    reps = max(1, plan["repeats"] // 2)  # each start costs seconds

    def best(runs):
        return max(runs, key=lambda r: r["tokens_per_s"])

    def measure():
        # In turns, so that the three see the same load from other work.
        runs = [], [], []
        for _ in range(reps):
            runs[0].append(distributed.one_process_throughput(B, steps))
            runs[1].append(
                distributed.one_process_throughput(B, steps, threads=PARALLEL)
            )
            runs[2].append(
                distributed.spawn(
                    "throughput", PARALLEL, batch_size=B, steps=steps
                )
            )
        return [best(r) for r in runs]

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    (one, threaded, many), busy, ours = machine_busy(measure)
    return {
        "batch_size": B,
        "steps": steps,
        "repeats": reps,
        "nproc": [1, PARALLEL],
        "tokens_per_s": [one["tokens_per_s"], many["tokens_per_s"]],
        "ratio": many["tokens_per_s"] / one["tokens_per_s"],
        "comm_share": many["comm_share"],
        "step_s": [one["step_s"], many["step_s"]],
        "allreduce_s": many["allreduce_s"],
        "one_process_threads": {
            "threads": PARALLEL,
            "tokens_per_s": threaded["tokens_per_s"],
            "ratio": threaded["tokens_per_s"] / one["tokens_per_s"],
        },
        "load_average": load,
        "cpus_busy": busy,
        "cpus_ours": ours,
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
    }


def run(quick=False, threads=1, device=None):
    """The whole benchmark as a dict (what main writes as JSON)."""
    limit_threads(threads)
    import torch

    from ..gpt_torch import default_device, default_dtype

    plan = QUICK if quick else FULL
    start = time.perf_counter()
    # As the command line does, so batched NumPy steps are timed as they
    # train there, and not by the heap this process happens to have.
    kept = keep_freed_memory()
    device = torch.device(device) if device else default_device()
    _, names, tokenizer = prepare(load_docs(), 42)
    default = bench_default(names, tokenizer, plan, device)
    batched = bench_names(names, tokenizer, plan, device)
    # (only glibc has the knobs; elsewhere both runs would be the same)
    heap = bench_heap(plan) if kept else None
    lengths = bench_lengths(names, tokenizer, plan, device)
    rows = bench_sizes(names, tokenizer, plan, device)
    parallel = bench_data_parallel(plan)
    table = ratios(rows, plan["batch"])
    # The op count depends on the depth and on batching only, not on the
    # width or the context, so the smallest size stands for all.
    docs = stream_docs(names, tokenizer, 17, plan["batch"])
    ops = {}
    for n_layer in plan["layers"]:
        cfg = ModelConfig(vocab_size=tokenizer.vocab_size, n_layer=n_layer)
        for B in (1, plan["batch"]):
            ops[f"L{n_layer}_B{B}"] = op_counts(
                torch_ops(cfg, docs[:B], device)
            )
    return {
        "machine": machine_info(device),
        "settings": {
            "quick": quick,
            "threads": threads,
            "malloc_keeps_freed_memory": kept,
            "torch_dtype": str(default_dtype(device)),
            "n_head": N_HEAD,
            "batch_size": plan["batch"],
            "repeats": plan["repeats"],
            "scalar_repeats": plan["scalar_repeats"],
            "T": "block_size: documents of block_size + 1 "
            "tokens cut from the stream of framed names",
            "scalar_sizes": SCALAR_SIZES,
        },
        "default": default,
        "names": batched,
        "heap": heap,
        "lengths": lengths,
        "results": rows,
        "ratios": table,
        "targets": targets(default, batched, table, plan["batch"]),
        "torch_ops": ops,
        "data_parallel": parallel,
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "elapsed_s": time.perf_counter() - start,
    }


def main(argv=None):
    """Run the benchmark, print the tables, write the JSON."""
    p = argparse.ArgumentParser(
        prog="python -m microgpt.bench", description=__doc__.splitlines()[0]
    )
    p.add_argument(
        "--out",
        default=None,
        metavar="PATH.json",
        help="write the results here as JSON",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="one small size, a few steps (seconds, for tests)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads for numpy's BLAS and torch; 0 keeps their defaults",
    )
    p.add_argument(
        "--device",
        default=None,
        help="torch's device; default cuda if available",
    )
    args = p.parse_args(argv)
    cores = os.cpu_count() or 1
    # More threads than cores only slow every op, and far too many make
    # the thread pools fail to start and crash the process.
    if not 0 <= args.threads <= cores:
        p.error(
            f"--threads must be 0 (the libraries' defaults) to "
            f"{cores}, the cores here; got {args.threads}"
        )
    limit_threads(args.threads)  # before torch loads numpy's BLAS below
    try:
        import torch
    except ImportError:
        p.error(
            "the benchmark compares all three implementations and "
            "needs torch (pip install torch)"
        )
    if args.device is not None:
        try:
            device = torch.device(args.device)
        except RuntimeError as e:
            p.error(f"bad --device {args.device!r}: {e}")
        if device.type not in ("cpu", "cuda"):
            p.error(
                f"--device {args.device}: the benchmark runs on cpu or cuda"
            )
        if device.type == "cuda" and not torch.cuda.is_available():
            p.error(f"--device {args.device}: CUDA is not available")
    try:
        data = resolve_data_path()
        outputs.check([("--out", args.out)], [("the dataset", data)])
    except (DataError, ValueError) as e:
        p.error(str(e))
    try:
        result = run(args.quick, args.threads, args.device)
    except DataError as e:
        p.error(str(e))
    print_table(result)
    if args.out is not None:  # an earlier run's file is never half-written
        text = json.dumps(result, indent=1) + "\n"
        try:
            outputs.atomic_write(args.out, lambda f: f.write(text.encode()))
        except OSError as e:
            p.exit(1, f"{p.prog}: error: {e}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
