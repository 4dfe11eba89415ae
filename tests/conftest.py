"""Shared fixtures: the dataset and the original's recorded run."""

import json
from pathlib import Path

import pytest

from microgpt.data import load_docs

# ../shared sits beside the repository (see README.md).
EXPECTED_RUN = (Path(__file__).resolve().parents[2] / "shared" / "reference"
                / "expected_run.json")


@pytest.fixture(scope="session")
def docs():
    """The names dataset, from MICROGPT_DATA or the cache."""
    return load_docs()


@pytest.fixture(scope="session")
def expected_run():
    """The original program's output for seed 42: losses and samples."""
    if not EXPECTED_RUN.is_file():
        pytest.fail(f"the original's recorded run is missing: {EXPECTED_RUN}"
                    " (see README.md, 'Two commands')", pytrace=False)
    with open(EXPECTED_RUN) as f:
        run = json.load(f)
    run["losses"] = [float(s) for s in run["loss_per_step"]]
    return run
