"""What every exercise check does around its own comparisons.

A check module declares each of its checks with ``@exercise(number,
points, forbids=...)``. The decorator makes the check:

- name its exercise ("chapter 6, exercise 1") in every message;
- report an exercise that is not written yet (its stub raises
  ``NotImplementedError``) in one line and return, so that a notebook run
  top to bottom goes on to the end (under a grader it counts as failed);
  ``check.passed`` says whether its last run passed, for a cell that
  goes on to use the answer;
- grade honestly: while the answer runs, the functions the check
  declares in ``forbids`` (the package's own that would answer the
  exercise, and the check module's reference helpers) raise instead of
  answering;
- record its result, one JSON line, on the pipe whose descriptor
  ``MICROGPT_RESULTS_FD`` gives (microgpt.course.grade's runner), or in
  the file that ``MICROGPT_RESULTS`` names, with the check's ✓ line when
  it passed, and, for a question (an answer that takes no inputs), what
  the answer returned and the letter chosen, which the grader judges
  again outside the sandbox;
- show a failure as one line "✗ ...". In a notebook run by no grader it
  prints that line and returns, so that Run All goes on to the end and
  shows every check's verdict, as a grader's run does; under a grader,
  and outside IPython (a test), it raises ``CheckFailed``; for an
  exception of the answer's that the check does not handle itself, its
  subclass ``AnswerRaised``, whose message shows the call, with its
  inputs in brief.

``EXERCISES`` holds every declared exercise, in the book's order; the
points are stated here once, for both graders.
"""

import collections.abc
import contextlib
import functools
import json
import numbers
import os
import sys
from dataclasses import dataclass

from . import CheckFailed

RESULTS_VAR = "MICROGPT_RESULTS"
RESULTS_FD_VAR = "MICROGPT_RESULTS_FD"

# The check modules, in the book's order: chapter numbers.
CHAPTERS = {
    "intro": 1,
    "data": 2,
    "autograd": 3,
    "parameters": 4,
    "blocks": 5,
    "attention": 6,
    "transformer": 7,
    "loss": 8,
    "training": 9,
    "sampling": 10,
    "numpy_backward": 11,
    "pytorch": 12,
    "efficiency": 13,
    "data_parallel": 14,
    "generation": 15,
    "text": 16,
    "scaling": 17,
    "gpt2": 18,
    "capstone": 19,
}


@dataclass(frozen=True)
class Exercise:
    """One exercise: where it is, what it is worth, which check grades it."""

    chapter: int
    number: int
    points: int
    check: str  # the check function's name, as the notebook calls it

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
    return bool(
        os.environ.get("NBGRADER_EXECUTION")
        or os.environ.get(RESULTS_VAR)
        or os.environ.get(RESULTS_FD_VAR)
    )


# The letters chosen in the check that runs now: (question, letter, hint)
# for the grader to compare with its answer key.
_CHOSEN = []
# What the answer returned in the check that runs now, call by call, when
# every call took no arguments and returned numbers or a string: a grader
# can run the check again outside the sandbox on these values.
_RETURNED = []


def _plain(value, depth=0):
    """value as JSON's number or string, or a short list of them (a
    tuple too), or _MISSING if it is none of these."""
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (list, tuple)) and depth < 2 and len(value) <= 64:
        items = [_plain(v, depth + 1) for v in value]
        return _MISSING if _MISSING in items else items
    return _MISSING


def chose(question, letter, hint=""):
    """Note a choice question's letter, for the grader to judge."""
    _CHOSEN.append([question, letter, hint])


def _record(ex, status, message=""):
    fd, path = os.environ.get(RESULTS_FD_VAR), os.environ.get(RESULTS_VAR)
    if not (fd or path):
        return
    line = {
        "exercise": ex.key,
        "check": ex.check,
        "status": status,
        "points": ex.points if status == "passed" else 0,
        "message": message,
    }
    if _CHOSEN:
        line["choices"] = list(_CHOSEN)
    if _RETURNED and _MISSING not in _RETURNED:
        line["returned"] = list(_RETURNED)
    if fd:
        os.write(int(fd), (json.dumps(line) + "\n").encode())
        return
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")


def _raiser(fn):
    """A code object with fn's name that raises UsedThePackage."""
    name = f"{fn.__module__}.{fn.__qualname__}"
    src = (
        f"def {fn.__name__}(*args, **kwargs):\n"
        f"    raise __import__({__name__!r}, fromlist=['_'])"
        f".UsedThePackage({name!r})\n"
    )
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
                raise TypeError(
                    f"cannot turn off {fn.__qualname__}: it is a closure"
                )
        self.functions = [(fn, fn.__code__, _raiser(fn)) for fn in functions]

    def __enter__(self):
        for fn, _, off in self.functions:
            fn.__code__ = off
        self.saved = [
            (owner, name, owner.__dict__.get(name, _MISSING))
            for owner, name in self.attributes
        ]
        for owner, name in self.attributes:
            setattr(owner, name, _attribute_raiser(owner, name))

    def __exit__(self, *exc):
        for fn, code, _ in self.functions:
            fn.__code__ = code
        for owner, name, value in reversed(self.saved):
            if value is _MISSING:  # inherited: the class's own goes again
                delattr(owner, name)
            else:
                setattr(owner, name, value)


_MISSING = object()


def _guarded(answer, turned_off):
    """The answer, run with the package's own versions turned off."""
    if not callable(answer):
        raise CheckFailed(f"expected a function, got {type(answer).__name__}")

    @functools.wraps(answer)
    def run(*args, **kwargs):
        # Described before the call, since an answer may change its inputs.
        call = _call_shown(answer, args, kwargs)
        try:
            with turned_off:
                out = answer(*args, **kwargs)
                _RETURNED.append(_MISSING if args or kwargs else _plain(out))
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
            # Kept, so that the check's verdict can tell the answer's
            # error from the check's own stumble.
            _ANSWER_ERRORS.append((e, call))
            raise

    run.returned_none = False
    return run


def _brief(x, depth=0):
    """A short description of one input: its values when they are few,
    else its type and size."""
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return f"{type(x).__name__} of shape {tuple(x.shape)}"
    if isinstance(x, dict):
        return f"a dict of {len(x)} entries"
    if isinstance(x, (list, tuple)):
        if depth >= 2 or len(x) > 12:
            return f"a {type(x).__name__} of {len(x)} items"
        inner = ", ".join(_brief(i, depth + 1) for i in x)
        return f"[{inner}]" if isinstance(x, list) else f"({inner})"
    if hasattr(x, "data") and hasattr(x, "grad"):
        return f"Value({_brief(x.data, depth + 1)})"
    shown = repr(x)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _call_shown(answer, args, kwargs):
    """How the check called the answer: name(inputs), briefly."""
    parts = [_brief(a) for a in args]
    parts += [f"{k}={_brief(v)}" for k, v in kwargs.items()]
    inputs = ", ".join(parts)
    if len(inputs) > 300:
        inputs = inputs[:297] + "..."
    return f"{getattr(answer, '__name__', 'your function')}({inputs})"


def _forgot_return(guarded):
    """A hint when the answer returned None: it may lack a return."""
    if getattr(guarded, "returned_none", False):
        return " (your function returned None: did you forget `return`?)"
    return ""


def _in_a_notebook():
    """True where a kernel runs the check: IPython, under no grader."""
    ipython = sys.modules.get("IPython")
    return bool(
        ipython is not None
        and getattr(ipython, "get_ipython", lambda: None)() is not None
        and not grading()
    )


def _fail(error, cause=None):
    """Report a failed check. In a notebook it prints its one line and
    returns, so that Run All goes on and shows every check's verdict, as
    a grader's run does; anywhere else (a grader, a test) it raises."""
    if _in_a_notebook():
        print(f"✗ {error}", file=sys.stderr)
        return
    error.__cause__, error.__suppress_context__ = cause, True
    raise error  # CheckFailed shows itself as one line


class _Said:
    """A stdout that passes everything on and keeps the ✓ lines."""

    def __init__(self, out):
        self.out, self.lines = out, []

    def write(self, text):
        self.lines += [t for t in text.splitlines() if t.startswith("✓")]
        return self.out.write(text)

    def __getattr__(self, name):
        return getattr(self.out, name)


class AnswerRaised(CheckFailed):
    """The answer raised an exception: `error` is that exception, and
    `call` how the check called the answer (its inputs in brief)."""

    def __init__(self, message, error, call):
        super().__init__(message)
        self.error, self.call = error, call


# The exceptions the answer raised in the check that runs now, each with
# the call that raised it.
_ANSWER_ERRORS = []


def answer_call(error):
    """How the check called the answer that raised error; None when the
    answer did not raise it (the check's own stumble)."""
    for e, call in _ANSWER_ERRORS:
        if e is error:
            return call
    return None


def exercise(number, points, forbids=()):
    """Declare a check as the check of exercise `number` of its chapter."""

    def declare(check):
        module = sys.modules[check.__module__]
        ex = Exercise(
            CHAPTERS[module.__name__.rsplit(".", 1)[1]],
            number,
            points,
            check.__name__,
        )
        EXERCISES.append(ex)

        @functools.wraps(check)
        def run(answer, *args, **kwargs):
            run.passed = False
            turned_off = _TurnedOff(list(forbids))
            _ANSWER_ERRORS.clear()
            _CHOSEN.clear()
            _RETURNED.clear()
            guarded, said = None, _Said(sys.stdout)
            try:
                guarded = _guarded(answer, turned_off)
                with contextlib.redirect_stdout(said):
                    check(guarded, *args, **kwargs)
            except _Stub:
                message = f"{ex} is not written yet"
                _record(ex, "not written", message)
                if grading():
                    raise NotWritten(message) from None
                print(f"… {message}")
                return
            except UsedThePackage as e:
                message = (
                    f"{ex}: your answer calls {e.args[0]}, which "
                    "is what the exercise asks you to write; the "
                    "check turns it off while it grades"
                )
                _record(ex, "failed", message)
                return _fail(CheckFailed(message))
            except CheckFailed as e:
                message = f"{ex}: {e}{_forgot_return(guarded)}"
                _record(ex, "failed", message)
                return _fail(CheckFailed(message, e.mistake))
            except Exception as e:
                call = answer_call(e)
                what = (
                    "your answer raised"
                    if call is not None
                    else "the check could not use what your answer returned:"
                )
                message = (
                    f"{ex}: {what} {type(e).__name__}: {e}"
                    + (f", called as {call}" if call else "")
                    + _forgot_return(guarded)
                )
                if call is None and _forgot_return(guarded):
                    # The check stumbled on the None, which is the news.
                    message = (
                        f"{ex}: your function returned None: did you "
                        "forget `return`?"
                    )
                _record(ex, "failed", message)
                if call is not None:
                    return _fail(AnswerRaised(message, e, call), e)
                return _fail(CheckFailed(message), e)
            _record(ex, "passed", said.lines[-1] if said.lines else "")
            run.passed = True

        # What the check turns off, for a test to read.
        run.exercise, run.passed, run.forbids = ex, False, tuple(forbids)
        return run

    return declare


def all_exercises():
    """Every exercise of the book, in its order (imports every check)."""
    import importlib

    for name in CHAPTERS:
        importlib.import_module(f"{__package__}.{name}")
    return sorted(EXERCISES, key=lambda e: (e.chapter, e.number))
