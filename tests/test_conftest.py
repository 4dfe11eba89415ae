"""conftest.py: the quick marker, and the cells the lowest run leaves
uncompared.

The cells that count NumPy's or PyTorch's own work are named by their
first lines; each must still be there, so that the lowest versions' run
leaves out exactly those comparisons and no other.
"""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_root_conftest():
    """The repository's conftest.py, imported from its file (the name
    `conftest` is this folder's own)."""
    spec = importlib.util.spec_from_file_location(
        "root_conftest", ROOT / "conftest.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


conftest = load_root_conftest()


def code_cells(name):
    with open(ROOT / "book" / name, encoding="utf-8") as f:
        cells = json.load(f)["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def test_every_version_count_cell_is_in_its_chapter_once():
    for name, firsts in conftest.VERSION_COUNTS.items():
        heads = [src.split("\n", 1)[0] for src in code_cells(name)]
        for first in firsts:
            assert heads.count(first) == 1, (name, first)


def test_the_version_count_cells_print_counts_only():
    # Each prints what it counts, not a result of the model, so leaving
    # its output uncompared at the lowest versions loses no check of the
    # chapter's derivation.
    for name, firsts in conftest.VERSION_COUNTS.items():
        for src in code_cells(name):
            if src.split("\n", 1)[0] in firsts:
                assert "assert" not in src, (name, src[:60])


def test_quick_leaves_out_what_builds_installs_or_trains_long():
    assert {"slow", "book", "browser", "lite", "packaging", "portability"} <= (
        conftest.NOT_QUICK_MARKERS
    )
    for name in conftest.NOT_QUICK_FILES:
        assert (ROOT / "tests" / name).is_file(), name
