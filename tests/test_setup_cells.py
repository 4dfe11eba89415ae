"""Every chapter opens with a set-up cell that makes it run anywhere.

On Colab, Binder or JupyterLite, where the package is missing, the cell
installs the release the book was built with; in a local environment,
and so under nbval, it does nothing and prints nothing.
"""

import json
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

pytestmark = pytest.mark.book

BOOK = Path(__file__).resolve().parents[1] / "book"
CHAPTERS = sorted(BOOK.glob("[01][0-9]_*.ipynb"))
RUN_TORCH = {
    "01_introduction",
    "12_pytorch",
    "17_scaling",
    "18_gpt2",
    "14_data_parallel",
}

# Runs a cell in IPython with pip replaced by a recorder; the package
# counts as missing when the first argument is "missing".
RUNNER = """
import importlib.util, json, sys
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
calls = []
shell.register_magic_function(calls.append, "line", "pip")
if sys.argv[1] == "missing":
    find = importlib.util.find_spec
    importlib.util.find_spec = lambda name, *a: (
        None if name == "microgpt" else find(name, *a))
result = shell.run_cell(sys.stdin.read())
print(json.dumps({"ok": result.success, "pip": calls}))
"""


def code_cells(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [c for c in cells if c["cell_type"] == "code"]


def run_cell(source, package):
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, package],
        input=source,
        capture_output=True,
        text=True,
        check=True,
    )
    *printed, result = proc.stdout.splitlines()
    return printed, json.loads(result)


def test_there_are_fourteen_chapters():
    # microgpt's fourteen; the chapters beyond it are numbered after them.
    assert len([p for p in CHAPTERS if int(p.name[:2]) <= 14]) == 14


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_each_chapter_opens_with_the_set_up_cell(path):
    first = code_cells(path)[0]
    source = "".join(first["source"])
    assert first["id"] == "set-up"
    assert "remove-cell" in first["metadata"]["tags"]  # not on the page
    assert first["outputs"] == []
    pinned = re.findall(r"microgpt-book(?:\[torch\])?==([\w.]+)", source)
    assert pinned and set(pinned) == {version("microgpt-book")}, (
        "the set-up cell must install the version the book is built with"
    )
    # The chapters that run the PyTorch twin ask for the torch extra.
    assert ("[torch]" in source) == (path.stem in RUN_TORCH)


def test_set_up_does_nothing_where_the_package_is():
    source = "".join(code_cells(CHAPTERS[1])[0]["source"])
    printed, result = run_cell(source, "present")
    assert result == {"ok": True, "pip": []} and printed == []


@pytest.mark.parametrize(
    "path", [CHAPTERS[1], CHAPTERS[11]], ids=lambda p: p.stem
)
def test_set_up_installs_the_release_where_the_package_is_missing(path):
    source = "".join(code_cells(path)[0]["source"])
    printed, result = run_cell(source, "missing")
    assert result["ok"]
    [call] = result["pip"]
    spec = call.split()[-1]
    assert call.split()[0] == "install"
    assert spec.startswith("microgpt-book")
    assert spec.endswith(f"=={version('microgpt-book')}")
    assert printed == [f"installing {spec}, the package this book uses"]
