"""The supported versions are stated once each way and agree.

pyproject.toml declares the lowest versions as lower bounds,
requirements-lowest.txt pins exactly those for .ci/lowest, which runs the
package's tests and the chapters with them, and the README's table says
them to readers. A bound raised in one place must be raised in all.
"""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The packages whose lowest version the README states.
STATED = ("numpy", "torch", "matplotlib", "transformers")


def project():
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def lower_bounds():
    """Each declared requirement's lowest version, by package name."""
    spec = project()
    reqs = list(spec["dependencies"])
    for extra in spec["optional-dependencies"].values():
        reqs += extra
    bounds = {}
    for req in reqs:
        match = re.fullmatch(r"([\w-]+)>=([\w.]+)", req)
        if match:
            name, version = match.groups()
            # Every mention of a package gives the same bound.
            assert bounds.setdefault(name, version) == version, req
    return bounds


def pins(name):
    """The name==version lines of a requirements file."""
    text = (ROOT / name).read_text(encoding="utf-8")
    return dict(re.findall(r"(?m)^([\w-]+)==([\w.+]+)", text))


def test_the_lowest_pins_are_the_declared_bounds():
    bounds, lowest = lower_bounds(), pins("requirements-lowest.txt")
    assert set(STATED) <= set(bounds)
    for name, bound in bounds.items():
        # A bound of 1.26 is pinned as 1.26.0, its first release.
        pinned = lowest[name].split(".")
        assert pinned[: len(bound.split("."))] == bound.split("."), name
        assert all(p == "0" for p in pinned[len(bound.split(".")) :]), name


def test_the_pins_meet_the_bounds():
    bounds, pinned = lower_bounds(), pins("requirements-reader.txt")
    for name, bound in bounds.items():
        have = tuple(int(p) for p in pinned[name].split("+")[0].split("."))
        assert have >= tuple(int(p) for p in bound.split(".")), name


def test_the_readme_states_the_bounds_and_python():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Supported versions", 1)[1].split("\n## ")[0]
    bounds = lower_bounds()
    rows = dict(
        re.findall(r"(?m)^\| ([\w ]+?)(?: \([^)]*\))? \| ([\w.]+) \|", section)
    )
    names = {
        "NumPy": "numpy",
        "PyTorch": "torch",
        "Matplotlib": "matplotlib",
        "transformers": "transformers",
    }
    for label, name in names.items():
        assert rows[label] == bounds[name], label
    python = project()["requires-python"]
    assert python == f">={rows['Python']}"
