"""Checks for questions: a predicted number, or one choice out of a few.

A number is compared with what the package measures when the check runs,
within a tolerance the question states; a wrong number that a common
misunderstanding gives is named with a hint. A choice is compared with
the SHA-256 of the right letter and a salt of its own, so that the check
holds no answer a reader could read off; a wrong letter gets a hint that
points at the section to read again.
"""

import hashlib
import math
import numbers

from . import CheckFailed


def digest(salt, letter):
    """The SHA-256 a choice check holds for the right letter."""
    return hashlib.sha256(f"{salt}:{letter}".encode()).hexdigest()


def number(what, answer, truth, tol, mistakes=(),
           advice="run the experiment and look again"):
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
    if isinstance(got, bool) or not isinstance(got, numbers.Real) \
            or math.isnan(got):
        raise CheckFailed(f"{what}: expected a number, got {got!r}")
    got = float(got)
    if callable(truth):
        truth = truth()
    if abs(got - truth) <= tol:
        print(f"✓ {what}: {got:g} is right (measured {truth:.4g}, "
              f"tolerance {tol:g})")
        return
    for value, hint in mistakes:
        if abs(got - value) <= tol:
            raise CheckFailed(f"{what}: {got:g} is not it; {hint}")
    side = "too large" if got > truth else "too small"
    raise CheckFailed(f"{what}: {got:g} is {side} (tolerance {tol:g}); "
                      f"{advice}")


def choice(what, answer, salt, right, letters="abc", hints=None):
    """Check a chosen letter against the SHA-256 digest `right`.

    hints: a wrong letter's hint; "" for one that every wrong letter gets.
    """
    got = answer()
    letter = str(got).strip().strip("()").strip().lower() \
        if isinstance(got, str) else None
    if letter not in tuple(letters):
        options = ", ".join(f"'{x}'" for x in letters)
        raise CheckFailed(f"{what}: answer with one letter, {options}; "
                          f"got {got!r}")
    if digest(salt, letter) == right:
        print(f"✓ {what}: ({letter}) is right")
        return
    hints = hints or {}
    hint = hints.get(letter, hints.get("", ""))
    raise CheckFailed(f"{what}: not ({letter}){'; ' + hint if hint else ''}")
