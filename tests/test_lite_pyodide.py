"""The lite site's wheel run under Pyodide in Node.js, with no network.

The npm package ``pyodide``, pinned in tests/pyodide/ to the version the
site's kernel loads, installs the wheel from the site's own index and
reads the dataset where the kernel settings point, both over HTTP from
127.0.0.1; it checks a gradient of the Value engine and trains the
scalar model for three steps, which must give the original's losses bit
for bit. What a lite chapter imports is checked against what Pyodide
ships. Needs Node.js and ``npm ci --prefix tests/pyodide`` (.ci/run does
it); without them these tests fail, saying so. The harness is
lite_harness.py.
"""

import ast
import json
import re
import shutil
import subprocess
import sys
import zipfile

import pytest
from lite_harness import (
    LITE,
    NAME,
    PYODIDE,
    WHEEL,
    code,
    imported,
    kernel_settings,
    lite_build,
    site,  # noqa: F401 (a fixture, shared by both files)
)

pytestmark = pytest.mark.lite


IN_PYODIDE = """
import importlib, json, sys
import microgpt
from microgpt import gpt_scalar
from microgpt.config import ModelConfig, TrainConfig
from microgpt.data import load_docs
from microgpt.engine import Value
from microgpt.heap import keep_freed_memory
from microgpt.train import lr_at, prepare

a, b = Value(2.0), Value(-3.0)
c = a * b + a ** 2 + (a * b).relu()  # relu of -6 is 0, so no gradient
c.backward()

docs = load_docs()  # from MICROGPT_DATA, checksum-checked
cfg, tcfg = ModelConfig(), TrainConfig()
rng, docs, tok = prepare(docs, tcfg.seed)
params = gpt_scalar.init_params(cfg, rng)
opt = gpt_scalar.Adam(params, tcfg)
losses = [repr(gpt_scalar.train_step(params, opt, [tok.frame(docs[s])],
                                     lr_at(s, tcfg), cfg))
          for s in range(3)]

missing = []
for name in MODULES:
    try:
        importlib.import_module(name)
    except ImportError:
        missing.append(name)

json.dumps({"python": list(sys.version_info[:2]),
            "package": microgpt.__file__,
            "value": [c.data, a.grad, b.grad],
            "docs": len(docs), "losses": losses,
            "heap": keep_freed_memory(),  # chapter 13 calls it
            "missing": missing})
"""


def stdlib_imports():
    """The standard library modules the lite chapters import."""
    return sorted(
        {
            name
            for path in LITE
            for name in imported(ast.parse(code(path)), False)
            if name.split(".")[0] in sys.stdlib_module_names
        }
    )


@pytest.fixture(scope="module")
def pyodide():
    """node and the pinned npm package; a clear failure if missing."""
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "node is missing: install Node.js (18 or newer)", pytrace=False
        )
    package = PYODIDE / "node_modules" / "pyodide" / "package.json"
    if not package.is_file():
        pytest.fail(
            "Pyodide is missing: npm ci --prefix tests/pyodide "
            "(.ci/run does it)",
            pytrace=False,
        )
    pinned = json.loads((PYODIDE / "package.json").read_text())[
        "dependencies"
    ]["pyodide"]
    installed = json.loads(package.read_text())["version"]
    assert installed == pinned, "run npm ci --prefix tests/pyodide again"
    return node


@pytest.fixture(scope="module")
def served(site):
    """The site on 127.0.0.1 (a free port): its base URL."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def in_pyodide(site, served, pyodide):
    """IN_PYODIDE's result, run as the site's kernel would run it."""
    env = kernel_settings(site)["loadPyodideOptions"]["env"]
    data = env["MICROGPT_DATA"]
    assert data.startswith(lite_build.DRIVE + "/")
    job = {
        "env": env,
        "wheels": [f"{served}pypi/{WHEEL}"],
        # The kernel sees the site's files under /drive.
        "files": {data: served + "files" + data[len(lite_build.DRIVE) :]},
        "code": f"MODULES = {stdlib_imports()!r}\n{IN_PYODIDE}",
    }
    proc = subprocess.run(
        [pyodide, str(PYODIDE / "run.mjs")],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_npm_pyodide_is_the_kernels():
    from jupyterlite_pyodide_kernel import constants

    pinned = json.loads((PYODIDE / "package.json").read_text())[
        "dependencies"
    ]["pyodide"]
    assert pinned == constants.PYODIDE_VERSION


def test_the_wheel_runs_the_engine_in_pyodide(in_pyodide, expected_run):
    from jupyterlite_pyodide_kernel import constants

    assert (
        ".".join(map(str, in_pyodide["python"]))
        == constants.PYODIDE_PYTHON_VERSION
    )
    assert "/site-packages/microgpt/" in in_pyodide["package"]
    # c = a*b + a**2: dc/da = b + 2a, dc/db = a.
    assert in_pyodide["value"] == [-2.0, 1.0, 2.0]
    assert in_pyodide["docs"] == expected_run["num_docs"]
    assert in_pyodide["losses"] == expected_run["loss_per_step"][:3]
    assert isinstance(in_pyodide["heap"], bool)


def lock_imports():
    """Import names of every package in Pyodide's distribution."""
    lock = PYODIDE / "node_modules" / "pyodide" / "pyodide-lock.json"
    packages = json.loads(lock.read_text())["packages"].values()
    return {name for p in packages for name in p.get("imports", [])}


def pip_installed(path):
    """Import names of what a chapter's own %pip lines install."""
    source = json.loads(path.read_text(encoding="utf-8"))["cells"]
    lines = re.findall(
        r"%pip install ([^\n]*)",
        "\n".join("".join(c["source"]) for c in source),
    )
    names = {
        re.split(r"[\[=<>~!;]", arg)[0]
        for line in lines
        for arg in line.split()
        if not arg.startswith("-")
    }
    return {"microgpt" if n == NAME else n.replace("-", "_") for n in names}


@pytest.mark.parametrize("path", LITE, ids=lambda p: p.stem)
def test_what_a_lite_chapter_imports_is_there_in_the_browser(
    path, in_pyodide, site
):
    with zipfile.ZipFile(site / "pypi" / WHEEL) as whl:
        modules = {
            n[:-3].replace("/", ".").removesuffix(".__init__")
            for n in whl.namelist()
            if n.endswith(".py")
        }
    available = lock_imports() | pip_installed(path)
    missing = []
    for name in sorted(imported(ast.parse(code(path)))):
        top = name.split(".")[0]
        if top in sys.stdlib_module_names:
            if name in in_pyodide["missing"]:  # members are not modules
                missing.append(name)
        elif top == "microgpt":
            # `from microgpt.x import f` names microgpt.x.f too.
            if name not in modules and name.rsplit(".", 1)[0] not in modules:
                missing.append(name)
        elif top not in available:
            missing.append(name)
    assert missing == []
