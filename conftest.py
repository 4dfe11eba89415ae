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


def pytest_collection_modifyitems(config, items):
    """Mark as `quick` every test that no marker or file above names."""
    for item in items:
        if item.path.suffix == ".ipynb":  # a chapter, under nbval
            continue
        if item.path.name in NOT_QUICK_FILES:
            continue
        if NOT_QUICK_MARKERS & {m.name for m in item.iter_markers()}:
            continue
        item.add_marker(pytest.mark.quick)
