"""One strict build of the book per test run, for every test that reads it.

test_book.py checks the build itself, test_browser.py reads its pages in a
browser, test_workflows.py checks its links to the repository. The build
takes a minute or two on two cores, so it is done once: under pytest-xdist
the workers share it through a lock in the run's base temporary folder
(the first one to ask builds, the others wait and reuse); without xdist it
is an ordinary session fixture.

It is the build the Pages workflow publishes: pages.yml passes the
repository and branch it runs in, here those of a made-up fork, so the
pages carry the repository, issues, Binder and Colab buttons that readers
of the published book see. A local build differs only in leaving those
buttons out (test_workflows.py checks its configuration).

Import the fixture into a test module with ``from book_build import
book_build``.
"""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from filelock import FileLock

ROOT = Path(__file__).resolve().parents[1]
# What pages.yml passes for a fork at this address, on this branch.
PUBLISHED_REPOSITORY = "https://github.com/some-fork/any-name"
PUBLISHED_BRANCH = "a-branch"


@dataclass(frozen=True)
class BookBuild:
    html: Path  # the site: html/book/01_introduction.html and so on
    returncode: int
    log: str  # stdout and stderr together


def strict_build(out):
    """Build the book into `out` as pages.yml does, warnings as errors."""
    jb = shutil.which("jupyter-book", path=str(Path(sys.executable).parent))
    assert jb, "jupyter-book is not installed next to this Python"
    # Build into a temporary folder so the tests never touch the
    # reader's own _build/, and so a stale build cannot hide a warning.
    cmd = [
        jb,
        "build",
        str(ROOT),
        "--path-output",
        str(out),
        "-W",
        "-n",
        "--keep-going",
    ]
    env = {
        **os.environ,
        "BOOK_REPOSITORY_URL": PUBLISHED_REPOSITORY,
        "BOOK_REPOSITORY_BRANCH": PUBLISHED_BRANCH,
    }
    proc = subprocess.run(
        cmd, env=env, capture_output=True, text=True, timeout=900
    )
    return BookBuild(
        out / "_build" / "html", proc.returncode, proc.stdout + proc.stderr
    )


_built = []  # this process's build, whichever module asked first


@pytest.fixture(scope="session")
def book_build(request, tmp_path_factory):
    """The strict build, made once for the whole run.

    Each module that imports this fixture gets a fixture of its own,
    so the build is kept here, once per process, not by pytest.
    """
    if not _built:
        _built.append(shared_build(request, tmp_path_factory))
    return _built[0]


def shared_build(request, tmp_path_factory):
    if not hasattr(request.config, "workerinput"):  # not an xdist worker
        return strict_build(tmp_path_factory.mktemp("book"))
    shared = tmp_path_factory.getbasetemp().parent  # this run's, all workers'
    record = shared / "book.json"
    with FileLock(str(shared / "book.lock")):
        if not record.is_file():
            build = strict_build(shared / "book")
            record.write_text(
                json.dumps(
                    {
                        "html": str(build.html),
                        "returncode": build.returncode,
                        "log": build.log,
                    }
                ),
                encoding="utf-8",
            )
        saved = json.loads(record.read_text(encoding="utf-8"))
    return BookBuild(Path(saved["html"]), saved["returncode"], saved["log"])
