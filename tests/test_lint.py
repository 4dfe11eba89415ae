"""The package, its tests and the book's extensions pass ruff.

ruff is configured in pyproject.toml: a line length of 79 columns, the
formatter's layout, and a small rule set (pycodestyle, pyflakes, sorted
imports). Running it here makes the README's test command and CI fail on
a style slip, as they fail on a wrong number.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["microgpt", "tests", "conftest.py", "book/_ext"]


def _ruff():
    """The ruff executable installed beside this interpreter."""
    exe = Path(sys.executable).with_name("ruff")
    found = exe if exe.exists() else shutil.which("ruff")
    assert found, "ruff is not installed: pip install -r requirements.txt"
    return str(found)


def _run(*args):
    return subprocess.run(
        [_ruff(), *args, *PATHS],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_the_linter_finds_nothing():
    result = _run("check", "--output-format", "concise")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_formatter_would_change_nothing():
    result = _run("format", "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_linter_catches_a_slip(tmp_path):
    # An unused import and an overlong line, in a file under a checked
    # path's rules: the configuration must report both.
    bad = tmp_path / "slip.py"
    bad.write_text("import os\n" + "x = " + "1 + " * 30 + "1\n")
    result = subprocess.run(
        [_ruff(), "check", "--config", str(ROOT / "pyproject.toml"), str(bad)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "F401" in result.stdout and "E501" in result.stdout


def test_no_note_prefixes_remain():
    # Comments are sentences; a "NOTE:" prefix adds nothing to one.
    found = []
    for path in [
        *ROOT.joinpath("microgpt").rglob("*.py"),
        *ROOT.joinpath("microgpt").rglob("*.yml"),
        *ROOT.joinpath("tests").glob("*.py"),
        *ROOT.joinpath(".github").rglob("*.yml"),
        ROOT / "pyproject.toml",
        ROOT / ".ci" / "run",
    ]:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"#\s*NOTE:", line):
                found.append(f"{path.relative_to(ROOT)}:{n}")
    assert not found, found
