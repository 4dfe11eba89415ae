"""Shared fixtures: the dataset, the original's recorded run, and a
full scalar run without the cyclic garbage collector."""

import gc
import json
from importlib import resources

import pytest

from microgpt.data import load_docs

# The original program's recorded run, stored once, in the package (see
# data/README.md); the tests read the copy the package carries.
EXPECTED_RUN = resources.files("microgpt.course") / "original_run.json"


@pytest.fixture(scope="session")
def docs():
    """The names dataset, from MICROGPT_DATA or the cache."""
    return load_docs()


@pytest.fixture(scope="session")
def expected_run():
    """The original program's output for seed 42: losses and samples."""
    with open(EXPECTED_RUN) as f:
        run = json.load(f)
    run["losses"] = [float(s) for s in run["loss_per_step"]]
    return run


@pytest.fixture(scope="session")
def names(docs):
    """The original run's shuffled names and their tokenizer (seed 42)."""
    from microgpt.train import prepare

    _, shuffled, tok = prepare(docs, 42)
    return shuffled, tok


@pytest.fixture
def collector_off():
    """Python's cyclic garbage collector, off for one test.

    A scalar training step builds a graph of Values that holds no cycle,
    so reference counting frees it when the step ends and the collector
    finds nothing to collect; its full passes over the growing heap
    cost nearly half of a 1,000-step run's time (the efficiency chapter
    measures them). Turned off, the run computes the same numbers
    sooner. The test asserts that the collector had nothing to do.
    """
    gc.collect()
    gc.disable()
    try:
        yield
        # Whatever the run left for the collector, it finds at once: a
        # cycle the graph was not meant to hold fails the test.
        found = gc.collect()
        assert found == 0, f"the run left {found} objects in cycles"
    finally:
        gc.enable()
