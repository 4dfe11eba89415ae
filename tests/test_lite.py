"""The chapters in the browser: the JupyterLite site published with the book.

One build of the site (tools/build_lite_site.py, into a temporary folder, as
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

import json
import zipfile

import pytest
import yaml
from lite_harness import (
    CHAPTERS,
    LITE,
    NAME,
    ROOT,
    VERSION,
    WHEEL,
    config,
    kernel_settings,
    lite_build,
    lite_site,
    runs_pytorch,
    sha256,
    site,  # noqa: F401 (a fixture, shared by both files)
)

from microgpt.data import DATA_SHA256

pytestmark = pytest.mark.lite


def test_the_lite_chapters_are_those_that_do_not_run_pytorch():
    """The set-up cells' [torch] extra and the chapters' code agree."""
    assert {p.stem for p in CHAPTERS if runs_pytorch(p)} == {
        p.stem for p in CHAPTERS if p not in LITE
    }
    assert "12_pytorch" not in {p.stem for p in LITE}
    assert len(LITE) >= 10  # the rule must not empty the site


def test_the_site_holds_the_lite_chapters_as_committed(site):
    files = site / "files"
    found = sorted(
        p.relative_to(files).as_posix()
        for p in files.rglob("*")
        if p.is_file()
    )
    assert found == sorted(
        [f"book/{p.name}" for p in LITE] + [lite_build.DATASET]
    )
    for path in LITE:
        assert (files / "book" / path.name).read_bytes() == path.read_bytes()
    assert sha256(files / lite_build.DATASET) == DATA_SHA256
    # The contents the app lists: what a reader sees in its file browser.
    listed = json.loads(
        (site / "api" / "contents" / "book" / "all.json").read_text()
    )["content"]
    assert sorted(e["name"] for e in listed) == sorted(
        [p.name for p in LITE] + ["data"]
    )


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
    assert settings["loadPyodideOptions"] == {
        "env": {"MICROGPT_DATA": f"{lite_build.DRIVE}/{lite_build.DATASET}"}
    }
    # Pyodide from its CDN, at the kernel's own version (README).
    assert "pyodideUrl" not in settings
    assert not settings.get("disablePyPIFallback")
    assert sorted(
        e["name"] for e in config(site)["federated_extensions"]
    ) == sorted(lite_build.EXTENSIONS)


def test_the_launch_button_is_on_the_lite_chapters_only(monkeypatch):
    class App:
        srcdir = str(ROOT)

    def page(docname, buttons=()):
        context = {
            "header_buttons": list(buttons),
            "pathto": lambda uri, resource: f"../{uri}",
        }
        lite_site.add_launch_button(App, docname, "page.html", context, None)
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
        assert button["url"] == (
            f"../lite/notebooks/index.html?path={docname}.ipynb"
        )
        assert button["text"] == "JupyterLite"
    assert page("book/appendix_api") == []
    # Beside the theme's Binder and Colab buttons, in the same menu.
    binder = {
        "type": "group",
        "label": "launch-buttons",
        "buttons": [{"text": "Binder"}],
    }
    [group] = page("book/03_autograd", [binder])
    assert [b["text"] for b in group["buttons"]] == ["Binder", "JupyterLite"]


def test_the_book_loads_the_extension():
    from jupyter_book.config import get_final_config

    config, _ = get_final_config(
        user_yaml=ROOT / "_config.yml",
        cli_config={"latex_individualpages": False},
        sourcedir=ROOT,
    )
    assert "lite_site" in config["extensions"]


def test_the_pages_workflow_publishes_the_site_with_the_book():
    wf = yaml.safe_load(
        (ROOT / ".github" / "workflows" / "pages.yml").read_text(
            encoding="utf-8"
        )
    )
    job = wf["jobs"]["build"]
    lite = job["env"][lite_site.ENV_VAR]
    runs = [s.get("run", "") + s.get("uses", "") for s in job["steps"]]
    book = next(i for i, r in enumerate(runs) if "jupyter-book build" in r)
    [built] = [i for i, r in enumerate(runs) if "build_lite_site.py" in r]
    upload = next(
        i for i, r in enumerate(runs) if "upload-pages-artifact" in r
    )
    assert book < built < upload
    assert runs[built].split()[-1] == (f'"_build/html/${lite_site.ENV_VAR}"')
    assert lite == "lite"
    assert job["steps"][upload]["with"]["path"] == "_build/html"


# The Python that Pyodide runs: the engine, the data, three scalar steps.
