"""Build the JupyterLite site: the chapters that need no PyTorch, in a browser.

This builds a JupyterLite site (jupyterlite-core and the Pyodide kernel,
pinned in requirements.txt) of those chapters into the folder it is
given, which it replaces::

    .venv/bin/python tools/build_lite_site.py _build/html/lite

The Pages workflow runs it after the book is built. Which chapters are in
the site is the Sphinx extension's to say (book/_ext/lite_site.py, which
adds their launch buttons): a chapter is, when its set-up cell installs
``microgpt-book`` without the ``[torch]`` extra. The site holds:

- those chapters, as committed (outputs included), under ``book/`` as in
  the repository (chapter 13's stored benchmark comes with the package);
- ``book/data/names.txt``, the checked dataset (from ``MICROGPT_DATA``, the
  cache, or the package's download), which is never committed; the kernel
  gets ``MICROGPT_DATA`` pointing at it where Pyodide mounts the site's
  files (``/drive``), since the package's download (urllib) cannot run in
  a browser;
- the package's wheel, built from this checkout, in the site's own piplite
  index (``pypi/all.json``), so the set-up cell's ``%pip install
  microgpt-book==VERSION`` finds it there, whatever PyPI holds.

Pyodide itself and its packages (numpy, matplotlib, micropip...) come from
its CDN when a reader opens a chapter, and the kernel's ``comm`` from PyPI:
the site is static, but it is not offline (README.md says what a reader
needs). The npm package ``pyodide`` holds the core alone, without those
packages, so serving it from the site would not change that.
"""

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

from lite_site import (  # noqa: E402 (the extension's folder, just above)
    DISTRIBUTION,
    lite_chapters,
    set_up_requirement,
)

# Where the lite kernel mounts the site's files (the JupyterLite drive).
DRIVE = "/drive"
DATASET = "book/data/names.txt"  # in the site's files
KERNEL_PLUGIN = "@jupyterlite/pyodide-kernel-extension:kernel"
# The Notebook interface opens a chapter; JupyterLab and the file browser
# are a menu away. The REPL and text editor are left out.
APPS = ("notebooks", "lab", "tree")
# The lab extensions the site takes from this environment: the kernel, and
# the widget manager that draws an ipywidget once it is installed.
EXTENSIONS = (
    "@jupyterlite/pyodide-kernel-extension",
    "@jupyter-widgets/jupyterlab-manager",
)


def kernel_settings():
    """The Pyodide kernel's settings in the site's jupyter-lite.json."""
    return {
        "loadPyodideOptions": {"env": {"MICROGPT_DATA": f"{DRIVE}/{DATASET}"}}
    }


def extensions():
    """The folders of EXTENSIONS, as pip installed them (requirements.txt)."""
    share = Path(sys.prefix) / "share" / "jupyter" / "labextensions"
    missing = [name for name in EXTENSIONS if not (share / name).is_dir()]
    if missing:
        raise SystemExit(
            f"missing from {share}: {', '.join(missing)} "
            "(pip install -r requirements.txt)"
        )
    return [share / name for name in EXTENSIONS]


def write_json(path, data):
    Path(path).write_text(json.dumps(data, indent=2), encoding="utf-8")


def build_wheel(dist):
    """The package's wheel, built as release.yml builds it (via the sdist)."""
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    wheels = sorted(Path(dist).glob("*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(f"expected one wheel in {dist}, found {wheels}")
    return wheels[0]


def wheel_version(wheel):
    """The version in a wheel's file name."""
    return Path(wheel).name.split("-")[1]


def write_contents(contents, data):
    """The lite chapters and the dataset under book/."""
    book = Path(contents) / "book"
    (book / "data").mkdir(parents=True)
    for path in lite_chapters():
        (book / path.name).write_bytes(path.read_bytes())
    (Path(contents) / DATASET).write_bytes(Path(data).read_bytes())


def replace_site(out):
    """Empty `out` for a new site; refuse a folder that is not a site."""
    out = Path(out)
    if out.is_dir() and any(out.iterdir()):
        if not (out / "jupyter-lite.json").is_file():
            raise SystemExit(
                f"{out} is not empty and holds no JupyterLite "
                "site: refusing to replace it"
            )
        shutil.rmtree(out)


def build(out):
    """Build the lite site into `out`; return the wheel's file name."""
    from microgpt.data import resolve_data_path

    out = Path(out).resolve()
    data = resolve_data_path()  # MICROGPT_DATA, cache or download; checked
    with tempfile.TemporaryDirectory(prefix="lite-site-") as tmp:
        tmp = Path(tmp)
        wheel = build_wheel(tmp / "dist")
        for path in lite_chapters():
            pinned = set_up_requirement(path)[1]
            if pinned != wheel_version(wheel):
                raise SystemExit(
                    f"{path.name} installs {DISTRIBUTION}=={pinned}, but "
                    f"this checkout builds {wheel.name}: the site's index "
                    "would not have it"
                )
        write_contents(tmp / "contents", data)
        # The lite folder's own jupyter-lite.json is the base the
        # build adds to (the piplite index URLs, the extensions).
        write_json(
            tmp / "jupyter-lite.json",
            {
                "jupyter-lite-schema-version": 0,
                "jupyter-config-data": {
                    "litePluginSettings": {KERNEL_PLUGIN: kernel_settings()}
                },
            },
        )
        write_json(
            tmp / "jupyter_lite_config.json",
            {
                "LiteBuildConfig": {
                    "contents": [str(tmp / "contents")],
                    "output_dir": str(out),
                    "apps": list(APPS),
                    "no_sourcemaps": True,
                    # The extensions the site needs, not whatever else
                    # this environment has installed for JupyterLab.
                    "ignore_sys_prefix": ["federated_extensions"],
                    "federated_extensions": [str(p) for p in extensions()],
                },
                "PipliteAddon": {"piplite_urls": [str(wheel)]},
            },
        )
        replace_site(out)
        # Run in the temporary lite folder, where the build keeps its
        # task database and cache: nothing is written into the repository.
        subprocess.run(
            [sys.executable, "-m", "jupyterlite_core", "build"],
            cwd=tmp,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return wheel.name


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(
        prog="build_lite_site.py",
        description="Build the JupyterLite site of "
        "the chapters that do not need PyTorch.",
    )
    parser.add_argument(
        "out", help="the site's folder, e.g. _build/html/lite (replaced)"
    )
    args = parser.parse_args(argv)
    name = build(args.out)
    print(f"built the JupyterLite site in {args.out} with {name}")


if __name__ == "__main__":
    main()
