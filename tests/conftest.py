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

    A scalar training step builds a graph of Values by the hundred
    thousand, and the collector's full passes walk every object alive,
    the imported libraries included, again and again: turned off, a
    1,000-step run computes the same numbers in a fraction of the time
    (the efficiency chapter measures these passes). Reference counting
    still frees each step's graph; what the test leaves in cycles is
    collected when it ends.
    """
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()
