"""The API appendix names only what exists.

book/appendix_api.md lists modules (``automodule``), chosen members
(``:members: a, b``) and, in its prose, the twins' shared functions and
each twin's own. Every one of them must be there: a renamed or removed
function fails here, not as a warning in the book's build.
"""

import importlib
import re
from pathlib import Path

import pytest

from microgpt import gpt_numpy, gpt_scalar, gpt_torch

APPENDIX = Path(__file__).resolve().parents[1] / "book" / "appendix_api.md"
TEXT = APPENDIX.read_text(encoding="utf-8")
TWINS = (gpt_scalar, gpt_numpy, gpt_torch)


def directives():
    """(module, [members]) for each automodule; [] when it takes all."""
    found = []
    pattern = r"\.\. automodule:: (\S+)\n((?:   :\w+:.*\n(?:      .*\n)*)*)"
    for module, options in re.findall(pattern, TEXT):
        chosen = re.search(r":members: (.+(?:\n      .+)*)", options)
        names = re.split(r"[,\s]+", chosen.group(1)) if chosen else []
        found.append((module, [n for n in names if n]))
    return found


def the_twins_paragraph():
    """The prose before the command-line paragraph: the twins' names."""
    return TEXT[: TEXT.index("The command line (`python -m microgpt`)")]


def test_the_appendix_is_read():
    modules = [m for m, _ in directives()]
    assert "microgpt.train" in modules and len(modules) > 20
    assert dict(directives())["microgpt.course.sandbox"] == [
        "problem",
        "command",
        "Limits",
    ]


@pytest.mark.parametrize("module, members", directives())
def test_every_listed_module_and_member_exists(module, members):
    imported = importlib.import_module(module)
    missing = [name for name in members if not hasattr(imported, name)]
    assert missing == [], f"{module} has no {', '.join(missing)}"


def test_every_name_in_the_twins_paragraph_exists():
    names = re.findall(r"`([A-Za-z_][A-Za-z_0-9]*)`", the_twins_paragraph())
    assert "train_step" in names
    modules = {t.__name__.rsplit(".", 1)[1]: t for t in TWINS}
    missing = [
        name
        for name in names
        if name not in modules
        and not any(hasattr(twin, name) for twin in TWINS)
        and name not in ("device", "dtype", "top_k", "top_p", "None")
    ]
    assert missing == []


def test_every_module_of_the_package_a_chapter_imports_is_listed():
    # The chapters import these; each has its section.
    modules = {m for m, _ in directives()}
    for name in ("batch", "train", "text", "heap", "data", "checkpoint"):
        assert f"microgpt.{name}" in modules, name
