"""CITATION.cff: valid Citation File Format, and in step with the package."""

import copy
import json
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "tests" / "data" / "citation-cff-1.2.0.schema.json"


@pytest.fixture(scope="module")
def citation():
    with open(ROOT / "CITATION.cff", encoding="utf-8") as f:
        return yaml.safe_load(f)


@pytest.fixture(scope="module")
def validator():
    with open(SCHEMA, encoding="utf-8") as f:
        schema = json.load(f)
    return jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.FormatChecker()
    )


def test_citation_is_valid_cff(citation, validator):
    errors = [e.message for e in validator.iter_errors(citation)]
    assert errors == []
    assert citation["cff-version"] == "1.2.0"


def test_the_schema_refuses_a_broken_citation(citation, validator):
    # The check above could fail: a citation without a title, or with an
    # author given as a bare string, is refused by the same schema.
    broken = copy.deepcopy(citation)
    del broken["title"]
    assert not validator.is_valid(broken)
    broken = copy.deepcopy(citation)
    broken["authors"] = ["The microgpt book authors"]
    assert not validator.is_valid(broken)


def test_citation_names_the_package_version(citation):
    with open(ROOT / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    assert citation["version"] == project["version"]
    assert citation["license"] == project["license"]


def test_readme_says_how_to_cite():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## How to cite" in readme
    assert "CITATION.cff" in readme


def test_the_introduction_says_how_to_cite(citation):
    with open(ROOT / "book" / "01_introduction.ipynb", encoding="utf-8") as f:
        cells = json.load(f)["cells"]
    prose = "".join(
        "".join(c["source"]) for c in cells if c["cell_type"] == "markdown"
    )
    assert "## How to cite" in prose and "CITATION.cff" in prose
    assert (
        f"version\n{citation['version']}" in prose
        or f"version {citation['version']}" in prose
    )
