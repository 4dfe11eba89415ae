"""Student copies: solutions out, checks in, nothing half-written."""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from microgpt import outputs
from microgpt.course.assignments import BEGIN, END, strip_source, student_copy
from microgpt.course.checks.exercise import all_exercises

pytestmark = pytest.mark.assignments

BOOK = Path(__file__).resolve().parents[1] / "book"


def declared(chapter):
    """How many exercises the chapter's checks declare."""
    return sum(e.chapter == chapter for e in all_exercises())


SOLVED = f"""def f(x):
    '''Twice x.'''
    {BEGIN}
    y = x + x
    return y
    {END}


f(1)"""


def assignments(*args, cwd=None):
    """Run the command in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "microgpt.course.assignments", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def test_a_solution_becomes_a_raise_at_its_indentation():
    assert (
        strip_source(SOLVED, "here")
        == """def f(x):
    '''Twice x.'''
    # YOUR CODE HERE
    raise NotImplementedError


f(1)"""
    )


@pytest.mark.parametrize(
    "source, message",
    [
        (f"{BEGIN}\n{BEGIN}\n{END}\n{END}", f"here, line 2: {BEGIN} inside"),
        (f"x = 1\n{END}", f"here, line 2: {END} without"),
        (f"{BEGIN}\nx = 1", f"here: {BEGIN} is never closed"),
    ],
    ids=["nested", "end-only", "unclosed"],
)
def test_unbalanced_markers_are_one_clear_error(source, message):
    with pytest.raises(ValueError, match=message):
        strip_source(source, "here")


def test_a_chapter_keeps_everything_but_its_answers():
    nb = nbformat.read(BOOK / "13_efficiency.ipynb", as_version=4)
    copy, count = student_copy(nb, "13_efficiency.ipynb")
    # (nb, the book's copy, keeps its solutions)
    assert count == sum(BEGIN in c.source for c in nb.cells) == declared(13)
    assert len(copy.cells) == len(nb.cells)
    assert not any(BEGIN in c.source or END in c.source for c in copy.cells)
    for old, new in zip(nb.cells, copy.cells):
        if BEGIN in old.source:
            assert "raise NotImplementedError" in new.source
            assert "hide-input" not in new.metadata.get("tags", [])
            assert new.outputs == []
        elif "check_" in old.source:
            assert new.source == old.source and new.outputs == []
        else:  # the chapter itself: prose, code and outputs as they were
            assert new.source == old.source
            assert new.get("outputs") == old.get("outputs")


def test_a_student_copy_runs_and_every_check_asks_for_the_answer(tmp_path):
    out = tmp_path / "course"
    assert assignments(out, "--book", BOOK).returncode == 0
    nb = nbformat.read(out / "01_introduction.ipynb", as_version=4)
    NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(out)}},
    ).execute()
    errors = [
        o.ename
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    said = [
        o.text
        for c in nb.cells
        if "check_" in c.source
        for o in c.outputs
        if o.output_type == "stream"
    ]
    # The chapter runs to its end, and each check says, in one line, that
    # its exercise is not written yet.
    assert errors == []
    assert said == [
        f"… chapter 1, exercise {n} is not written yet\n"
        for n in range(1, declared(1) + 1)
    ]


def test_the_command_writes_every_chapter_and_a_readme(tmp_path):
    out = tmp_path / "course"
    done = assignments(out, "--book", BOOK)
    assert done.returncode == 0, done.stderr
    chapters = sorted(p.name for p in BOOK.glob("*.ipynb"))
    assert sorted(p.name for p in out.glob("*.ipynb")) == chapters
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [".github", *chapters, "README.md"]
    )
    # GitHub Actions' grading workflow (tests/test_classroom.py)
    assert [p.name for p in (out / ".github" / "workflows").iterdir()] == [
        "grade.yml"
    ]
    assert (
        f"13_efficiency.ipynb: {declared(13)} answers taken out" in done.stdout
    )
    assert f"wrote {len(chapters)} notebooks to {out}" in done.stdout
    # for a class: as readable as any folder made here, not private
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~mask


def test_a_missing_parent_folder_is_refused(tmp_path):
    done = assignments(tmp_path / "a" / "course", "--book", BOOK)
    assert done.returncode == 2
    assert "does not exist" in done.stderr
    assert os.listdir(tmp_path) == []


def test_a_folder_in_use_is_refused_and_left_alone(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    done = assignments(tmp_path, "--book", BOOK)
    assert done.returncode == 2
    assert "exists and is not an empty folder" in done.stderr
    assert os.listdir(tmp_path) == ["mine.txt"]


def test_a_missing_book_is_one_clear_error(tmp_path):
    done = assignments(tmp_path / "out", "--book", tmp_path / "nowhere")
    assert done.returncode == 2
    assert "no notebooks (.ipynb) in this folder" in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_bad_notebook_leaves_nothing_behind(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(f"def f():\n    {BEGIN}\n    return 1\n")
        ]
    )
    nbformat.write(nb, book / "01_broken.ipynb")
    done = assignments(tmp_path / "out", "--book", book)
    assert done.returncode == 2
    assert f"01_broken.ipynb, cell 0: {BEGIN} is never closed" in done.stderr
    assert sorted(os.listdir(tmp_path)) == ["book"]  # no copy, no temp


@pytest.mark.skipif(
    not os.path.isdir("/proc/self"),
    reason="needs Linux's /proc, where nobody can write",
)
def test_a_folder_that_cannot_be_written_is_named_as_given():
    done = assignments("/proc/course", "--book", BOOK)
    assert done.returncode == 2
    assert "cannot write /proc/course: " in done.stderr
    assert outputs.PREFIX not in done.stderr  # the temporary folder


def test_the_handout_reads_as_plain_markdown_with_a_readme(tmp_path):
    out = tmp_path / "course"
    assert assignments(out, "--book", BOOK).returncode == 0
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "pip install" in readme and "MICROGPT_DATA" in readme
    assert "is not written yet" in readme
    assert "`.github/workflows/grade.yml`" in readme
    for path in sorted(out.glob("*.ipynb")):
        text = "\n".join(
            c.source
            for c in nbformat.read(path, as_version=4).cells
            if c.cell_type == "markdown"
        )
        for raw in (
            "{ref}",
            "{cite}",
            "{literalinclude}",
            ")=\n",
            ":::",
            "{admonition}",
        ):
            assert raw not in text, (path.name, raw)
    # the questions stay, their worked answers (solutions) do not
    book = "\n".join(
        c.source
        for c in nbformat.read(BOOK / "06_attention.ipynb", as_version=4).cells
    )
    answer = book.split(":::{admonition} Answer\n:class: dropdown\n")[1]
    copy = "\n".join(
        c.source
        for c in nbformat.read(out / "06_attention.ipynb", as_version=4).cells
    )
    assert answer.splitlines()[0] not in copy
    intro = "\n".join(
        c.source
        for c in nbformat.read(out / "03_autograd.ipynb", as_version=4).cells
    )
    assert "(Karpathy 2020)" in intro  # a citation, written out
    assert "class Value:" in intro  # the code the book prints
    assert "chapter 2 (Data and tokenizer)" in "\n".join(
        c.source
        for c in nbformat.read(
            out / "01_introduction.ipynb", as_version=4
        ).cells
    )
