"""The book's HTML: self-contained, and working with the pinned themes.

A reader's browser fetches nothing from any other host:

- MathJax 3 is served by the site itself, from ``_static/mathjax/``. Its
  es5 bundle and fonts come from the pinned PyPI package
  ``django-static-mathjax`` (MathJax 3.2.2 as it is published, with no
  Django dependency), copied into the output at every build; nothing of it
  is committed. This extension sets ``mathjax_path`` to that copy; the
  ``mathjax3_config`` in _config.yml (the macros) works as before.
- The site loads no ipywidgets manager (``nb_ipywidgets_js: {}`` in
  _config.yml), so a notebook's saved widget state could only ever be
  dead weight in a page: it is dropped here. A widget's own output must
  be removed from the HTML (cell tag ``remove-output``); the browser test
  fails on any widget left in a page.

Three fixes for jupyter-book 1.0.4's newest compatible stack (Sphinx 7.4,
sphinx-book-theme 1.3.0, pydata-sphinx-theme 0.17.1; the releases that fix
them need Sphinx 8):

- pydata-sphinx-theme 0.17 puts a search field in the top navbar unless
  ``navbar_persistent`` is given, ignoring sphinx-book-theme's empty
  default. That shows the search box twice, and the navbar it fills brings
  hidden copies of the sidebar toggles, which are the buttons both themes'
  scripts bind their click handlers to (pydata-sphinx-theme issue 2451):
  the visible ☰ and "Contents" buttons did nothing. The empty default is
  restored here unless _config.yml's theme options name one.
- Sphinx 7 writes an inline script twice when an extension adds it after
  the builder starts (sphinx-thebe's ``const THEBE_JS_URL``, a
  SyntaxError on every page); each page keeps one copy of each script.
- The theme's colour mode is set in _config.yml (``html_context``).
"""

import importlib.util
import shutil
from pathlib import Path

from sphinx.errors import ExtensionError

MATHJAX_DIR = "mathjax"  # under the site's _static/
MATHJAX_BUNDLE = "tex-mml-chtml.js"
MATHJAX_PACKAGE = "django-static-mathjax"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def mathjax_es5():
    """The es5 folder of the installed MathJax package."""
    spec = importlib.util.find_spec("mathjax")
    es5 = None
    if spec and spec.submodule_search_locations:
        es5 = (
            Path(next(iter(spec.submodule_search_locations)))
            / "static"
            / "mathjax"
            / "es5"
        )
    if es5 is None or not (es5 / MATHJAX_BUNDLE).is_file():
        raise ExtensionError(
            f"book_html: MathJax 3 is missing; install {MATHJAX_PACKAGE} "
            "(pip install -r requirements.txt)"
        )
    return es5


def configure(app, config):
    """On config-inited: local MathJax, and the navbar left empty."""
    mathjax_es5()  # fail before reading anything if it is missing
    config.mathjax_path = f"{MATHJAX_DIR}/{MATHJAX_BUNDLE}"
    if "navbar_persistent" not in config.html_theme_options:
        config.html_theme_options = {
            **config.html_theme_options,
            "navbar_persistent": [],
        }


def copy_mathjax(app):
    """On builder-inited: MathJax into _static/, before any page is written.

    The other combined bundles (tex-svg.js and the like) are left out; the
    folders hold what the bundle loads on demand (fonts, TeX extensions,
    accessibility, menu).
    """
    if app.builder.format != "html":
        return
    es5 = mathjax_es5()
    target = Path(app.outdir) / "_static" / MATHJAX_DIR
    shutil.copytree(
        es5,
        target,
        dirs_exist_ok=True,
        ignore=lambda folder, names: [
            n
            for n in names
            if Path(folder) == es5
            and n.endswith(".js")
            and n != MATHJAX_BUNDLE
        ],
    )
    # MathJax is Apache-2.0: its licence goes with it.
    shutil.copy2(es5.parent / "LICENSE", target / "LICENSE")


def tidy_scripts(app, pagename, templatename, context, doctree):
    """On html-page-context, last: one copy of each script, no widget state."""
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen, kept = set(), []
    for js in scripts:
        attributes = dict(getattr(js, "attributes", {}))
        if attributes.get("type") == WIDGET_STATE:
            continue
        # Sphinx 7 stores the same inline script once with filename
        # None and once with "", so they compare unequal.
        key = (
            getattr(js, "filename", js) or "",
            tuple(sorted(attributes.items())),
        )
        if key not in seen:
            seen.add(key)
            kept.append(js)
    # In place: this list is the builder's own for this page.
    scripts[:] = kept


def setup(app):
    app.connect("config-inited", configure)
    app.connect("builder-inited", copy_mathjax)
    app.connect("html-page-context", tidy_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
