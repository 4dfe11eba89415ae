"""The chapters in the browser: the JupyterLite site published with the book.

One build of the site (book/_ext/lite_site.py, into a temporary folder, as
the Pages workflow builds it into _build/html/lite) serves every test
here. Its contents, its package index and its kernel settings are read as
files. Then the npm package ``pyodide``, pinned in tests/pyodide/ to the
version the site's kernel loads, runs under Node.js with no network: it
installs the wheel from the site's own index and reads the dataset where
the kernel settings point, both over HTTP from 127.0.0.1, checks a
gradient of the Value engine and trains the scalar model for three steps,
which must give the original's losses bit for bit.

The npm package holds Pyodide's core alone, not its numpy, matplotlib or
micropip (which the site's kernel fetches from Pyodide's CDN), so the
NumPy twin and piplite itself are not run here. What a lite chapter
imports is checked against what Pyodide ships instead.

Needs Node.js and ``npm ci --prefix tests/pyodide`` (.ci/run does it);
without them the tests that run Pyodide fail, saying so: they are never
skipped. The build needs PyPI, as every wheel build here does.
"""

import ast
import hashlib
import importlib.metadata
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from microgpt.data import DATA_SHA256

pytestmark = pytest.mark.lite

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
LITE_SITE = BOOK / "_ext" / "lite_site.py"
PYODIDE = ROOT / "tests" / "pyodide"
NAME, VERSION = "microgpt-book", importlib.metadata.version("microgpt-book")
WHEEL = f"microgpt_book-{VERSION}-py3-none-any.whl"
CHAPTERS = sorted(BOOK.glob("[01][0-9]_*.ipynb"))
# The impls a lite chapter may name in run() or get_impl().
LITE_IMPLS = {"scalar", "numpy"}


def load_lite_site():
    """book/_ext/lite_site.py, imported from its file."""
    spec = importlib.util.spec_from_file_location("lite_site", LITE_SITE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lite_site = load_lite_site()
LITE = lite_site.lite_chapters()


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def code(path):
    """A notebook's code cells as Python, IPython magics made `pass`."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    source = "\n".join("".join(c["source"]) for c in cells
                       if c["cell_type"] == "code")
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


def runs_pytorch(path):
    """Whether a chapter's code imports torch or its twin, or may run it.

    A call of run() or get_impl() counts unless it names scalar or numpy.
    """
    tree = ast.parse(code(path))
    if any(n.split(".")[0] == "torch" or "gpt_torch" in n
           for n in imported(tree)):
        return True
    return any(isinstance(node, ast.Call)
               and getattr(node.func, "id", None) in ("run", "get_impl")
               and not (node.args and isinstance(node.args[0], ast.Constant)
                        and node.args[0].value in LITE_IMPLS)
               for node in ast.walk(tree))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The lite site, built as the Pages workflow builds it."""
    out = tmp_path_factory.mktemp("html") / "lite"
    proc = subprocess.run([sys.executable, str(LITE_SITE), str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def config(site):
    return json.loads((site / "jupyter-lite.json").read_text())[
        "jupyter-config-data"]


def kernel_settings(site):
    return config(site)["litePluginSettings"][lite_site.KERNEL_PLUGIN]


def test_the_lite_chapters_are_those_that_do_not_run_pytorch():
    """The set-up cells' [torch] extra and the chapters' code agree."""
    assert {p.stem for p in CHAPTERS if runs_pytorch(p)} == {
        p.stem for p in CHAPTERS if p not in LITE}
    assert "12_pytorch" not in {p.stem for p in LITE}
    assert len(LITE) >= 10  # the rule must not empty the site


def test_the_site_holds_the_lite_chapters_as_committed(site):
    files = site / "files"
    found = sorted(p.relative_to(files).as_posix()
                   for p in files.rglob("*") if p.is_file())
    assert found == sorted([f"book/{p.name}" for p in LITE]
                           + [lite_site.DATASET])
    for path in LITE:
        assert (files / "book" / path.name).read_bytes() == path.read_bytes()
    assert sha256(files / lite_site.DATASET) == DATA_SHA256
    # The contents the app lists: what a reader sees in its file browser.
    listed = json.loads((site / "api" / "contents" / "book" / "all.json"
                         ).read_text())["content"]
    assert sorted(e["name"] for e in listed) == sorted(
        [p.name for p in LITE] + ["data"])


def test_the_sites_index_holds_this_wheel(site):
    """What the set-up cell's %pip install finds, before any PyPI."""
    for path in LITE:
        assert lite_site.set_up_requirement(path) == ("", VERSION), path
    index = site / "pypi" / "all.json"
    releases = json.loads(index.read_text())[NAME]["releases"]
    assert list(releases) == [VERSION]
    [release] = releases[VERSION]
    assert release["url"] == f"./{WHEEL}"
    wheel = site / "pypi" / WHEEL
    assert release["digests"]["sha256"] == sha256(wheel)
    with zipfile.ZipFile(wheel) as whl:
        meta = whl.read(f"microgpt_book-{VERSION}.dist-info/METADATA")
    assert f"Name: {NAME}\nVersion: {VERSION}\n" in meta.decode()
    # The site's own index comes first, ahead of the kernel's.
    urls = kernel_settings(site)["pipliteUrls"]
    assert urls[0] == f"./pypi/all.json?sha256={sha256(index)}"


def test_the_kernel_is_pointed_at_the_dataset_and_nothing_else(site):
    settings = kernel_settings(site)
    assert settings["loadPyodideOptions"] == {"env": {
        "MICROGPT_DATA": f"{lite_site.DRIVE}/{lite_site.DATASET}"}}
    # Pyodide from its CDN, at the kernel's own version (README).
    assert "pyodideUrl" not in settings
    assert not settings.get("disablePyPIFallback")
    assert sorted(e["name"] for e in config(site)["federated_extensions"]
                  ) == sorted(lite_site.EXTENSIONS)


def test_the_launch_button_is_on_the_lite_chapters_only(monkeypatch):
    class App:
        srcdir = str(ROOT)

    def page(docname, buttons=()):
        context = {"header_buttons": list(buttons),
                   "pathto": lambda uri, resource: f"../{uri}"}
        lite_site.add_launch_button(App, docname, "page.html", context,
                                    None)
        return context["header_buttons"]

    monkeypatch.delenv(lite_site.ENV_VAR, raising=False)
    assert page("book/02_data") == []  # a local build: no lite site
    monkeypatch.setenv(lite_site.ENV_VAR, "/lite/")
    for path in CHAPTERS:
        docname = f"book/{path.stem}"
        buttons = page(docname)
        if path not in LITE:
            assert buttons == [], docname
            continue
        [group] = buttons
        assert group["label"] == "launch-buttons"
        [button] = group["buttons"]
        assert button["url"] == (f"../lite/notebooks/index.html"
                                 f"?path={docname}.ipynb")
        assert button["text"] == "JupyterLite"
    assert page("book/appendix_api") == []
    # Beside the theme's Binder and Colab buttons, in the same menu.
    binder = {"type": "group", "label": "launch-buttons",
              "buttons": [{"text": "Binder"}]}
    [group] = page("book/03_autograd", [binder])
    assert [b["text"] for b in group["buttons"]] == ["Binder", "JupyterLite"]


def test_the_book_loads_the_extension():
    from jupyter_book.config import get_final_config
    config, _ = get_final_config(user_yaml=ROOT / "_config.yml",
                                 cli_config={"latex_individualpages": False},
                                 sourcedir=ROOT)
    assert "lite_site" in config["extensions"]


def test_the_pages_workflow_publishes_the_site_with_the_book():
    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml"
                         ).read_text(encoding="utf-8"))
    job = wf["jobs"]["build"]
    lite = job["env"][lite_site.ENV_VAR]
    runs = [s.get("run", "") + s.get("uses", "") for s in job["steps"]]
    book = next(i for i, r in enumerate(runs) if "jupyter-book build" in r)
    [built] = [i for i, r in enumerate(runs) if "lite_site.py" in r]
    upload = next(i for i, r in enumerate(runs)
                  if "upload-pages-artifact" in r)
    assert book < built < upload
    assert runs[built].split()[-1] == (
        f'"_build/html/${lite_site.ENV_VAR}"')
    assert lite == "lite"
    assert job["steps"][upload]["with"]["path"] == "_build/html"


# The Python that Pyodide runs: the engine, the data, three scalar steps.
IN_PYODIDE = """
import importlib, json, sys
import microgpt
from microgpt import gpt_scalar
from microgpt.config import ModelConfig, TrainConfig
from microgpt.data import load_docs
from microgpt.engine import Value
from microgpt.bench.heap import keep_freed_memory
from microgpt.train import lr_at, prepare

a, b = Value(2.0), Value(-3.0)
c = a * b + a ** 2 + (a * b).relu()  # relu of -6 is 0, so no gradient
c.backward()

docs = load_docs()  # from MICROGPT_DATA, checksum-checked
cfg, tcfg = ModelConfig(), TrainConfig()
rng, docs, tok = prepare(docs, tcfg.seed)
params = gpt_scalar.init_params(cfg, rng)
opt = gpt_scalar.Adam(params, tcfg)
losses = [repr(gpt_scalar.train_step(params, opt, tok.frame(docs[s]),
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
    return sorted({name for path in LITE
                   for name in imported(ast.parse(code(path)), False)
                   if name.split(".")[0] in sys.stdlib_module_names})


@pytest.fixture(scope="module")
def pyodide():
    """node and the pinned npm package; a clear failure if missing."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: install Node.js (18 or newer)",
                    pytrace=False)
    package = PYODIDE / "node_modules" / "pyodide" / "package.json"
    if not package.is_file():
        pytest.fail("Pyodide is missing: npm ci --prefix tests/pyodide "
                    "(.ci/run does it)", pytrace=False)
    pinned = json.loads((PYODIDE / "package.json").read_text())[
        "dependencies"]["pyodide"]
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
    assert data.startswith(lite_site.DRIVE + "/")
    job = {"env": env, "wheels": [f"{served}pypi/{WHEEL}"],
           # The kernel sees the site's files under /drive.
           "files": {data: served + "files" + data[len(lite_site.DRIVE):]},
           "code": f"MODULES = {stdlib_imports()!r}\n{IN_PYODIDE}"}
    proc = subprocess.run([pyodide, str(PYODIDE / "run.mjs")],
                          input=json.dumps(job), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_npm_pyodide_is_the_kernels():
    from jupyterlite_pyodide_kernel import constants
    pinned = json.loads((PYODIDE / "package.json").read_text())[
        "dependencies"]["pyodide"]
    assert pinned == constants.PYODIDE_VERSION


def test_the_wheel_runs_the_engine_in_pyodide(in_pyodide, expected_run):
    from jupyterlite_pyodide_kernel import constants
    assert ".".join(map(str, in_pyodide["python"])) == \
        constants.PYODIDE_PYTHON_VERSION
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
    lines = re.findall(r"%pip install ([^\n]*)",
                       "\n".join("".join(c["source"]) for c in source))
    names = {re.split(r"[\[=<>~!;]", arg)[0]
             for line in lines for arg in line.split()
             if not arg.startswith("-")}
    return {"microgpt" if n == NAME else n.replace("-", "_") for n in names}


@pytest.mark.parametrize("path", LITE, ids=lambda p: p.stem)
def test_what_a_lite_chapter_imports_is_there_in_the_browser(
        path, in_pyodide, site):
    with zipfile.ZipFile(site / "pypi" / WHEEL) as whl:
        modules = {n[:-3].replace("/", ".").removesuffix(".__init__")
                   for n in whl.namelist() if n.endswith(".py")}
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
