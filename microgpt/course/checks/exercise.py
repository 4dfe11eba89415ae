"""What every exercise check does around its own comparisons.

A check module declares each of its checks with ``@exercise(number,
points, forbids=...)``. The decorator makes the check:

- name its exercise ("chapter 6, exercise 1") in every message;
- report an exercise that is not written yet (its stub raises
  ``NotImplementedError``) in one line and return, so that a notebook run
  top to bottom goes on to the end (under a grader it counts as failed);
  ``check.passed`` says whether its last run passed, for a cell that
  goes on to use the answer;
- grade honestly: while the answer runs, the package functions that would
  answer the exercise, and the check module's own ``_reference*``
  helpers, raise instead of answering;
- record its result, one JSON line, on the pipe whose descriptor
  ``MICROGPT_RESULTS_FD`` gives (microgpt.course.grade's runner), or in
  the file that ``MICROGPT_RESULTS`` names; and show a failure as one
  line in IPython.

``EXERCISES`` holds every declared exercise, in the book's order; the
points are stated here once, for both graders.
"""

import collections.abc
import functools
import json
import os
import sys
import types
from dataclasses import dataclass

from . import CheckFailed

RESULTS_VAR = "MICROGPT_RESULTS"
RESULTS_FD_VAR = "MICROGPT_RESULTS_FD"

# The check modules, in the book's order: chapter numbers.
CHAPTERS = {"intro": 1, "data": 2, "autograd": 3, "parameters": 4,
            "blocks": 5, "attention": 6, "transformer": 7, "loss": 8,
            "training": 9, "sampling": 10, "numpy_backward": 11,
            "pytorch": 12, "efficiency": 13, "capstone": 14,
            "generation": 15, "text": 16, "scaling": 17, "gpt2": 18,
            "data_parallel": 19}


@dataclass(frozen=True)
class Exercise:
    """One exercise: where it is, what it is worth, which check grades it."""

    chapter: int
    number: int
    points: int
    check: str          # the check function's name, as the notebook calls it

    @property
    def key(self):
        """A short id, "06.1", that sorts in the book's order."""
        return f"{self.chapter:02d}.{self.number}"

    def __str__(self):
        return f"chapter {self.chapter}, exercise {self.number}"


EXERCISES = []


class NotWritten(CheckFailed):
    """The answer is still the stub that raises NotImplementedError."""


class _Stub(BaseException):
    """The answer raised NotImplementedError (kept apart from Exception,
    so that no check's own error handling can take it for a wrong
    answer)."""


class UsedThePackage(BaseException):
    """A turned-off package function was called by the answer."""


def grading():
    """True under a grader: nbgrader's autograde or microgpt.course.grade."""
    return bool(os.environ.get("NBGRADER_EXECUTION")
                or os.environ.get(RESULTS_VAR)
            or os.environ.get(RESULTS_FD_VAR))


def _record(ex, status, message=""):
    fd, path = os.environ.get(RESULTS_FD_VAR), os.environ.get(RESULTS_VAR)
    if not (fd or path):
        return
    line = {"exercise": ex.key, "check": ex.check, "status": status,
            "points": ex.points if status == "passed" else 0,
            "message": message}
    if fd:
        os.write(int(fd), (json.dumps(line) + "\n").encode())
        return
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")


def _raiser(fn):
    """A code object with fn's name that raises UsedThePackage."""
    name = f"{fn.__module__}.{fn.__qualname__}"
    src = (f"def {fn.__name__}(*args, **kwargs):\n"
           f"    raise __import__({__name__!r}, fromlist=['_'])"
           f".UsedThePackage({name!r})\n")
    scope = {}
    exec(compile(src, f"<turned off: {name}>", "exec"), scope)
    return scope[fn.__name__].__code__


def _attribute_raiser(owner, name):
    """A function that raises UsedThePackage naming owner.name."""
    where = getattr(owner, "__name__", type(owner).__name__)

    def off(*args, **kwargs):
        raise UsedThePackage(f"{where}.{name}")
    return off


class _TurnedOff:
    """While active, each function given raises UsedThePackage.

    It swaps the Python functions' code, so that every reference to them,
    however imported, is caught. A built-in (a C function such as
    torch.logsumexp, or a tensor method) has no code to swap: it is given
    as (owner, "name"), and the attribute is replaced while active.
    """

    def __init__(self, functions):
        self.attributes = [f for f in functions if isinstance(f, tuple)]
        functions = [f for f in functions if not isinstance(f, tuple)]
        for fn in functions:
            if fn.__code__.co_freevars:
                raise TypeError(f"cannot turn off {fn.__qualname__}: "
                                "it is a closure")
        self.functions = [(fn, fn.__code__, _raiser(fn))
                          for fn in functions]

    def __enter__(self):
        for fn, _, off in self.functions:
            fn.__code__ = off
        self.saved = [(owner, name, owner.__dict__.get(name, _MISSING))
                      for owner, name in self.attributes]
        for owner, name in self.attributes:
            setattr(owner, name, _attribute_raiser(owner, name))

    def __exit__(self, *exc):
        for fn, code, _ in self.functions:
            fn.__code__ = code
        for owner, name, value in reversed(self.saved):
            if value is _MISSING:   # inherited: the class's own goes again
                delattr(owner, name)
            else:
                setattr(owner, name, value)


_MISSING = object()


def _guarded(answer, turned_off):
    """The answer, run with the package's own versions turned off."""
    if not callable(answer):
        raise CheckFailed(f"expected a function, got "
                          f"{type(answer).__name__}")

    @functools.wraps(answer)
    def run(*args, **kwargs):
        try:
            with turned_off:
                out = answer(*args, **kwargs)
                # A generator (or map, zip, ...) runs only when it is
                # read: read it here, while the package's own versions are
                # still turned off.
                if isinstance(out, collections.abc.Iterator):
                    out = list(out)
                if out is None:
                    run.returned_none = True
                return out
        except NotImplementedError as e:
            raise _Stub() from e
        except Exception as e:
            e._from_the_answer = True   # not the check's own stumble
            raise
    run.returned_none = False
    return run


def _forgot_return(guarded):
    """A hint when the answer returned None: it may lack a return."""
    if getattr(guarded, "returned_none", False):
        return " (your function returned None: did you forget `return`?)"
    return ""


def _show_as_one_line(error):
    # IPython prints what _render_traceback_ returns instead of a traceback.
    error._render_traceback_ = lambda: [f"✗ {error}"]
    return error


def exercise(number, points, forbids=()):
    """Declare a check as the check of exercise `number` of its chapter."""
    def declare(check):
        module = sys.modules[check.__module__]
        ex = Exercise(CHAPTERS[module.__name__.rsplit(".", 1)[1]], number,
                      points, check.__name__)
        EXERCISES.append(ex)

        @functools.wraps(check)
        def run(answer, *args, **kwargs):
            run.passed = False
            # The module's helpers, once it has defined them all.
            references = [f for name, f in vars(module).items()
                          if name.startswith("_reference")
                          and isinstance(f, types.FunctionType)]
            turned_off = _TurnedOff(list(forbids) + references)
            guarded = None
            try:
                guarded = _guarded(answer, turned_off)
                check(guarded, *args, **kwargs)
            except _Stub:
                message = f"{ex} is not written yet"
                _record(ex, "not written", message)
                if grading():
                    raise _show_as_one_line(NotWritten(message)) from None
                print(f"… {message}")
                return
            except UsedThePackage as e:
                message = (f"{ex}: your answer calls {e.args[0]}, which "
                           "is what the exercise asks you to write; the "
                           "check turns it off while it grades")
                _record(ex, "failed", message)
                raise _show_as_one_line(CheckFailed(message)) from None
            except CheckFailed as e:
                message = f"{ex}: {e}{_forgot_return(guarded)}"
                _record(ex, "failed", message)
                raise _show_as_one_line(CheckFailed(message)) from None
            except Exception as e:
                what = ("your answer raised"
                        if getattr(e, "_from_the_answer", False) else
                        "the check could not use what your answer "
                        "returned:")
                message = (f"{ex}: {what} {type(e).__name__}: {e}"
                           f"{_forgot_return(guarded)}")
                _record(ex, "failed", message)
                raise _show_as_one_line(CheckFailed(message)) from e
            _record(ex, "passed")
            run.passed = True
        run.exercise, run.passed = ex, False
        return run
    return declare


def all_exercises():
    """Every exercise of the book, in its order (imports every check)."""
    import importlib
    for name in CHAPTERS:
        importlib.import_module(f"{__package__}.{name}")
    return sorted(EXERCISES, key=lambda e: (e.chapter, e.number))
