"""Settings for every test run, notebooks included (pytest loads this first).

One BLAS/OpenMP thread per process. The suite runs two pytest-xdist
workers on small matrices, where extra threads only contend for the cores;
and the notebook kernels inherit this environment, so their printed numbers
do not depend on how many threads a machine happens to have.

The marker `quick` selects the tests to run while you work
(`pytest -m quick`): every test but the chapters themselves and the tests
that build, install, open a browser or train for long, which the markers
and the files below name. MAINTAINING.md says how long each part takes.
"""

import os

import pytest

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

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
