"""Checks for questions: a predicted number, or one choice out of a few.

A number is compared with what the package measures when the check runs,
within a tolerance the question states; a wrong number that a common
misunderstanding gives is named with a hint. A choice is compared with
the answer key, a file beside the package in the book's repository
(KEY_FILE) that is not part of the installed package: the package holds
no answer, nor a hint that only the wrong letters get. Under the book's
grader the check only records the letter, and the grader compares it
with the instructor's key outside the sandbox; where no key is found, a
reader's self-check says which letter was chosen and leaves the verdict
to the chapter's worked answer.
"""

import json
import math
import numbers
import os
from pathlib import Path

from ...repository import in_clone
from . import CheckFailed

KEY_FILE = "answer_key.json"


def find_key():
    """The answer key of the repository this package runs from, or None
    (an installed package, or the grader's sandbox, has none)."""
    path = in_clone(KEY_FILE)
    return path if path is not None and path.is_file() else None


def load_key(path):
    """The questions of the answer key at path: {question: entry}, each
    entry {"exercise", "answer", "hints"}."""
    return json.loads(Path(path).read_text(encoding="utf-8"))["questions"]


def number(
    what,
    answer,
    truth,
    tol,
    mistakes=(),
    advice=(
        "work it out again from the chapter; once you have answered, a "
        "cell of your own that computes it shows the number"
    ),
):
    """Check a predicted number against the measured truth.

    answer: the reader's function, returning the number. truth: the value
    measured now, or a function that measures it (called after the
    answer, so that an unwritten one costs nothing). tol: the largest
    difference accepted (absolute).
    mistakes: (value, hint) pairs; an answer within tol of a value, and not
    of the truth, gets its hint. advice: what a wrong answer that matches
    no mistake is told to do, for a number the reader can also work out
    rather than measure.
    """
    got = answer()
    if (
        isinstance(got, bool)
        or not isinstance(got, numbers.Real)
        or math.isnan(got)
    ):
        raise CheckFailed(f"{what}: expected a number, got {got!r}")
    got = float(got)
    if callable(truth):
        truth = truth()
    if abs(got - truth) <= tol:
        print(
            f"✓ {what}: {got:g} is right (measured {truth:.4g}, "
            f"tolerance {tol:g})"
        )
        return
    for value, hint in mistakes:
        if abs(got - value) <= tol:
            raise CheckFailed(f"{what}: {got:g} is not it; {hint}")
    side = "too large" if got > truth else "too small"
    if tol < 1 and float(truth).is_integer() and abs(got - truth) == 1:
        # A count one away from the truth: a fencepost, most likely.
        side = (
            f"one too {'many' if got > truth else 'few'}, an "
            "off-by-one: count where the counting starts and where it "
            "stops"
        )
    raise CheckFailed(
        f"{what}: {got:g} is {side} (tolerance {tol:g}); {advice}"
    )


def choice(what, answer, question, letters="abc", hint=""):
    """Check a chosen letter against the answer key's entry `question`.

    hint: what every wrong letter is told (the key may hold a hint of
    its own for a letter).
    """
    got = answer()
    letter = (
        str(got).strip().strip("()").strip().lower()
        if isinstance(got, str)
        else None
    )
    if letter not in tuple(letters):
        options = ", ".join(f"'{x}'" for x in letters)
        raise CheckFailed(
            f"{what}: answer with one letter, {options}; got {got!r}"
        )
    from .exercise import RESULTS_FD_VAR, RESULTS_VAR, chose

    if os.environ.get(RESULTS_FD_VAR) or os.environ.get(RESULTS_VAR):
        # Under a grader the choice is recorded, and the grader, which
        # holds the answer key, marks it.
        chose(question, letter, hint)
        print(f"… {what}: ({letter}) recorded for the grader")
        return
    key = find_key()
    if key is None:
        if os.environ.get("NBGRADER_EXECUTION"):
            raise CheckFailed(
                f"{what}: no answer key ({KEY_FILE}) here "
                "to grade the choice with"
            )
        print(
            f"… {what}: you chose ({letter}); the answer key is not "
            "here, so the grader (or the book's worked answer) says "
            "whether it is right"
        )
        return
    verdict = judge(load_key(key)[question], letter, hint)
    if verdict is None:
        print(f"✓ {what}: ({letter}) is right")
        return
    raise CheckFailed(f"{what}: {verdict}")


def judge(entry, letter, hint=""):
    """None if letter is the key entry's answer; else what to tell."""
    if letter == entry["answer"]:
        return None
    hint = entry.get("hints", {}).get(letter, hint)
    return f"not ({letter}){'; ' + hint if hint else ''}"
