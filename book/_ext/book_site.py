"""The book's site: its icon, the PDF link, and its own script and styles.

- The favicon (``site/static/favicon.svg``), so that no browser asks for a
  ``favicon.ico`` the site does not have.
- "Download the book as PDF" at the foot of the menu on every page
  (``site/templates/pdf-link.html``). The PDF is written beside the pages
  by ``book/_ext/book_pdf.py``, after the build, which also fills in the
  link's size.
- ``site/static/book_site.js``: the frame players' slider gets a name and
  says which frame it shows; search excerpts leave out the page's buttons.
- ``site/static/book_site.css``: tables fit a phone's width, and printing
  wraps code at the page's edge and leaves out what needs a screen.

The files are read from this folder at every build; nothing is copied
into the book's sources.
"""

from pathlib import Path

HERE = Path(__file__).resolve().parent / "site"
PDF_LINK = "pdf-link.html"


def configure(app, config):
    """On config-inited: the templates, static files, favicon and link."""
    config.templates_path = [*config.templates_path, str(HERE / "templates")]
    config.html_static_path = [*config.html_static_path, str(HERE / "static")]
    if not config.html_favicon:
        config.html_favicon = str(HERE / "static" / "favicon.svg")
    options = dict(config.html_theme_options)
    end = list(options.get("primary_sidebar_end") or [])
    if PDF_LINK not in end:
        options["primary_sidebar_end"] = [PDF_LINK, *end]
    config.html_theme_options = options


def setup(app):
    app.connect("config-inited", configure)
    app.add_css_file("book_site.css")
    app.add_js_file("book_site.js", loading_method="defer")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
