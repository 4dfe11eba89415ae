"""The chapters in the browser: JupyterLite launch buttons, as a Sphinx hook.

As a Sphinx extension (_config.yml), this adds a JupyterLite launch button
to the chapters that run in the browser, and only to them, when
``BOOK_JUPYTERLITE_PATH`` names the folder of the published site that
holds the lite site (the Pages workflow sets it to ``lite``). A local
build, without it, has no button. The site itself is built by
tools/build_lite_site.py, which takes its chapters from here.

A chapter runs in the browser when its set-up cell installs
``microgpt-book`` without the ``[torch]`` extra: the set-up cells already
say which chapters run the PyTorch twin, so this module keeps no list of
its own.
"""

import functools
import json
import os
import re
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
CHAPTERS = "[01][0-9]_*.ipynb"
DISTRIBUTION = "microgpt-book"
# The set-up cell's requirement: the distribution, its extra, its version.
REQUIREMENT = re.compile(
    r"%pip install .*?\bmicrogpt-book(\[torch\])?==([\w.]+)"
)
# The button opens a chapter in the Notebook interface of the site.
LAUNCH_APP = "notebooks"
ENV_VAR = "BOOK_JUPYTERLITE_PATH"


def set_up_requirement(path):
    """(extra, version) of the requirement in a chapter's set-up cell."""
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        if cell["cell_type"] == "code" and cell.get("id") == "set-up":
            found = REQUIREMENT.search("".join(cell["source"]))
            if found:
                return found.group(1) or "", found.group(2)
    raise ValueError(f"{path}: no set-up cell installs {DISTRIBUTION}")


def lite_chapters(book=BOOK):
    """The chapters whose set-up cell does not ask for PyTorch, in order."""
    return [
        path
        for path in sorted(Path(book).glob(CHAPTERS))
        if not set_up_requirement(path)[0]
    ]


@functools.cache
def lite_docnames(srcdir):
    """The lite chapters as Sphinx docnames ("book/02_data"), once a run."""
    return frozenset(
        path.relative_to(srcdir).with_suffix("").as_posix()
        for path in lite_chapters(Path(srcdir) / "book")
    )


def lite_path(environ):
    """The lite site's folder in the published site, or ""."""
    return environ.get(ENV_VAR, "").strip().strip("/")


def launch_button(pathto, lite, docname):
    """The theme's link button that opens `docname` in the lite site."""
    url = pathto(f"{lite}/{LAUNCH_APP}/index.html", 1)
    return {
        "type": "link",
        "text": "JupyterLite",
        "tooltip": "Launch via JupyterLite",
        "icon": "_static/images/logo_jupyterlite.svg",
        "url": f"{url}?path={quote(docname + '.ipynb')}",
    }


def add_launch_button(app, pagename, templatename, context, doctree):
    """On html-page-context: the button, in the theme's launch menu.

    Runs after sphinx-book-theme's own launch buttons (priority 501), so
    the menu it made for Binder and Colab, if any, gets the button too.
    """
    lite = lite_path(os.environ)
    buttons = context.get("header_buttons")
    if not lite or buttons is None:
        return
    if pagename not in lite_docnames(Path(app.srcdir)):
        return
    group = next(
        (b for b in buttons if b.get("label") == "launch-buttons"), None
    )
    if group is None:  # no Binder or Colab: the menu as the theme makes it
        group = {
            "type": "group",
            "tooltip": "Launch interactive content",
            "icon": "fas fa-rocket",
            "buttons": [],
            "label": "launch-buttons",
        }
        buttons.insert(0, group)
    group["buttons"].append(launch_button(context["pathto"], lite, pagename))


def setup(app):
    app.connect("html-page-context", add_launch_button, priority=502)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
