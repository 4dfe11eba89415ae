"""The choice questions' answer key: the instructor's, never the sandbox's.

The installed package holds no answer to a choice question (no digest,
no hint that only the wrong letters get); under the grader a check only
records the letter, and the grader judges it outside the sandbox with
the answer key it was given.
"""

import ast
import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from microgpt.course import grade as grader
from microgpt.course import sandbox
from microgpt.course.checks import blocks, questions
from microgpt.course.checks.exercise import RESULTS_VAR, all_exercises

pytestmark = pytest.mark.assignments

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "microgpt"
EXERCISES = all_exercises()
KEY = questions.load_key(ROOT / questions.KEY_FILE)
TINY = "ch05-rmsnorm-tiny"  # exercise 5.1's question


def choice_calls():
    """Every call of questions.choice in the check modules."""
    for path in sorted((PACKAGE / "course" / "checks").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and "choice"
                in (
                    getattr(node.func, "id", None),
                    getattr(node.func, "attr", None),
                )
                and len(node.args) >= 3
            ):
                yield path.name, node


def test_the_key_is_outside_the_installed_package():
    path = questions.find_key()
    assert path == ROOT / questions.KEY_FILE
    assert PACKAGE not in path.parents
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert questions.KEY_FILE not in pyproject


def test_every_choice_question_is_in_the_key_and_holds_no_answer():
    asked = {}
    for name, node in choice_calls():
        question = node.args[2].value
        asked[question] = name
        assert {k.arg for k in node.keywords} <= {"letters", "hint"}, name
    assert set(asked) == set(KEY)
    keys = {e.key for e in EXERCISES}
    for question, entry in KEY.items():
        assert entry["exercise"] in keys and entry["answer"] in "abc"
    digest = re.compile(r"[0-9a-f]{64}")
    for path in (PACKAGE / "course").rglob("*.py"):
        assert not digest.search(path.read_text(encoding="utf-8")), path


def test_the_answer_letters_are_varied():
    """No letter answers more than half the questions, so always giving
    the same letter cannot pass most of them."""
    letters = [entry["answer"] for entry in KEY.values()]
    assert len(set(letters)) > 1
    for letter in set(letters):
        assert 2 * letters.count(letter) <= len(letters), letter


def test_the_sandbox_cannot_read_the_key(tmp_path):
    probe = (
        "from microgpt.course.checks import questions\n"
        "import os\n"
        "print(questions.find_key(), os.path.exists("
        f"{str(ROOT / questions.KEY_FILE)!r}))\n"
    )
    done = subprocess.run(
        sandbox.command(tmp_path, [sys.executable, "-c", probe]),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["None", "False"]


def test_under_the_grader_a_choice_is_recorded_not_judged(
    tmp_path, monkeypatch, capsys
):
    results = tmp_path / "results.jsonl"
    monkeypatch.setenv(RESULTS_VAR, str(results))
    blocks.check_tiny_input(lambda: "a")  # wrong, yet no verdict here
    assert "recorded for the grader" in capsys.readouterr().out
    [line] = [json.loads(x) for x in results.read_text().splitlines()]
    assert line["exercise"] == "05.1" and line["choices"] == [[TINY, "a", ""]]


def cell(letter=None, status="passed"):
    line = {"exercise": "05.1", "check": "check_tiny_input", "status": status}
    if letter is not None:
        line["choices"] = [[TINY, letter, ""]]
    return {"source": "check_tiny_input(tiny_input)", "results": [line]}


def test_the_grader_judges_the_letter_with_its_key():
    right = KEY[TINY]["answer"]
    wrong = next(x for x in "abc" if x != right)
    got = grader.verdicts([cell(right)], EXERCISES, KEY)["05.1"]
    assert got["status"] == "passed"
    got = grader.verdicts([cell(wrong)], EXERCISES, KEY)["05.1"]
    assert got["status"] == "failed"
    assert got["message"].startswith(f"chapter 5, exercise 1: not ({wrong})")
    assert KEY[TINY]["hints"][wrong] in got["message"]


def test_a_forged_pass_without_a_letter_scores_nothing():
    got = grader.verdicts([cell()], EXERCISES, KEY)["05.1"]
    assert got["status"] == "failed" and "no letter" in got["message"]


def test_a_key_that_says_otherwise_decides():
    theirs = {TINY: dict(KEY[TINY], answer="c")}
    got = grader.verdicts([cell(KEY[TINY]["answer"])], EXERCISES, theirs)
    assert got["05.1"]["status"] == "failed"
    assert (
        grader.verdicts([cell("c")], EXERCISES, theirs)["05.1"]["status"]
        == "passed"
    )


def test_without_a_key_a_choice_is_not_graded():
    got = grader.verdicts([cell("b")], EXERCISES, {})["05.1"]
    assert got["status"] == "not graded"


def test_a_call_in_a_comment_or_a_string_does_not_count():
    line = cell("b")["results"]
    for source in (
        "# check_tiny_input(tiny_input)",
        "print('check_tiny_input(tiny_input)')",
    ):
        assert grader.calls(source, "check_tiny_input") == 0
        got = grader.verdicts(
            [{"source": source, "results": line}], EXERCISES, KEY
        )
        assert got == {}
    assert grader.calls("%time check_tiny_input(f)", "check_tiny_input") == 1
    assert (
        grader.calls("%%time\ncheck_tiny_input(f)\n", "check_tiny_input") == 1
    )


def notebook(*sources):
    cells = [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": f"c{i}",
            "metadata": {},
            "outputs": [],
            "source": s,
        }
        for i, s in enumerate(sources)
    ]
    return json.dumps(
        {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    )


def test_a_class_is_graded_with_the_instructors_key(tmp_path):
    """End to end, sandboxed: the letter decides, under the key given."""
    subs = tmp_path / "subs"
    ask = "from microgpt.course.checks.blocks import check_tiny_input\n"
    forge = (
        "import os, json\n"
        "line = json.dumps({'exercise': '05.1', 'check': "
        "'check_tiny_input', 'status': 'passed', 'points': 1})\n"
        "os.write(int(os.environ['MICROGPT_RESULTS_FD']), "
        "(line + '\\n').encode())\n"
    )
    students = {
        "bea": ask + "check_tiny_input(lambda: 'b')\n",
        "cal": ask + "check_tiny_input(lambda: 'c')\n",
        "fox": ask + "try:\n    check_tiny_input(lambda: 0)\n"
        "except Exception:\n    pass\n" + forge,
    }
    for name, source in students.items():
        (subs / name).mkdir(parents=True)
        (subs / name / "05_blocks.ipynb").write_text(notebook(source))
    key = tmp_path / "ours.json"
    key.write_text(
        json.dumps({"questions": {TINY: dict(KEY[TINY], answer="c")}})
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "microgpt.course.grade",
            str(subs),
            "--out",
            str(tmp_path / "g"),
            "--key",
            str(key),
            "--limit",
            "120",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "g" / "gradebook.csv", newline="") as f:
        book = {r["student"]: r["05.1"] for r in csv.DictReader(f)}
    assert book == {"bea": "0", "cal": "1", "fox": "0"}


def test_a_key_that_is_not_one_is_one_line(tmp_path):
    (tmp_path / "subs" / "a").mkdir(parents=True)
    (tmp_path / "k.json").write_text("[1, 2]")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "microgpt.course.grade",
            str(tmp_path / "subs"),
            "--out",
            str(tmp_path / "g"),
            "--key",
            str(tmp_path / "k.json"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "not an answer key" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "g").exists()


# -- predicted numbers, judged again outside the sandbox -------------------

PREDICT = next(e for e in EXERCISES if e.key == "02.1")


def predicted(returned=None, status="passed"):
    line = {"exercise": "02.1", "check": PREDICT.check, "status": status}
    if returned is not None:
        line["returned"] = returned
    return {"source": f"data_checks.{PREDICT.check}(f)", "results": [line]}


def test_the_questions_are_found_by_how_their_checks_call_the_answer():
    found = {e.key for e in EXERCISES if grader.question_check(e)}
    assert "02.1" in found and "02.2" not in found
    assert {e["exercise"] for e in KEY.values()} <= found
    assert len(found) >= 15


def test_a_question_s_check_records_what_the_answer_returned(
    tmp_path, monkeypatch
):
    from microgpt.course.checks import data

    results = tmp_path / "results.jsonl"
    monkeypatch.setenv(RESULTS_VAR, str(results))
    with pytest.raises(Exception):
        data.check_predictions(lambda: 15)
    [line] = [json.loads(x) for x in results.read_text().splitlines()]
    assert line["returned"] == [15.0] and line["status"] == "failed"


def test_a_predicted_number_is_judged_again_outside():
    right = grader.verdicts([predicted([16])], EXERCISES)["02.1"]
    assert right["status"] == "passed"
    wrong = grader.verdicts([predicted([15])], EXERCISES)["02.1"]
    assert wrong["status"] == "failed"
    assert wrong["message"].startswith("chapter 2, exercise 1: ")


@pytest.mark.parametrize("returned", [None, [], ["16", {"x": 1}], [[16]]])
def test_a_forged_pass_of_a_question_without_its_number_scores_nothing(
    returned,
):
    got = grader.verdicts([predicted(returned)], EXERCISES)["02.1"]
    assert got["status"] == "failed"


def test_a_failure_stands_as_the_sandbox_reported_it():
    got = grader.verdicts([predicted([16], "failed")], EXERCISES)["02.1"]
    assert got["status"] == "failed"


def test_the_teaching_page_counts_the_questions():
    found = [e for e in EXERCISES if grader.question_check(e)]
    page = " ".join(
        (ROOT / "book" / "appendix_teaching.md").read_text().split()
    )
    assert f"({len(found)} of the book's {len(EXERCISES)} exercises;" in page


def test_without_a_key_a_reader_is_told_who_judges(monkeypatch, capsys):
    monkeypatch.setattr(questions, "find_key", lambda: None)
    blocks.check_tiny_input(lambda: "a")
    said = capsys.readouterr().out
    assert "you chose (a); the answer key is not here" in said
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(Exception, match="no answer key"):
        blocks.check_tiny_input(lambda: "a")


def test_a_question_answered_with_a_pair_is_replayed(tmp_path, monkeypatch):
    from microgpt.course.checks import attention

    right = (
        attention._reference_changed(6, True),
        attention._reference_changed(6, False),
    )
    results = tmp_path / "results.jsonl"
    monkeypatch.setenv(RESULTS_VAR, str(results))
    attention.check_mask_changes(lambda: right)
    [line] = [json.loads(x) for x in results.read_text().splitlines()]
    monkeypatch.delenv(RESULTS_VAR)
    assert line["returned"] == [[float(x) for x in right]]
    cell = {"source": "check_mask_changes(f)", "results": [line]}
    assert grader.verdicts([cell], EXERCISES)["06.1"]["status"] == "passed"
    line["returned"] = [[right[0] + 1, right[1]]]
    assert grader.verdicts([cell], EXERCISES)["06.1"]["status"] == "failed"


def test_a_question_on_the_notebook_s_own_model_is_not_replayed():
    """10.1 asks about the model its notebook trained, which the grader
    does not have: its result is taken as the sandbox reports it."""
    [ex] = [e for e in EXERCISES if e.key == "10.1"]
    assert grader.question_check(ex) is None
