"""Settings for every test run, notebooks included (pytest loads this first).

One BLAS/OpenMP thread per process. The suite runs two pytest-xdist
workers on small matrices, where extra threads only contend for the cores;
and the notebook kernels inherit this environment, so their printed numbers
do not depend on how many threads a machine happens to have.

Python's cyclic garbage collector runs a full pass over every object
alive whenever enough objects have outlived its younger passes. In a test
process those are mostly what it imported (pytest, NumPy, PyTorch, the
collected tests), and a scalar test builds graphs of Values by the
thousand, which sets the full passes off again and again. Once the tests
are collected, and again before each test module, the objects alive are
frozen (gc.freeze): full passes leave them out, and the tests compute
the same numbers in about half the time. The efficiency chapter measures
what these passes cost the scalar twin.

The notebooks' kernels start with the collector off: a chapter that
trains the scalar twin spends about half its time in those full passes
otherwise, and no output depends on them (the efficiency chapter switches
the collector on and off itself where it measures it). The kernels read
this from an IPython profile of the run's own (IPYTHONDIR), which also
keeps a reader's own IPython settings out of the tests. The grader's
sandbox clears the environment, so graded notebooks run as students'
notebooks do.

The marker `quick` selects the tests to run while you work
(`pytest -m quick`): every test but the chapters themselves and the tests
that build, install, open a browser or train for long, which the markers
and the files below name. MAINTAINING.md says how long each part takes.
"""

import atexit
import gc
import os
import shutil
import tempfile
from pathlib import Path

import pytest

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")


def kernel_profile():
    """An IPython folder whose kernels start with the collector off."""
    folder = Path(tempfile.mkdtemp(prefix="microgpt-ipython-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    startup = folder / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-collector-off.py").write_text(
        '__import__("gc").disable()\n', encoding="utf-8"
    )
    return str(folder)


os.environ["IPYTHONDIR"] = kernel_profile()

# Markers of tests that build the book, a wheel or a site, drive a
# browser, or run the full 1,000 steps or every chapter again.
NOT_QUICK_MARKERS = {
    "slow",
    "book",
    "browser",
    "lite",
    "packaging",
    "workflows",
    "portability",
}
# Files whose tests run notebooks (student copies, grading), spawn
# training processes, or run the benchmark and the experiments.
NOT_QUICK_FILES = {
    "test_assignments.py",
    "test_bench.py",
    "test_classroom.py",
    "test_distributed.py",
    "test_distributed_run.py",
    "test_experiment_ablations.py",
    "test_experiment_scaling.py",
    "test_experiment_text_bpe.py",
    "test_experiments.py",
    "test_gpt2_steps.py",
    "test_gpt_vs_ngram.py",
    "test_grading.py",
    "test_grading_key.py",
    "test_grading_sandbox.py",
    "test_nbgrader.py",
}


# Cells that print counts of NumPy's or PyTorch's own work (Python-level
# calls, operators, FLOPs), which change with the library's version. With
# MICROGPT_LOWEST=1 (.ci/lowest, the lowest supported versions) they still
# run and must not fail, but their outputs are not compared with the
# stored ones. Each is named by its notebook and its first line, so a
# chapter that changes one makes the lowest run fail until it is renamed.
VERSION_COUNTS = {
    "12_pytorch.ipynb": (
        "class OpCounter(TorchDispatchMode):",
        "optim = torch.optim.Adam(counted.values(), lr=0.01,",
    ),
    "13_efficiency.ipynb": ('calls = {"scalar": scalar_stats.total_calls,',),
}


def lowest_versions():
    return os.environ.get("MICROGPT_LOWEST") == "1"


def pytest_report_header(config):
    if lowest_versions():
        cells = sum(len(firsts) for firsts in VERSION_COUNTS.values())
        return [
            f"lowest versions: the outputs of {cells} cells that count "
            "NumPy's or PyTorch's own work are not compared (conftest.py)"
        ]
    return []


def uncompare_version_counts(items):
    """Under MICROGPT_LOWEST=1, run the VERSION_COUNTS cells unchecked."""
    found = set()
    for item in items:
        firsts = VERSION_COUNTS.get(item.path.name, ())
        cell = getattr(item, "cell", None)
        if not firsts or cell is None:
            continue
        first = cell.source.split("\n", 1)[0]
        if first in firsts:
            item.options["check"] = False
            found.add((item.path.name, first))
    missing = {
        (name, first)
        for name, firsts in VERSION_COUNTS.items()
        for first in firsts
        if any(item.path.name == name for item in items)
    } - found
    if missing:
        raise pytest.UsageError(
            f"conftest.py names cells that are gone: {sorted(missing)}"
        )


def pytest_collection_modifyitems(config, items):
    """Mark as `quick` every test that no marker or file above names."""
    if lowest_versions():
        uncompare_version_counts(items)
    for item in items:
        if item.path.suffix == ".ipynb":  # a chapter, under nbval
            continue
        if item.path.name in NOT_QUICK_FILES:
            continue
        if NOT_QUICK_MARKERS & {m.name for m in item.iter_markers()}:
            continue
        item.add_marker(pytest.mark.quick)


def freeze_what_is_alive():
    """Collect what is garbage, then leave the rest out of full passes."""
    gc.collect()
    gc.freeze()


def pytest_collection_finish(session):
    freeze_what_is_alive()


_module = [None]  # the test module that ran last


def pytest_runtest_setup(item):
    # A module's first test: what the modules before imported is frozen.
    if item.path != _module[0]:
        _module[0] = item.path
        freeze_what_is_alive()
