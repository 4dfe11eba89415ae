"""The benchmark's report: the machine, the ratios, the goals, a table.

microgpt.bench measures; this module says what was measured on, derives
the ratios between its rows and prints them.
"""

import json
import os
import platform
import sys
from importlib.resources import files

STORED = "stored.json"  # in the package: the run the book reads


def stored():
    """The benchmark run stored with the package, as a dict."""
    return json.loads(
        files(__package__).joinpath(STORED).read_text(encoding="utf-8")
    )


# -- the machine ------------------------------------------------------------


def cpu_info():
    """The CPU's model name and its widest vector units, where known."""
    model, flags = platform.processor() or platform.machine(), []
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() == "flags":
                    flags = value.split()
                    break
    except OSError:
        pass
    return model, [f for f in ("avx2", "fma", "avx512f") if f in flags]


def blas_info():
    """numpy's BLAS and its threads: threadpoolctl's view, else numpy's."""
    import numpy as np

    try:
        from threadpoolctl import threadpool_info

        return [
            {
                k: lib.get(k)
                for k in (
                    "internal_api",
                    "version",
                    "architecture",
                    "num_threads",
                )
            }
            for lib in threadpool_info()
            if lib["user_api"] == "blas"
        ]
    except ImportError:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        threads = os.environ.get("OPENBLAS_NUM_THREADS", "")
        return [
            {
                "internal_api": blas.get("name"),
                "version": blas.get("version"),
                "architecture": None,  # unknown without threadpoolctl
                "num_threads": int(threads) if threads.isdigit() else None,
            }
        ]


def machine_info(device):
    """What the numbers were measured on."""
    import numpy as np
    import torch

    cpu, simd = cpu_info()
    info = {
        "cpu": cpu,
        "simd": simd,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "blas": blas_info(),
        "torch_threads": torch.get_num_threads(),
        "torch_mkl": torch.backends.mkl.is_available(),
        "device": str(device),
        "openblas_env": {
            k: os.environ.get(k)
            for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
        },
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


# -- ratios and goals -------------------------------------------------------


def ratios(rows, batch):
    """Per size: batching gains, torch against numpy, and against scalar."""
    tps = {
        (
            r["impl"],
            r["n_embd"],
            r["block_size"],
            r["n_layer"],
            r["batch_size"],
        ): r["tokens_per_s"]
        for r in rows
    }
    out = []
    for size in sorted(
        {(r["n_embd"], r["block_size"], r["n_layer"]) for r in rows}
    ):

        def get(twin, B):
            return tps.get((twin, *size, B))

        n_embd, block_size, n_layer = size
        r = {
            "n_embd": n_embd,
            "block_size": block_size,
            "n_layer": n_layer,
            "numpy_batch_gain": get("numpy", batch) / get("numpy", 1),
            "torch_batch_gain": get("torch", batch) / get("torch", 1),
            "torch_vs_numpy_b1": get("torch", 1) / get("numpy", 1),
            "torch_vs_numpy_batched": get("torch", batch)
            / get("numpy", batch),
        }
        if get("scalar", 1):
            r["numpy_vs_scalar"] = get("numpy", 1) / get("scalar", 1)
            r["torch_vs_scalar"] = get("torch", 1) / get("scalar", 1)
        out.append(r)
    return out


# The batch size the batching goals are stated for.
GOAL_BATCH = 64


def targets(default, names, table, batch):
    """The performance targets, each with its measured value.

    The batching goals are stated for B = GOAL_BATCH; a run at another
    batch size (--quick) is judged on the others only.
    """
    out = {
        "numpy_vs_scalar_default": (
            default["speedup"]["numpy_vs_scalar"],
            1000.0,
        )
    }
    if batch != GOAL_BATCH:
        return {
            k: {"value": v, "target": t, "holds": v >= t}
            for k, (v, t) in out.items()
        }
    for twin in ("numpy", "torch"):  # training on the names, as the CLI
        out[f"{twin}_B{batch}_vs_B1_names"] = (names["gain"][twin], 20.0)
    for r in table:
        size = f"{r['n_embd']}x{r['block_size']}_L{r['n_layer']}"
        if (r["n_embd"], r["n_layer"]) == (16, 1):  # the default config
            for twin in ("numpy", "torch"):
                out[f"{twin}_B{batch}_vs_B1_{size}"] = (
                    r[twin + "_batch_gain"],
                    20.0,
                )
        if r["n_embd"] == 64:
            out[f"torch_vs_numpy_B{batch}_{size}"] = (
                r["torch_vs_numpy_batched"],
                1.0,
            )
    return {
        k: {"value": v, "target": t, "holds": v >= t}
        for k, (v, t) in out.items()
    }


# -- the table --------------------------------------------------------------


def print_table(result, file=sys.stdout):
    """The measurements and ratios as plain-text tables."""
    d = result["default"]
    print(
        f"machine: {result['machine']['cpu']}, "
        f"{result['machine']['cores']} cores, device "
        f"{result['machine']['device']}, threads "
        f"{result['settings']['threads']}",
        file=file,
    )
    print(
        f"\ndefault config, one real name per step (mean T = "
        f"{d['mean_T']:.1f} over {d['docs']} names):",
        file=file,
    )
    for name, ms in d["step_ms"].items():
        print(f"  {name:7s} {ms:10.3f} ms/step", file=file)
    for k, v in d["speedup"].items():
        print(f"  {k:16s} {v:9.1f}x", file=file)
    n = result["names"]
    print(
        f"\ndefault config, training on the names (mean T = "
        f"{n['mean_T']:.1f}; real tokens {n['real_share']:.0%} of the "
        f"packed batch, {n['real_share_one_per_row']:.0%} with one name "
        f"to a row):",
        file=file,
    )
    for r in n["results"]:
        print(
            f"  {r['impl']:7s} B = {r['batch_size']:2d} "
            f"{r['step_ms']:8.3f} ms/step {r['tokens_per_s']:10.0f} "
            f"tokens/s",
            file=file,
        )
    for twin, gain in n["gain"].items():
        print(
            f"  {twin} B = {n['batch_size']} / B = 1: {gain:.1f}x", file=file
        )
    h = result["heap"]
    print("\nB = 64 NumPy steps in a fresh process (see heap):", file=file)
    if h is None:
        print("  not measured: malloc here is not glibc's", file=file)
    else:
        for mode, r in h.items():
            print(
                f"  freed memory {mode:5s} {r['step_ms']:8.3f} ms/step "
                f"{r['faults_per_step']:6.0f} page faults/step",
                file=file,
            )
    print(
        "\ndefault config, one document of T tokens per step (ms):", file=file
    )
    by = {(r["impl"], r["T"]): r["step_ms"] for r in result["lengths"]}
    for T in sorted({T for _, T in by}):
        print(
            f"  T = {T:2d}: "
            + ", ".join(
                f"{name} {by[name, T]:.3f}"
                for name in ("scalar", "numpy", "torch")
            ),
            file=file,
        )
    print(
        "\ntraining steps, T = block_size (scalar: smallest size only, "
        "few steps):",
        file=file,
    )
    print(
        f"  {'impl':6s} {'n_embd':>6s} {'block':>5s} {'layers':>6s} "
        f"{'B':>3s} {'ms/step':>10s} {'tokens/s':>10s} {'GFLOP/s':>8s}",
        file=file,
    )
    for r in result["results"]:
        print(
            f"  {r['impl']:6s} {r['n_embd']:6d} {r['block_size']:5d} "
            f"{r['n_layer']:6d} {r['batch_size']:3d} {r['step_ms']:10.3f} "
            f"{r['tokens_per_s']:10.0f} {r['gflops']:8.2f}",
            file=file,
        )
    print("\nratios of tokens/s (B = batched size):", file=file)
    for r in result["ratios"]:
        extra = (
            f", numpy/scalar {r['numpy_vs_scalar']:.0f}x"
            if "numpy_vs_scalar" in r
            else ""
        )
        print(
            f"  {r['n_embd']}x{r['block_size']} L{r['n_layer']}: "
            f"numpy B/1 {r['numpy_batch_gain']:.1f}x, torch B/1 "
            f"{r['torch_batch_gain']:.1f}x, torch/numpy at 1 "
            f"{r['torch_vs_numpy_b1']:.2f}x, batched "
            f"{r['torch_vs_numpy_batched']:.2f}x{extra}",
            file=file,
        )
    parallel = result.get("data_parallel")
    if parallel is not None:  # not in runs stored before it was measured
        one, many = parallel["tokens_per_s"]
        print(
            f"\ndata parallelism, torch on the CPU, B = "
            f"{parallel['batch_size']}, one thread a process:",
            file=file,
        )
        print(f"  1 process {one:12,.0f} tokens/s", file=file)
        print(
            f"  {parallel['nproc'][1]} processes {many:10,.0f} tokens/s "
            f"({parallel['ratio']:.2f}x), {parallel['comm_share']:.0%} "
            f"of the time in all-reduce",
            file=file,
        )
        if "allreduce_s" in parallel:  # measured from the same release on
            print(
                f"  a step {parallel['step_s'][1] * 1e3:.2f} ms, of "
                f"which the all-reduce alone (no waiting) "
                f"{parallel['allreduce_s'] * 1e3:.3f} ms; one process's "
                f"step {parallel['step_s'][0] * 1e3:.2f} ms",
                file=file,
            )
        threaded = parallel.get("one_process_threads")
        if threaded is not None:
            print(
                f"  1 process on {threaded['threads']} threads "
                f"{threaded['tokens_per_s']:,.0f} tokens/s "
                f"({threaded['ratio']:.2f}x)",
                file=file,
            )
        if parallel.get("cpus_busy") is not None:
            other = parallel["cpus_busy"] - parallel["cpus_ours"]
            load = parallel["load_average"]
            print(
                f"  while this was measured, other work kept "
                f"{max(other, 0):.0%} of the CPUs busy"
                + (
                    ""
                    if load is None
                    else f" (load average {load:.2f} before)"
                ),
                file=file,
            )
    print("\ntargets:", file=file)
    batch = result["settings"]["batch_size"]
    if batch != GOAL_BATCH:
        print(
            f"  (the batching goals are for B = {GOAL_BATCH}; this run "
            f"batches {batch}, so they are not judged)",
            file=file,
        )
    for k, t in result["targets"].items():
        print(
            f"  {k:34s} {t['value']:9.1f} >= {t['target']:<6g} "
            f"{'holds' if t['holds'] else 'MISSED'}",
            file=file,
        )
