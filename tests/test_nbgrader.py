"""nbgrader takes the book's notebooks as they are, with our points."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from microgpt.course.checks.exercise import all_exercises
from microgpt.course.nbgrader import cell_ids, chapter_of, stamp

pytestmark = pytest.mark.assignments

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[01][0-9]_*.ipynb"))
BIN = Path(sys.executable).parent


def test_every_chapter_carries_the_metadata_of_its_exercises():
    exercises = all_exercises()
    assert exercises and len({e.key for e in exercises}) == len(exercises)
    for path in CHAPTERS:
        assert not stamp(path, exercises, write=False), (
            f"{path.name}: run python -m microgpt.course.nbgrader book"
        )


def test_points_in_the_notebooks_are_the_declared_points():
    declared = {cell_ids(e)[1]: e.points for e in all_exercises()}
    found = {}
    for path in CHAPTERS:
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader")
            if meta and meta["grade"]:
                found[meta["grade_id"]] = meta["points"]
                assert meta["locked"], meta["grade_id"]
    assert found == declared


def test_chapter_numbers_come_from_file_names():
    assert [chapter_of(p) for p in CHAPTERS] == [
        int(p.name[:2]) for p in CHAPTERS
    ]
    assert [chapter_of(p) for p in CHAPTERS][:14] == list(range(1, 15))


def nbgrader(course, *args):
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.run(
        [str(BIN / "nbgrader"), *args],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def test_nbgrader_generates_and_autogrades_a_chapter(tmp_path):
    course = tmp_path / "course"
    (course / "source" / "ch02").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(
        'c = get_config()\nc.CourseDirectory.course_id = "microgpt"\n'
    )
    shutil.copy(ROOT / "book" / "02_data.ipynb", course / "source" / "ch02")
    nbgrader(course, "generate_assignment", "ch02", "--force")
    released = course / "release" / "ch02" / "02_data.ipynb"
    text = released.read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in text and "NotImplementedError" in text
    for name, source in (
        ("blank", released),
        ("solved", ROOT / "book" / "02_data.ipynb"),
    ):
        nbgrader(course, "db", "student", "add", name)
        (course / "submitted" / name / "ch02").mkdir(parents=True)
        shutil.copy(source, course / "submitted" / name / "ch02")
    nbgrader(course, "autograde", "ch02")
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        scores = {
            s: (
                gb.find_submission("ch02", s).score,
                gb.find_submission("ch02", s).max_score,
            )
            for s in ("blank", "solved")
        }
    top = sum(e.points for e in all_exercises() if e.chapter == 2)
    assert scores == {"blank": (0, top), "solved": (top, top)}
