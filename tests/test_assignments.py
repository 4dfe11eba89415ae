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
    done = assignments(out, "--book", BOOK, "--chapters", "1")
    assert done.returncode == 0, done.stderr
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
        [
            ".github",
            *chapters,
            "README.md",
            "appendix_glossary.md",
            "appendix_notation.md",
        ]
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
            "```{",
            "collapsed below",
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


def markdown(path):
    return "\n".join(
        c.source
        for c in nbformat.read(path, as_version=4).cells
        if c.cell_type == "markdown"
    )


def test_a_handout_of_one_chapter_is_complete_in_itself(tmp_path):
    out = tmp_path / "course"
    done = assignments(out, "--book", BOOK, "--chapters", "7")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        ".github",
        "07_transformer.ipynb",
        "README.md",
        "appendix_glossary.md",
        "appendix_notation.md",
        "appendix_numpy.ipynb",
    ]
    # The pages the chapter refers to, as plain Markdown, and named as
    # files of the handout.
    for page in ("appendix_glossary.md", "appendix_notation.md"):
        text = (out / page).read_text(encoding="utf-8")
        assert "{ref}" not in text and "{glossary}" not in text
        assert "{cite}" not in text
    glossary = (out / "appendix_glossary.md").read_text(encoding="utf-8")
    assert '"Notation" (appendix_notation.md in this folder)' in glossary
    assert "\n**attention**\n" in glossary
    nb = nbformat.read(out / "07_transformer.ipynb", as_version=4)
    text = markdown(out / "07_transformer.ipynb")
    # Points beside each exercise, as the checks declare them.
    for e in all_exercises():
        if e.chapter == 7:
            p = f"{e.points} point{'s' if e.points != 1 else ''}"
            assert f"**{e.number}. " in text
            head = text.split(f"**{e.number}. ", 1)[1].split("\n", 1)[0]
            assert f"** *({p})*" in head, head
    # The question in words: a self-check list and a cell for the answer,
    # which the grader finds by its metadata; no worked answer.
    assert "collapsed below" not in text
    assert "*(answered in words: not auto-graded)*" in text
    assert "**Check your own answer**" in text
    assert "- [ ] It answers this: What does it add that attention" in text
    cells = [c for c in nb.cells if "microgpt_explain" in c.metadata]
    assert len(cells) == 1 and cells[0].cell_type == "markdown"
    assert cells[0].metadata["microgpt_explain"] == {
        "exercise": "07.5",
        "question": "Explain: what the MLP adds.",
    }
    book = markdown(BOOK / "07_transformer.ipynb")
    worked = book.split(":::{admonition} Answer\n:class: dropdown\n")[1]
    assert worked.strip().splitlines()[0] not in text


def test_the_worked_answers_are_handed_out_if_the_instructor_chooses(
    tmp_path,
):
    out = tmp_path / "course"
    done = assignments(out, "--book", BOOK, "--chapters", "2", "--answers")
    assert done.returncode == 0, done.stderr
    text = markdown(out / "02_data.ipynb")
    book = markdown(BOOK / "02_data.ipynb")
    worked = book.split(":::{admonition} Answer\n:class: dropdown\n")[1]
    assert "<details><summary>Worked answer</summary>" in text
    assert worked.strip().splitlines()[0] in text
    assert "**Check your own answer**" not in text


@pytest.mark.parametrize("bad", ["seven", "2,x", "2-"])
def test_a_bad_chapter_list_is_one_line(tmp_path, bad):
    done = assignments(tmp_path / "out", "--book", BOOK, "--chapters", bad)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "give chapter numbers, such as 2,3,5 or 2-5" in done.stderr


def test_a_chapter_the_book_lacks_is_refused(tmp_path):
    done = assignments(tmp_path / "out", "--book", BOOK, "--chapters", "99")
    assert done.returncode == 2 and "has no chapter 99" in done.stderr
    assert not (tmp_path / "out").exists()


def test_the_book_is_found_from_any_folder(tmp_path):
    done = assignments("course", "--chapters", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "course" / "01_introduction.ipynb").is_file()


def test_a_handout_made_in_a_clone_is_not_untracked(tmp_path):
    clone = tmp_path / "clone"
    clone.mkdir()
    subprocess.run(["git", "init", "-q", str(clone)], check=True)
    done = assignments(
        "handout/", "--book", BOOK, "--chapters", "1", cwd=clone
    )
    assert done.returncode == 0, done.stderr
    assert "git does not show it as untracked" in done.stdout
    status = subprocess.run(
        ["git", "status", "--porcelain"],
        cwd=clone,
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout == ""
    exclude = (clone / ".git" / "info" / "exclude").read_text()
    assert exclude.splitlines().count("/handout/") == 1


def test_a_wrong_answer_does_not_stop_run_all(tmp_path):
    out = tmp_path / "course"
    assert assignments(out, "--book", BOOK, "--chapters", "1").returncode == 0
    path = out / "01_introduction.ipynb"
    nb = nbformat.read(path, as_version=4)
    stub = next(c for c in nb.cells if "raise NotImplementedError" in c.source)
    name = stub.source.split("def ", 1)[1].split("(", 1)[0]
    stub.source = f"def {name}(*args):\n    return 0\n"
    # Run All as Jupyter does it: the first error stops the rest.
    NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        allow_errors=False,
        resources={"metadata": {"path": str(out)}},
    ).execute()
    said = [
        o.get("text", "")
        for c in nb.cells
        if "check_" in c.source
        for o in c.outputs
    ]
    assert said[0].startswith("✗ chapter 1, exercise 1: ")
    assert said[1:] == [
        f"… chapter 1, exercise {n} is not written yet\n"
        for n in range(2, declared(1) + 1)
    ]


def test_boxes_and_headed_exercises_read_as_plain_markdown():
    from microgpt.course import handout

    for fence in (":::", "```"):
        text = handout.plain(
            f"{fence}{{admonition}} What you need\n:class: note\n\n"
            f"* a term\n{fence}\n\nAfter.",
            {},
            {},
            BOOK,
        )
        assert text == "> **What you need**\n>\n>\n> * a term\n\nAfter."
    assert (
        handout.with_points("### 2. Temperature\n\nWrite it.", {2: 1})
        == "### 2. Temperature *(1 point)*\n\nWrite it."
    )
    assert handout.with_points("**3. Weights.** Write", {3: 2}) == (
        "**3. Weights.** *(2 points)* Write"
    )
    asked = (
        "### 5. Explain: why not zero?\n\nSay why. Why?\n\n"
        ":::{admonition} Answer\n:class: dropdown\nBecause.\n:::\n"
    )
    assert handout.explained(asked) == (
        5,
        "### 5. Explain: why not zero?\n\nSay why. Why?",
        "Because.",
    )
    assert handout.rubric(asked.split(":::")[0]).splitlines()[2:4] == [
        "- [ ] It answers this: Say why.",
        "- [ ] It answers this: Say why. Why?",
    ]
