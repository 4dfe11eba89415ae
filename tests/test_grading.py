"""python -m microgpt.course.grade: a class graded end to end."""

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from microgpt.course.assignments import write_copies
from microgpt.course.checks.exercise import all_exercises

pytestmark = pytest.mark.assignments

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
EXERCISES = all_exercises()
TOP = sum(e.points for e in EXERCISES)


def grade(submissions, out, *args):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "microgpt.course.grade",
            str(submissions),
            "--out",
            str(out),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )


def gradebook(out):
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {r["student"]: r for r in rows}


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    out = tmp_path_factory.mktemp("course") / "handout"
    write_copies(BOOK, out)
    return out


def replace_answer(nb_path, name, body):
    """Put body in place of the stub of the exercise that defines name."""
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if (
            cell["cell_type"] == "code"
            and f"def {name}(" in src
            and "raise NotImplementedError" in src
        ):
            cell["source"] = body
            break
    else:
        raise AssertionError(f"no stub defines {name}")
    nb_path.write_text(json.dumps(nb), encoding="utf-8")


def test_a_small_class(tmp_path, handout):
    subs = tmp_path / "subs"
    chapters = ("02_data.ipynb", "06_attention.ipynb")
    for name in ("blank", "solved", "mixed", "broken"):
        (subs / name).mkdir(parents=True)
    for ch in chapters:
        shutil.copy(handout / ch, subs / "blank")
        shutil.copy(BOOK / ch, subs / "solved")
        shutil.copy(handout / ch, subs / "mixed")
    # mixed: one right answer, one that calls the package, one with a
    # typical mistake, the rest unwritten; broken: not a notebook.
    replace_answer(
        subs / "mixed" / "02_data.ipynb",
        "decode_sample",
        "from microgpt.data import Tokenizer\n"
        "def decode_sample(ids, chars):\n"
        "    return Tokenizer(tuple(chars)).decode(ids)\n",
    )
    replace_answer(
        subs / "mixed" / "02_data.ipynb",
        "frame_bos_first",
        "def frame_bos_first(doc, chars):\n"
        "    return [0] + [chars.index(c) + 1 for c in doc]"
        " + [0]\n",
    )
    replace_answer(
        subs / "mixed" / "02_data.ipynb",
        "last_pairs",
        "def last_pairs(tokens, block_size):\n"
        "    n = min(block_size, len(tokens) - 1)\n"
        "    return tokens[:n], tokens[1:n + 1]\n",
    )
    (subs / "broken" / "02_data.ipynb").write_text("{not json")
    out = tmp_path / "grades"
    done = grade(subs, out)
    assert done.returncode == 0, done.stderr
    book = gradebook(out)
    assert list(book) == ["blank", "broken", "mixed", "solved"]
    two_and_six = [e for e in EXERCISES if e.chapter in (2, 6)]
    reached = sum(e.points for e in two_and_six)
    assert int(book["solved"]["total"]) == reached
    assert int(book["blank"]["total"]) == 0
    assert int(book["broken"]["total"]) == 0
    assert book["mixed"]["02.1"] == "0" and book["mixed"]["02.2"] == "0"
    assert book["mixed"]["02.3"] == "1" and book["mixed"]["02.4"] == "0"
    assert int(book["mixed"]["total"]) == 1
    assert all(r["out of"] == str(TOP) for r in book.values())
    feedback = {
        p.stem: p.read_text(encoding="utf-8")
        for p in (out / "feedback").glob("*.html")
    }
    assert set(feedback) == set(book)
    assert "chapter 2, exercise 4 is not written yet" in feedback["blank"]
    assert (
        "02_data.ipynb could not be opened: it is not a notebook"
        in feedback["broken"]
    )
    assert (
        "your answer calls microgpt.data.Tokenizer.decode" in feedback["mixed"]
    )
    assert (
        "this is what taking the first pairs (the chapter&#x27;s "
        "inputs_and_targets) gives" in feedback["mixed"]
    )
    # The same marks a second time.
    again = tmp_path / "again"
    assert grade(subs, again).returncode == 0
    assert (again / "gradebook.csv").read_bytes() == (
        out / "gradebook.csv"
    ).read_bytes()


def test_an_endless_notebook_is_stopped_and_the_rest_still_counts(
    tmp_path, handout
):
    student = tmp_path / "subs" / "ada"
    student.mkdir(parents=True)
    shutil.copy(BOOK / "02_data.ipynb", student)
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "loop",
                "metadata": {},
                "outputs": [],
                "source": "while True:\n    pass\n",
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (student / "06_attention.ipynb").write_text(json.dumps(nb))
    out = tmp_path / "grades"
    done = grade(tmp_path / "subs", out, "--limit", "20")
    assert done.returncode == 0, done.stderr
    assert gradebook(out)["ada"]["total"] == str(
        sum(e.points for e in EXERCISES if e.chapter == 2)
    )
    page = (out / "feedback" / "ada.html").read_text(encoding="utf-8")
    assert "06_attention.ipynb did not finish within 20 s" in page


@pytest.mark.slow
def test_whole_books_score_zero_blank_and_full_solved(tmp_path, handout):
    subs = tmp_path / "subs"
    shutil.copytree(handout, subs / "blank")
    shutil.copytree(
        BOOK,
        subs / "solved",
        ignore=shutil.ignore_patterns("*.md", "*.bib", "*.cfg", "_*"),
    )
    out = tmp_path / "grades"
    done = grade(subs, out)
    assert done.returncode == 0, done.stderr
    book = gradebook(out)
    assert book["blank"]["total"] == "0"
    assert book["solved"]["total"] == str(TOP), {
        k: v for k, v in book["solved"].items() if v == "0"
    }
    assert f"blank: 0 / {TOP}" in done.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing-folder"], "is not a folder of submissions"),
    ],
)
def test_bad_arguments_are_one_line(tmp_path, args, message):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "microgpt.course.grade",
            str(tmp_path / args[0]),
            "--out",
            str(tmp_path / "g"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and message in done.stderr
    assert "Traceback" not in done.stderr


def test_grades_are_never_written_over(tmp_path):
    (tmp_path / "subs" / "a").mkdir(parents=True)
    (tmp_path / "g").mkdir()
    (tmp_path / "g" / "keep.txt").write_text("mine")
    done = grade(tmp_path / "subs", tmp_path / "g")
    assert (
        done.returncode == 2
        and "exists; the grader creates its folder itself" in done.stderr
    )
    assert (tmp_path / "g" / "keep.txt").read_text() == "mine"


def test_the_teaching_page_states_the_declared_points():
    page = (BOOK / "appendix_teaching.md").read_text(encoding="utf-8")
    stated = {}
    for line in page.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if (
            len(cells) == 3
            and cells[0][:1].isdigit()
            and "." in cells[0].split()[0]
        ):
            chapter = int(cells[0].split(".")[0])
            stated[chapter] = [int(p) for p in cells[1].split(",")]
    declared = {}
    for e in EXERCISES:
        declared.setdefault(e.chapter, []).append(e.points)
    assert stated == declared
    assert f"the whole book ({TOP} points)" in " ".join(page.split())


def solved(handout_nb, book_nb, into, wrong=None, words=""):
    """The handout's notebook with the book's solutions in, one of them
    replaced by wrong ({name: body}), and words as the answer in words."""
    nb = json.loads(handout_nb.read_text(encoding="utf-8"))
    book = json.loads(book_nb.read_text(encoding="utf-8"))
    answers = [
        "".join(c["source"])
        for c in book["cells"]
        if "### BEGIN SOLUTION" in "".join(c["source"])
    ]
    stubs = [
        c
        for c in nb["cells"]
        if "raise NotImplementedError" in "".join(c["source"])
    ]
    assert len(answers) == len(stubs)
    for cell, answer in zip(stubs, answers):
        cell["source"] = answer
    for cell in nb["cells"]:
        if "microgpt_explain" in cell["metadata"]:
            cell["source"] = "".join(cell["source"]) + words
    into.mkdir(parents=True, exist_ok=True)
    (into / handout_nb.name).write_text(json.dumps(nb), encoding="utf-8")
    for name, body in (wrong or {}).items():
        replace_answer_any(into / handout_nb.name, name, body)


def replace_answer_any(nb_path, name, body):
    """Put body in place of the cell that defines name."""
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    cell = next(
        c
        for c in nb["cells"]
        if c["cell_type"] == "code" and f"def {name}(" in "".join(c["source"])
    )
    cell["source"] = body
    nb_path.write_text(json.dumps(nb), encoding="utf-8")


def test_a_class_assigned_one_chapter_is_graded_on_it(tmp_path):
    handout = tmp_path / "handout"
    write_copies(BOOK, handout, chapters=[2])
    subs = tmp_path / "subs"
    solved(
        handout / "02_data.ipynb",
        BOOK / "02_data.ipynb",
        subs / "ada",
        {
            "predicted_predictions": "def predicted_predictions():\n"
            "    return 15\n"
        },
        words="BOS is read only at position 0 & predicted only last.",
    )
    shutil.copy(BOOK / "06_attention.ipynb", subs / "ada")
    (subs / "bob").mkdir()
    shutil.copy(BOOK / "06_attention.ipynb", subs / "bob")
    for how in (["--chapters", "2"], ["--handout", str(handout)]):
        out = tmp_path / f"grades{how[0]}"
        done = grade(subs, out, *how)
        assert done.returncode == 0, done.stderr
        book = gradebook(out)
        two = [e for e in EXERCISES if e.chapter == 2]
        assert list(book["ada"]) == (
            ["student"] + [e.key for e in two] + ["total", "out of", "flags"]
        )
        assert book["ada"]["out of"] == str(sum(e.points for e in two))
        assert book["ada"]["02.1"] == "0"
        assert book["ada"]["total"] == str(sum(e.points for e in two[1:]))
        assert book["bob"]["total"] == "0"
        ada = (out / "feedback" / "ada.html").read_text(encoding="utf-8")
        bob = (out / "feedback" / "bob.html").read_text(encoding="utf-8")
        assert "15 is not it; one too few, an off-by-one" in ada
        assert "✓ decode_sample: matches the reference" in ada
        assert (
            "06_attention.ipynb was not graded: chapter 6 was not assigned"
        ) in ada
        assert "chapter 6" not in ada.split("<table>", 1)[1]
        assert (
            "<td>chapter 2, exercise 5: (explain: one token, two "
            "jobs).</td><td>not auto-graded</td>"
        ) in ada
        assert (
            "BOS is read only at position 0 &amp; predicted only last." in ada
        )
        assert "not handed in" in bob
        assert "no notebook of chapter 2 was handed in" in bob
        assert "no notebook of the chapters assigned (2)" in bob
        assert "no notebooks (.ipynb) in this folder" not in bob
        assert "did not run" not in bob


@pytest.mark.parametrize(
    "option, message",
    [
        (["--chapters", "two"], "give chapter numbers, such as 2,3,5"),
        (["--handout", "nowhere"], "--handout nowhere: not a folder"),
        (["--handout", "."], "no chapter notebooks (such as 02_data"),
    ],
)
def test_bad_chapters_are_one_line(tmp_path, option, message):
    (tmp_path / "subs").mkdir()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "microgpt.course.grade",
            "subs",
            "--out",
            "g",
            *option,
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 2 and message in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "g").exists()
