"""Messages a check gives for mistakes any exercise can have."""

import pytest

from microgpt.course.checks import CheckFailed
from microgpt.course.checks.exercise import all_exercises

EXERCISES = {e.key: e for e in all_exercises()}


def check_of(key):
    import importlib

    from microgpt.course.checks.exercise import CHAPTERS

    ex = EXERCISES[key]
    name = next(m for m, c in CHAPTERS.items() if c == ex.chapter)
    module = importlib.import_module(f"microgpt.course.checks.{name}")
    return getattr(module, ex.check)


@pytest.mark.parametrize("key", ["02.2", "02.3", "02.4", "06.1"])
def test_an_answer_returning_none_is_asked_about_return(key):
    def answer(*args, **kwargs):
        result = 1  # computed, then not returned
        del result

    with pytest.raises(
        CheckFailed,
        match=r"returned None: did you "
        r"forget `return`\?",
    ):
        check_of(key)(answer)


def test_a_wrong_answer_that_returns_is_not_asked_about_return():
    with pytest.raises(CheckFailed) as info:
        check_of("02.2")(lambda ids, chars: "not the decoding")
    assert "forget `return`" not in str(info.value)
