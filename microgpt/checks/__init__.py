"""Checks for the book's exercises: compare a solution with the package.

Each chapter has a module here (``microgpt.checks.autograd``, ...). A check
builds seeded inputs, runs the reader's function and the reference on them,
and raises ``CheckFailed`` saying which output differs, where, and by how
much. On success it prints one line and returns None.
"""

import math


class CheckFailed(AssertionError):
    """A solution disagrees with the reference."""


def _flatten(x, prefix=""):
    """(index string, float) pairs of a number, Value, or nested lists."""
    if hasattr(x, "tolist"):          # numpy arrays and torch tensors
        x = x.tolist()
    if hasattr(x, "data") and not isinstance(x, (list, tuple)):
        x = x.data                    # a scalar Value
    if isinstance(x, (list, tuple)):
        out = []
        for i, xi in enumerate(x):
            out.extend(_flatten(xi, f"{prefix}[{i}]"))
        return out
    return [(prefix, float(x))]


def check_close(what, got, expected, tol=1e-9):
    """Raise CheckFailed unless got matches expected within tol."""
    g, e = _flatten(got), _flatten(expected)
    if len(g) != len(e):
        raise CheckFailed(f"{what}: expected {len(e)} numbers, got {len(g)}")
    worst = None
    for (where, a), (_, b) in zip(g, e):
        err = abs(a - b) / max(1.0, abs(b))
        if math.isnan(a) or err > tol:
            if worst is None or not err <= worst[0]:
                worst = (err, where, a, b)
    if worst is not None:
        err, where, a, b = worst
        raise CheckFailed(f"{what}{where or ''}: got {a!r}, expected {b!r} "
                          f"(difference {abs(a - b):.3g}, tolerance {tol:g})")


def check_equal(what, got, expected):
    """Raise CheckFailed unless got == expected."""
    if got != expected:
        raise CheckFailed(f"{what}: got {got!r}, expected {expected!r}")


def raised(error):
    """'raised Name: message', still readable when the message is empty."""
    name = type(error).__name__
    if str(error):
        return f"raised {name}: {error}"
    # NOTE: an exercise left as its stub raises a bare NotImplementedError.
    if isinstance(error, NotImplementedError):
        return f"raised {name} (the exercise is not written yet)"
    return f"raised {name} (with no message)"


def passed(what):
    """Report a passing check."""
    print(f"✓ {what}: matches the reference")
