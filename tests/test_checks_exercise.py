"""What every exercise check does: stubs, honest grading, results, hints."""

import importlib
import json
import math
from pathlib import Path

import pytest
import torch

from microgpt import gpt_scalar, gpt_torch
from microgpt.config import ModelConfig
from microgpt.course.checks import CheckFailed, check_close
from microgpt.course.checks.exercise import (
    CHAPTERS,
    EXERCISES,
    RESULTS_VAR,
    AnswerRaised,
    NotWritten,
    all_exercises,
    exercise,
)
from microgpt.data import Tokenizer
from microgpt.engine import Value, topological_order
from microgpt.params import num_params
from microgpt.train import lr_at, train

MODULES = {
    name: importlib.import_module(f"microgpt.course.checks.{name}")
    for name in CHAPTERS
}
# Exercises per chapter, in the book.
COUNTS = {
    1: 3,
    2: 4,
    3: 4,
    4: 4,
    5: 4,
    6: 4,
    7: 4,
    8: 5,
    9: 5,
    10: 4,
    11: 5,
    12: 5,
    13: 5,
    14: 3,
    15: 3,
    16: 4,
    17: 4,
    18: 4,
    19: 1,
}


@pytest.fixture(autouse=True)
def not_grading(monkeypatch):
    """A learner's notebook: no grader's variables set."""
    monkeypatch.delenv(RESULTS_VAR, raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)


def results(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def check_of(key):
    """The check function of exercise key ("06.1")."""
    ex = next(e for e in all_exercises() if e.key == key)
    name = next(n for n, c in CHAPTERS.items() if c == ex.chapter)
    return getattr(MODULES[name], ex.check)


# -- the registry -----------------------------------------------------------


def test_every_exercise_is_registered_in_book_order():
    keys = [ex.key for ex in all_exercises()]
    assert keys == [
        f"{c:02d}.{n}" for c in sorted(COUNTS) for n in range(1, COUNTS[c] + 1)
    ]
    total = sum(COUNTS.values())
    assert len(keys) == total and len(EXERCISES) == total  # no doubles
    assert all(ex.points > 0 for ex in all_exercises())


@pytest.mark.parametrize("name", CHAPTERS)
def test_every_check_of_a_module_is_an_exercise(name):
    module = MODULES[name]
    checks = {
        n: f
        for n, f in vars(module).items()
        if n.startswith("check_")
        and getattr(f, "__module__", "") == module.__name__
    }
    assert checks and all(f.exercise.check == n for n, f in checks.items())
    assert {f.exercise.chapter for f in checks.values()} == {CHAPTERS[name]}


# -- an unwritten exercise ----------------------------------------------------


def stub(*args, **kwargs):
    raise NotImplementedError


def _helpers_used(module, name):
    """The module's reference helpers that its function `name` calls,
    directly or through the module's other functions (read from the
    source, so that the test does not rely on the decorator)."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(module))
    funcs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    seen, todo = set(), [name]
    while todo:
        for node in ast.walk(funcs[todo.pop()]):
            if (
                isinstance(node, ast.Name)
                and node.id in funcs
                and node.id not in seen
            ):
                seen.add(node.id)
                todo.append(node.id)
    return {n for n in seen if n.startswith("_reference")}


@pytest.mark.parametrize("key", [ex.key for ex in all_exercises()])
def test_each_check_forbids_the_reference_helpers_it_calls(key):
    check = check_of(key)
    module = MODULES[check.__module__.rsplit(".", 1)[1]]
    declared = {getattr(f, "__name__", "") for f in check.forbids}
    assert _helpers_used(module, check.__name__) <= declared


def test_what_is_turned_off_is_what_is_declared_not_a_name_prefix():
    def _reference_looks_like_one(x):
        return x

    def answers_it(x):
        return x

    import microgpt.course.checks.data as home

    def check(answer):
        assert answer(1) == 1

    check.__module__ = home.__name__
    declared = exercise(99, points=0, forbids=(answers_it,))(check)
    EXERCISES.remove(declared.exercise)
    declared(_reference_looks_like_one)  # not declared: it answers
    with pytest.raises(CheckFailed, match="your answer calls"):
        declared(answers_it)


@pytest.mark.parametrize("key", [ex.key for ex in all_exercises()])
def test_a_stub_prints_one_line_with_every_reference_turned_off(key, capsys):
    check = check_of(key)
    seen = []

    def answer(*args, **kwargs):
        seen.extend(
            f.__code__.co_filename
            for f in check.forbids
            if hasattr(f, "__code__")
        )
        raise NotImplementedError("write it")

    assert check_of(key)(answer) is None
    chapter, number = (int(x) for x in key.split("."))
    assert capsys.readouterr().out == (
        f"… chapter {chapter}, exercise {number} is not written yet\n"
    )
    assert all(f.startswith("<turned off") for f in seen)


def test_a_stub_under_the_grader_fails_and_is_recorded(tmp_path, monkeypatch):
    path = tmp_path / "results.jsonl"
    monkeypatch.setenv(RESULTS_VAR, str(path))
    with pytest.raises(
        NotWritten,
        match=r"^chapter 5, exercise 2 is not "
        r"written yet$",
    ):
        check_of("05.2")(stub)
    assert results(path) == [
        {
            "exercise": "05.2",
            "check": "check_linear_in_out",
            "status": "not written",
            "points": 0,
            "message": "chapter 5, exercise 2 is not written yet",
        }
    ]


def test_a_stub_under_nbgrader_fails(monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(NotWritten):
        check_of("08.1")(stub)


# -- honest grading -----------------------------------------------------------


def head(q, keys, values, window=None):
    if window:
        keys, values = keys[-window:], values[-window:]
    return gpt_scalar.attention(
        q, keys, values, ModelConfig(n_embd=len(q), n_head=1)
    )


def yielded_order(root):
    yield from topological_order(root)  # runs only when it is read


FORBIDDEN = [
    (
        "02.2",
        lambda ids, chars: Tokenizer(tuple(chars)).decode(ids),
        "microgpt.data.Tokenizer.decode",
    ),
    ("03.4", topological_order, "microgpt.engine.topological_order"),
    ("03.4", yielded_order, "microgpt.engine.topological_order"),
    ("04.2", num_params, "microgpt.params.num_params"),
    ("06.2", head, "microgpt.gpt_scalar.attention"),
    ("07.3", gpt_scalar.gpt, "microgpt.gpt_scalar.gpt"),
    (
        "08.5",
        lambda params, tokens, cfg: gpt_scalar.batch_loss(
            params, [tokens], cfg
        ),
        "microgpt.gpt_scalar.batch_loss",
    ),
    ("09.5", train, "microgpt.train.train"),
    (
        "09.5",
        lambda impl, params, docs, tok, cfg, tcfg: [
            lr_at(s, tcfg) for s in range(tcfg.num_steps)
        ],
        "microgpt.train.lr_at",
    ),
    ("12.5", gpt_torch.attention, "microgpt.gpt_torch.attention"),
]


@pytest.mark.parametrize("key, answer, name", FORBIDDEN)
def test_an_answer_calling_the_package_fails_naming_it(key, answer, name):
    chapter, number = (int(x) for x in key.split("."))
    with pytest.raises(
        CheckFailed,
        match=rf"^chapter {chapter}, exercise "
        rf"{number}: your answer calls {name}, which is what "
        rf"the exercise asks you to write; the check turns "
        rf"it off while it grades$",
    ):
        check_of(key)(answer)
    # and the function is itself again
    module, _, rest = name.partition(".")
    obj = importlib.import_module(module)
    for part in rest.split("."):
        obj = getattr(obj, part)
    assert not obj.__code__.co_filename.startswith("<turned off")


REFERENCES = [
    ("05.3", "blocks", "_reference_log_softmax"),
    ("06.3", "attention", "_reference_weights"),
    ("08.3", "loss", "_reference_cross_entropy"),
    ("11.5", "numpy_backward", "_reference_softmax_backward"),
    ("12.2", "pytorch", "_reference_mask"),
    ("13.3", "efficiency", "_reference_padding_weights"),
]


@pytest.mark.parametrize("key, module, helper", REFERENCES)
def test_an_answer_calling_a_reference_helper_fails(key, module, helper):
    with pytest.raises(
        CheckFailed,
        match=rf"your answer calls microgpt\."
        rf"course\.checks\.{module}\.{helper}, which is "
        rf"what",
    ):
        check_of(key)(getattr(MODULES[module], helper))


def test_the_package_works_again_after_every_outcome(capsys):
    code = gpt_scalar.attention.__code__
    q = [Value(0.5), Value(-1.0)]
    before = head(q, [q], [q])

    def wrong(q, keys, values, window):
        return [x * 2 for x in head(q, keys, values, window)]

    def raises(q, keys, values, window):
        raise TypeError("no")

    for answer in (head, wrong, raises):  # each one fails
        with pytest.raises(CheckFailed):
            check_of("06.2")(answer)
        assert gpt_scalar.attention.__code__ is code
    check_of("06.2")(stub)  # not written
    assert gpt_scalar.attention.__code__ is code
    assert [v.data for v in head(q, [q], [q])] == [v.data for v in before]


def test_an_answer_s_exception_is_wrapped_in_answer_raised():
    error = TypeError("unsupported operand")

    def broken(v):
        raise error

    with pytest.raises(AnswerRaised) as info:
        check_of("03.2")(broken)
    assert info.value.error is error and info.value.__cause__ is error
    assert info.value.call.startswith("broken(")
    assert not hasattr(error, "_from_the_answer")
    assert info.value._render_traceback_() == [f"✗ {info.value}"]


def test_an_exception_in_the_answer_is_reported_as_its_own():
    def broken(v):
        raise TypeError("unsupported operand")

    with pytest.raises(
        CheckFailed,
        match=r"^chapter 3, exercise 2: your "
        r"answer raised TypeError: unsupported operand, called as "
        r"broken\(Value\(-?\d[^,]*\)\)$",
    ):
        check_of("03.2")(broken)


def test_an_answer_that_is_not_a_function_fails():
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 1, exercise 1: "
        r"expected a function, got int$",
    ):
        check_of("01.1")(42)


# -- results and display ------------------------------------------------------


def test_a_passing_check_records_its_points(tmp_path, monkeypatch, capsys):
    path = tmp_path / "results.jsonl"
    monkeypatch.setenv(RESULTS_VAR, str(path))
    check_of("01.1")(
        lambda docs: {ch: "".join(docs).count(ch) for ch in set("".join(docs))}
    )
    with pytest.raises(CheckFailed):
        check_of("01.2")(lambda docs: {})
    passed, failed = results(path)
    assert passed == {
        "exercise": "01.1",
        "check": "check_letter_counts",
        "status": "passed",
        "points": 1,
        "message": "✓ letter_counts: matches the reference",
    }
    assert failed["status"] == "failed" and failed["points"] == 0
    assert failed["message"].startswith(
        "chapter 1, exercise 2: length counts of random docs #0"
    )
    assert "✓ letter_counts" in capsys.readouterr().out


@pytest.mark.parametrize("answer", [head, stub, lambda q, k, v, w: q])
def test_a_failure_shows_as_one_line_in_ipython(answer, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(CheckFailed) as info:
        check_of("06.2")(answer)
    lines = info.value._render_traceback_()
    assert lines == [f"✗ {info.value}"] and "\n" not in lines[0]
    assert str(info.value).startswith("chapter 6, exercise 2")


# -- check_close: where, how much, and which mistake --------------------------


def test_check_close_names_the_first_difference_not_the_worst():
    with pytest.raises(
        CheckFailed,
        match=r"^loss at step 12: got 1\.5, "
        r"expected 1\.0 \(difference 0\.5, tolerance 1e-09\); 2 of 13 "
        r"numbers differ, also at step 13: got 9\.0 \(expected 1\.0\)$",
    ):
        check_close(
            "loss",
            [1.0] * 11 + [1.5, 9.0],
            [1.0] * 13,
            axes=("step",),
            first=1,
        )


def test_check_close_shows_every_wrong_number_up_to_four_more():
    with pytest.raises(
        CheckFailed,
        match=r"^x at index 0: got 1\.0, expected 0\.0 \(difference 1, "
        r"tolerance 1e-09\); 7 of 8 numbers differ, also at index 1: got "
        r"2\.0 \(expected 0\.0\), at index 2: .*, at index 3: .*, at index "
        r"4: got 5\.0 \(expected 0\.0\) and 2 more$",
    ):
        check_close("x", [1, 2, 3, 4, 5, 6, 7, 0], [0] * 8)


def test_check_close_names_rows_and_columns_or_indices():
    with pytest.raises(CheckFailed, match=r"^w at row 0, column 2: got 3"):
        check_close(
            "w", [[0, 0, 3], [0, 0, 0]], [[0] * 3] * 2, axes=("row", "column")
        )
    with pytest.raises(CheckFailed, match=r"^v at index 3: got"):
        check_close("v", torch.tensor([0.0, 0, 0, 1]), [0, 0, 0, 0])


def test_check_close_names_a_mistake_only_when_it_fits():
    expected = [1.0, 2.0]
    halved = [x / math.sqrt(2) for x in expected]
    mistakes = {"a missing square root": halved}
    with pytest.raises(
        CheckFailed,
        match=r"; this is what a missing square "
        r"root gives$",
    ) as named:
        check_close("out", halved, expected, mistakes=mistakes)
    assert named.value.mistake == "a missing square root"
    with pytest.raises(
        CheckFailed, match=r"tolerance 1e-09\); 2 of 2 numbers differ"
    ) as plain:
        check_close("out", [0.0, 0.0], expected, mistakes=mistakes)
    assert plain.value.mistake is None


def test_check_close_ignores_a_mistake_that_changes_nothing_here():
    # one key weighs 1 whatever the scale: no hint about the scale
    with pytest.raises(CheckFailed, match=r"tolerance 1e-12\)$"):
        check_close(
            "out",
            [1.0 + 1e-10],
            [1.0],
            tol=1e-12,
            mistakes={"a missing square root": [1.0]},
        )


def test_a_check_says_whether_its_last_run_passed(capsys):
    from microgpt.course.checks import intro

    def stub(docs):
        raise NotImplementedError

    def counts(docs):
        out = {}
        for ch in "".join(docs):
            out[ch] = out.get(ch, 0) + 1
        return out

    assert intro.check_letter_counts(counts) is None
    assert intro.check_letter_counts.passed is True
    assert intro.check_letter_counts(stub) is None
    assert intro.check_letter_counts.passed is False


def test_the_readme_states_how_many_exercises_and_points():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(
        encoding="utf-8"
    )
    exercises = all_exercises()
    stated = " ".join(readme.split())
    assert (
        f"{len(exercises)} exercises, "
        f"{sum(e.points for e in exercises)} points in all"
    ) in stated


# -- in a notebook: a ✗ does not stop Run All ---------------------------------


class _Kernel:
    """Stands for IPython's module while a kernel runs."""

    @staticmethod
    def get_ipython():
        return object()


def test_a_failure_in_a_notebook_prints_its_line_and_returns(
    monkeypatch, capsys
):
    import sys

    monkeypatch.setitem(sys.modules, "IPython", _Kernel)
    check = check_of("06.2")
    assert check(lambda q, k, v, w: q) is None
    err = capsys.readouterr().err
    assert err.startswith("✗ chapter 6, exercise 2: head output")
    assert err.count("\n") == 1 and check.passed is False


def test_a_failure_under_a_grader_still_raises_in_a_kernel(
    monkeypatch, tmp_path
):
    import sys

    monkeypatch.setitem(sys.modules, "IPython", _Kernel)
    monkeypatch.setenv(RESULTS_VAR, str(tmp_path / "results.jsonl"))
    with pytest.raises(CheckFailed, match="^chapter 6, exercise 2: "):
        check_of("06.2")(lambda q, k, v, w: q)


def test_the_brief_call_shows_few_values_and_sizes_of_many():
    import numpy as np

    from microgpt.course.checks.exercise import _call_shown

    def f():
        pass

    shown = _call_shown(
        f,
        ([1.5, 2], np.zeros((3, 4)), {"a": 1}, list(range(40)), Value(0.25)),
        {"k": "x"},
    )
    assert shown == (
        "f([1.5, 2], ndarray of shape (3, 4), a dict of 1 entries, "
        "a list of 40 items, Value(0.25), k='x')"
    )
