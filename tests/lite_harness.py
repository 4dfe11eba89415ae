"""The JupyterLite tests' harness: the site's build and reading its files.

test_lite.py reads the built site; test_lite_pyodide.py runs its wheel
under Pyodide in Node.js.
"""

import ast
import hashlib
import importlib.metadata
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from filelock import FileLock

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
LITE_SITE = BOOK / "_ext" / "lite_site.py"  # the Sphinx hook
LITE_BUILD = ROOT / "tools" / "build_lite_site.py"  # the site's builder
PYODIDE = ROOT / "tests" / "pyodide"
NAME, VERSION = "microgpt-book", importlib.metadata.version("microgpt-book")
WHEEL = f"microgpt_book-{VERSION}-py3-none-any.whl"
CHAPTERS = sorted(BOOK.glob("[01][0-9]_*.ipynb"))
# The impls a lite chapter may name in run() or get_impl().
LITE_IMPLS = {"scalar", "numpy"}


def load(name, path):
    """The module at path, imported from its file under name."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lite_site = load("lite_site", LITE_SITE)
lite_build = load("build_lite_site", LITE_BUILD)
LITE = lite_site.lite_chapters()


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def code(path):
    """A notebook's code cells as Python, IPython magics made `pass`."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    source = "\n".join(
        "".join(c["source"]) for c in cells if c["cell_type"] == "code"
    )
    return re.sub(r"(?m)^(\s*)[%!].*$", r"\1pass", source)


def imported(tree, members=True):
    """The dotted names of the modules that `import` statements name.

    With members, `from m import x` also gives m.x, a module or not.
    """
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if members:
                names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def needs_torch(name):
    """Whether module name is torch, or a module of the package that
    imports torch when it is imported (gpt_torch, ablation, gpt2, ...)."""
    if name.split(".")[0] == "torch":
        return True
    if name.split(".")[0] != "microgpt":
        return False
    file = ROOT.joinpath(*name.split(".")).with_suffix(".py")
    if not file.is_file():
        return False
    tree = ast.parse(file.read_text(encoding="utf-8"))
    top = [
        node
        for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom))
    ]
    for node in top:
        if isinstance(node, ast.Import) and any(
            a.name.split(".")[0] == "torch" for a in node.names
        ):
            return True
        if isinstance(node, ast.ImportFrom) and (
            (node.module or "").split(".")[0] == "torch"
            or (node.level and any(a.name == "gpt_torch" for a in node.names))
            or (node.module or "").endswith("gpt_torch")
        ):
            return True
    return False


def runs_pytorch(path):
    """Whether a chapter's code imports torch, or a module of the package
    that imports it, or may run the torch twin.

    A call of run() or get_impl() counts unless it names scalar or numpy.
    """
    tree = ast.parse(code(path))
    if any(needs_torch(n) for n in imported(tree)):
        return True
    return any(
        isinstance(node, ast.Call)
        and getattr(node.func, "id", None) in ("run", "get_impl")
        and not (
            node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value in LITE_IMPLS
        )
        for node in ast.walk(tree)
    )


@pytest.fixture(scope="session")
def site(request, tmp_path_factory):
    """The lite site, built as the Pages workflow builds it, once a run.

    test_lite.py and test_lite_pyodide.py share it as the test files share
    the book's build (tests/book_build.py): under pytest-xdist through a
    lock in the run's base temporary folder, the first to ask building it.
    """
    if hasattr(request.config, "workerinput"):  # an xdist worker
        shared = tmp_path_factory.getbasetemp().parent  # all workers'
    else:
        shared = tmp_path_factory.getbasetemp()
    out = shared / "lite-html" / "lite"
    record = shared / "lite.json"
    with FileLock(str(shared / "lite.lock")):
        if not record.is_file():
            proc = subprocess.run(
                [sys.executable, str(LITE_BUILD), str(out)],
                capture_output=True,
                text=True,
                timeout=600,
            )
            record.write_text(
                json.dumps(
                    {
                        "returncode": proc.returncode,
                        "log": proc.stdout[-3000:] + proc.stderr[-3000:],
                    }
                ),
                encoding="utf-8",
            )
        saved = json.loads(record.read_text(encoding="utf-8"))
    assert saved["returncode"] == 0, saved["log"]
    return out


def config(site):
    return json.loads((site / "jupyter-lite.json").read_text())[
        "jupyter-config-data"
    ]


def kernel_settings(site):
    return config(site)["litePluginSettings"][lite_build.KERNEL_PLUGIN]
