"""microgpt.repository finds the clone around the package, and only one."""

import shutil
import subprocess
import sys
from pathlib import Path

from microgpt import repository

ROOT = Path(__file__).resolve().parents[1]


def test_the_clone_is_found_from_the_package():
    assert repository.clone_root() == ROOT
    assert repository.in_clone("book", "02_data.ipynb").is_file()


def test_a_package_outside_a_clone_finds_none(tmp_path):
    # A copy of the package in a folder with no book around it, as in an
    # installed wheel or the grader's sandbox, answers None.
    shutil.copytree(
        ROOT / "microgpt",
        tmp_path / "microgpt",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from microgpt import repository; "
            "print(repository.clone_root(), repository.in_clone('book'))",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["None", "None"]
