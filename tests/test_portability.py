"""Every notebook prints the same on any processor.

NumPy, OpenBLAS and PyTorch choose SIMD code paths when they load: on a
machine with AVX-512 they use 512-bit vectors, on one with AVX2 256-bit
ones. A reduction on wider vectors adds its terms in another order, so a
number printed to its last digits can differ between two correct
machines. The chapters print only what any of them reproduces: rounded to
what the prose needs, or a bound the cell asserts. This test proves it by
running every notebook under nbval again, with the widest paths this
machine has switched off: an AVX-512 machine checks what an AVX2 machine
prints, and an AVX2 machine what one without AVX2 prints.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.portability

ROOT = Path(__file__).resolve().parents[1]

# What a child process reports about the code paths it took.
PROBE = """
import json
import numpy, torch
from numpy._core import _multiarray_umath as core
from threadpoolctl import threadpool_info
blas = [i.get("architecture") for i in threadpool_info()
        if i["user_api"] == "blas"]
print(json.dumps({
    "numpy": [f for f in core.__cpu_dispatch__
              if core.__cpu_features__.get(f)],
    "openblas": blas[0] if blas else None,
    "torch": torch.backends.cpu.get_cpu_capability(),
}))
"""


def paths_taken(env=None):
    """The SIMD paths NumPy, OpenBLAS and PyTorch take in a new process."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def narrower_env(taken):
    """The environment that takes each library one SIMD level down.

    NumPy's dispatch targets on x86-64 are X86_V3 (AVX2), X86_V4 (AVX-512)
    and extensions of X86_V4; its baseline (X86_V2, SSE4.2) cannot be
    switched off. Elsewhere every dispatch target is switched off.
    """
    env = dict(os.environ)
    numpy_on = taken["numpy"]
    if "X86_V4" in numpy_on:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(
            f for f in numpy_on if f != "X86_V3"
        )
        env["OPENBLAS_CORETYPE"] = "Haswell"  # AVX2 kernels
        env["ATEN_CPU_CAPABILITY"] = "avx2"
    else:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(numpy_on)
        if "X86_V3" in numpy_on:
            env["OPENBLAS_CORETYPE"] = "Sandybridge"  # AVX, no AVX2
        env["ATEN_CPU_CAPABILITY"] = "default"
    return env


def test_the_narrower_paths_are_really_taken():
    taken = paths_taken()
    narrow = paths_taken(narrower_env(taken))
    assert len(narrow["numpy"]) < len(taken["numpy"]) or not taken["numpy"]
    assert narrow["torch"] != taken["torch"] or taken["torch"] == "DEFAULT"
    if "X86_V3" in taken["numpy"]:
        assert narrow["openblas"] != taken["openblas"], (taken, narrow)


def test_every_notebook_prints_the_same_on_narrower_simd():
    env = narrower_env(paths_taken())
    # The project's pytest settings (nbval, strict, sanitized) apply.
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "book",
        "-p",
        "no:xdist",
        "-p",
        "no:cacheprovider",
        "-q",
        "--no-header",
        "-rf",
    ]
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200
    )
    switched = {
        k: env[k]
        for k in (
            "NPY_DISABLE_CPU_FEATURES",
            "OPENBLAS_CORETYPE",
            "ATEN_CPU_CAPABILITY",
        )
        if k in env
    }
    assert proc.returncode == 0, (
        f"with {switched} these notebook outputs differ from the stored "
        "ones: print fewer digits, or assert a bound and print that\n"
        + proc.stdout[-8000:]
        + proc.stderr[-2000:]
    )
    assert " passed" in proc.stdout and "no tests ran" not in proc.stdout
