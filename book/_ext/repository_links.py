"""Repository and launch buttons for the published book, from its build.

The book does not name a repository of its own, so that a fork publishes
its own copy with links to itself. The Pages workflow
(.github/workflows/pages.yml) sets two variables from its context:

- ``BOOK_REPOSITORY_URL``: the repository, e.g. ``https://host/owner/repo``;
- ``BOOK_REPOSITORY_BRANCH``: the branch the book was built from.

With the first set, this extension turns on the repository and issues
buttons and the Binder and Colab buttons on every chapter, pointed at that
repository and branch. Without it (a local build) it changes nothing, and
the book has no such buttons.
"""

import os

BINDERHUB_URL = "https://mybinder.org"
COLAB_URL = "https://colab.research.google.com"


def repository_options(environ):
    """The theme options that point the book at its repository, or {}."""
    url = environ.get("BOOK_REPOSITORY_URL", "").strip().rstrip("/")
    if not url:
        return {}
    return {
        "repository_url": url,
        # The theme links to "main" when no branch is given.
        "repository_branch": environ.get("BOOK_REPOSITORY_BRANCH", "").strip()
        or "main",
        "path_to_docs": "",  # _config.yml is at the repository's root
        "use_repository_button": True,
        "use_issues_button": True,
        "launch_buttons": {
            "binderhub_url": BINDERHUB_URL,
            "colab_url": COLAB_URL,
        },
    }


def point_at_repository(app, config):
    """On config-inited: merge the options into html_theme_options."""
    options = repository_options(os.environ)
    if not options:
        return
    theme = dict(config.html_theme_options)
    # Keep _config.yml's other launch settings (notebook_interface).
    options["launch_buttons"] = {
        **theme.get("launch_buttons", {}),
        **options["launch_buttons"],
    }
    theme.update(options)
    config.html_theme_options = theme


def setup(app):
    app.connect("config-inited", point_at_repository)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
