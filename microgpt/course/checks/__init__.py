"""Checks for the book's exercises: compare a solution with the package.

Each chapter has a module here (``microgpt.course.checks.autograd``,
...). A check builds seeded inputs, runs the reader's function and the
reference on them, and raises ``CheckFailed`` saying which output
differs first, where, by how much, and, for a common mistake, which one
it looks like. On success
it prints one line and returns None. What every check does besides (an
unwritten exercise, the package's own answer turned off, results for a
grader) is in :mod:`microgpt.course.checks.exercise`.
"""

import math


class CheckFailed(AssertionError):
    """A solution disagrees with the reference.

    mistake names the typical mistake the answer matches, when a check
    recognised one (the message says so too), else None.
    """

    def __init__(self, message, mistake=None):
        super().__init__(message)
        self.mistake = mistake

    def _render_traceback_(self):
        # IPython shows what this returns in place of a traceback.
        return [f"✗ {self}"]


def _flatten(x, index=()):
    """(index tuple, float) pairs of a number, Value, or nested lists."""
    if hasattr(x, "tolist"):  # numpy arrays and torch tensors
        x = x.tolist()
    if hasattr(x, "data") and not isinstance(x, (list, tuple)):
        x = x.data  # a scalar Value
    if isinstance(x, (list, tuple)):
        out = []
        for i, xi in enumerate(x):
            out.extend(_flatten(xi, index + (i,)))
        return out
    return [(index, float(x))]


def _where(index, axes, first):
    """An index in the learner's words: "step 12", "row 0, column 2"."""
    if not index:
        return ""
    names = list(axes or ()) + ["index"] * len(index)
    parts = [
        f"{name} {i + (first if k == 0 else 0)}"
        for k, (name, i) in enumerate(zip(names, index))
    ]
    return " at " + ", ".join(parts)


def _differs(a, b, tol):
    return math.isnan(a) or abs(a - b) / max(1.0, abs(b)) > tol


def check_close(
    what, got, expected, tol=1e-9, axes=None, first=0, mistakes=None
):
    """Raise CheckFailed unless got matches expected within tol.

    The message names the first element that differs, by position along
    `axes` (say ("row", "column"); the first axis counted from `first`),
    and by how much, then the next few that differ and how many do.
    `mistakes` maps a likely mistake ("a missing square root in the
    scale") to what it would give; when got matches one, the
    message names it.
    """
    g, e = _flatten(got), _flatten(expected)
    if len(g) != len(e):
        raise CheckFailed(f"{what}: expected {len(e)} numbers, got {len(g)}")
    off = [
        (index, a, b)
        for (index, a), (_, b) in zip(g, e)
        if _differs(a, b, tol)
    ]
    if not off:
        return
    index, a, b = off[0]
    hint, matched = "", None
    for mistake, wrong in (mistakes or {}).items():
        w = _flatten(wrong)
        # A mistake that gives the expected output here (one key
        # weighs 1 whatever the scale) tells nothing about this answer.
        if (
            len(w) == len(g)
            and not any(_differs(x, y, 1e-9) for (_, x), (_, y) in zip(g, w))
            and any(_differs(y, z, 1e-9) for (_, y), (_, z) in zip(w, e))
        ):
            hint, matched = f"; this is what {mistake} gives", mistake
            break
    raise CheckFailed(
        f"{what}{_where(index, axes, first)}: got {a!r}, "
        f"expected {b!r} (difference {abs(a - b):.3g}, "
        f"tolerance {tol:g}){_others(off, len(g), axes, first)}"
        f"{hint}",
        matched,
    )


def _others(off, total, axes, first, shown=4):
    """The differing elements after the first, so that a reader sees
    every wrong number at once (the next few, then how many more)."""
    if len(off) < 2:
        return ""
    more = [
        f"{_where(i, axes, first).strip()}: got {a!r} (expected {b!r})"
        for i, a, b in off[1 : 1 + shown]
    ]
    rest = len(off) - 1 - len(more)
    return (
        f"; {len(off)} of {total} numbers differ, also "
        + ", ".join(more)
        + (f" and {rest} more" if rest else "")
    )


def check_equal(what, got, expected):
    """Raise CheckFailed unless got == expected."""
    if got != expected:
        raise CheckFailed(f"{what}: got {got!r}, expected {expected!r}")


def raised(error):
    """'raised Name: message', still readable when the message is empty,
    and with the call that raised it when the reader's answer did."""
    name = type(error).__name__
    from .exercise import answer_call  # a check calls this, not an import

    call = answer_call(error)
    where = f", called as {call}" if call else ""
    if str(error):
        return f"raised {name}: {error}{where}"
    return f"raised {name} (with no message){where}"


def passed(what):
    """Report a passing check."""
    print(f"✓ {what}: matches the reference")
