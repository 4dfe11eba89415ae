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


@pytest.mark.parametrize("key", ["05.3", "06.3", "08.4"])
def test_none_where_numbers_are_compared_is_only_asked_about_return(key):
    # The check stumbles on None (a TypeError in its comparison); the
    # message is the question, not the check's error.
    with pytest.raises(CheckFailed) as info:
        check_of(key)(lambda *args: None)
    assert str(info.value).endswith(
        ": your function returned None: did you forget `return`?"
    )
    assert "NoneType" not in str(info.value)


@pytest.mark.parametrize(
    "key, wrong, hint",
    [
        ("02.1", 15, "15 is not it; one too few, an off-by-one"),
        ("02.1", 17, "17 is one too many, an off-by-one"),
        ("07.1", 161, "161 is one too many, an off-by-one"),
        ("07.1", 159, "159 is one too few, an off-by-one"),
    ],
)
def test_a_count_one_away_is_named_an_off_by_one(key, wrong, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_of(key)(lambda: wrong)


def test_weights_of_one_head_over_the_whole_width_are_named():
    def whole_width(q, keys, cfg):
        d = len(q)
        scores = [sum(a * b for a, b in zip(q, k)) / d**0.5 for k in keys]
        m = max(s.data for s in scores)
        e = [(s - m).exp() for s in scores]
        return [[(x / sum(e)).data for x in e]]

    with pytest.raises(
        CheckFailed, match="this is one head over the whole width"
    ):
        check_of("06.3")(whole_width)


def test_a_wrong_prediction_is_not_sent_to_an_experiment_cell():
    # Most predictions have no experiment cell below them: the advice a
    # wrong number gets must not send the reader to one.
    from microgpt.course.checks import CheckFailed, questions

    with pytest.raises(CheckFailed) as e:
        questions.number("a count", lambda: 5, 7, 0)
    assert "run the experiment" not in str(e.value)
    assert "a cell of your own" in str(e.value)
