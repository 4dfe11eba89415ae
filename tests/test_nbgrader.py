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


# -- the nbgrader path under attack ----------------------------------------


def _autograde(tmp_path, students):
    """Autograde chapter 2 for students {name: edit(cells)}: points each."""
    course = tmp_path / "course"
    (course / "source" / "ch02").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(
        'c = get_config()\nc.CourseDirectory.course_id = "microgpt"\n'
    )
    shutil.copy(ROOT / "book" / "02_data.ipynb", course / "source" / "ch02")
    nbgrader(course, "generate_assignment", "ch02", "--force")
    released = course / "release" / "ch02" / "02_data.ipynb"
    for name, edit in students.items():
        nb = json.loads(released.read_text(encoding="utf-8"))
        nb["cells"] = edit(nb["cells"])
        nbgrader(course, "db", "student", "add", name)
        (course / "submitted" / name / "ch02").mkdir(parents=True)
        (course / "submitted" / name / "ch02" / "02_data.ipynb").write_text(
            json.dumps(nb), encoding="utf-8"
        )
    nbgrader(course, "autograde", "ch02")
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {s: gb.find_submission("ch02", s).score for s in students}


def _grade_id(cell):
    return cell["metadata"].get("nbgrader", {}).get("grade_id", "")


def _edit_checks(source):
    """An edit that replaces every check cell's code with source."""

    def edit(cells):
        for cell in cells:
            if _grade_id(cell).endswith("-check"):
                cell["source"] = source
        return cells

    return edit


# Code in an answer cell that replaces every chapter-2 check with a
# function that passes: the checks run in the student's kernel.
PATCH = (
    "import microgpt.course.checks.data as m\n"
    "for name in dir(m):\n"
    "    if name.startswith('check_'):\n"
    "        setattr(m, name, lambda *a, **k: None)\n"
)


def _patch_first_answer(cells):
    for cell in cells:
        if _grade_id(cell).endswith("-answer"):
            cell["source"] = "".join(cell["source"]) + "\n" + PATCH
            break
    return cells


def test_under_nbgrader_edited_check_cells_are_restored_and_patches_win(
    tmp_path,
):
    """What nbgrader protects, and what it does not (as the instructor
    guide says): a locked check cell that a student rewrites or empties
    is put back from the instructor's copy before it runs, so forged
    check cells score nothing; code in the student's own cells runs in
    the same kernel as the checks, so a patch of the checks scores."""
    top = sum(e.points for e in all_exercises() if e.chapter == 2)
    scores = _autograde(
        tmp_path,
        {
            "forger": _edit_checks("print('✓ matches the reference')\n"),
            "emptier": _edit_checks(""),
            "patcher": _patch_first_answer,
        },
    )
    assert scores == {"forger": 0, "emptier": 0, "patcher": top}
