"""The scaling chapter's exercise checks pass right answers, fail wrong."""

import math
import re

import pytest

from microgpt.course.checks import CheckFailed, scaling

pytestmark = pytest.mark.torch


def paired_se(variant, full, ddof=1, unpaired=False, root=True):
    """Right by default; the keywords give the usual slips."""
    n = len(full)
    d = [a - b for a, b in zip(variant, full)]
    mean = sum(d) / n

    def var(xs, k):
        m = sum(xs) / len(xs)
        return sum((x - m) ** 2 for x in xs) / (len(xs) - k)

    if unpaired:
        return mean, math.sqrt(var(variant, 1) / n + var(full, 1) / n)
    se = math.sqrt(var(d, ddof) / n) if root else math.sqrt(var(d, ddof))
    return mean, se


def test_paired_se_passes_the_reference(capsys):
    scaling.check_paired_se(paired_se)
    assert "✓ paired_se" in capsys.readouterr().out


@pytest.mark.parametrize(
    "kwargs, mistake",
    [
        ({"unpaired": True}, "treating the runs as unpaired"),
        ({"ddof": 0}, "dividing by n instead of n - 1"),
        (
            {"root": False},
            "reporting the standard deviation of the differences",
        ),
    ],
)
def test_paired_se_names_each_slip(kwargs, mistake):
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 17, exercise 1: the "
        r"paired standard error over 5 seeds: .*this is "
        r"what " + re.escape(mistake),
    ):
        scaling.check_paired_se(lambda a, b: paired_se(a, b, **kwargs))


def test_paired_se_with_the_sign_reversed_names_it():
    def reversed_(variant, full):
        mean, se = paired_se(variant, full)
        return -mean, se

    with pytest.raises(CheckFailed, match="the sign the other way"):
        scaling.check_paired_se(reversed_)


def test_paired_se_that_returns_one_number_is_told_the_shape():
    with pytest.raises(CheckFailed, match="expected a pair"):
        scaling.check_paired_se(lambda a, b: 0.1)


def exponent(sizes, losses, floor, subtract=True, sign=-1):
    xs = [math.log(n) for n in sizes]
    ys = [math.log(y - floor if subtract else y) for y in losses]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum(
        (x - mx) ** 2 for x in xs
    )
    return sign * slope


def test_exponent_passes_the_reference(capsys):
    scaling.check_exponent(exponent)
    assert "✓ exponent" in capsys.readouterr().out


def test_exponent_without_the_floor_names_it():
    with pytest.raises(CheckFailed, match="without subtracting the floor"):
        scaling.check_exponent(
            lambda s, loss, e: exponent(s, loss, e, subtract=False)
        )


def test_exponent_with_the_slope_sign_names_it():
    with pytest.raises(CheckFailed, match="alpha is minus the slope"):
        scaling.check_exponent(lambda s, loss, e: exponent(s, loss, e, sign=1))


def test_exponent_may_not_call_the_package():
    from microgpt.experiments.scaling import fit_line

    def lazy(sizes, losses, floor):
        return -fit_line(
            [math.log(n) for n in sizes], [math.log(y - floor) for y in losses]
        )[0]

    with pytest.raises(CheckFailed, match="fit_line"):
        scaling.check_exponent(lazy)


def best_under_budget(runs, budget, factor=6, ignore=False):
    fits = [
        r
        for r in runs
        if ignore or factor * r["params"] * r["tokens"] <= budget
    ]
    return min(fits, key=lambda r: r["loss"])["params"]


def test_best_under_budget_passes_the_reference(capsys):
    scaling.check_best_under_budget(best_under_budget)
    assert "✓ best_under_budget" in capsys.readouterr().out


@pytest.mark.parametrize(
    "kwargs, mistake",
    [
        ({"ignore": True}, "the best run of all"),
        ({"factor": 1}, "C = N D without the factor 6"),
    ],
)
def test_best_under_budget_names_each_slip(kwargs, mistake):
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 17, exercise 3: .*"
        r"this is what " + re.escape(mistake),
    ):
        scaling.check_best_under_budget(
            lambda runs, c: best_under_budget(runs, c, **kwargs)
        )


def test_worst_ablation_takes_the_right_letter(capsys):
    scaling.check_worst_ablation(lambda: "a")
    assert "✓ the removal that costs the most" in capsys.readouterr().out


@pytest.mark.parametrize(
    "letter, hint", [("b", "half of the parameters"), ("c", "causal mask")]
)
def test_worst_ablation_wrong_letters_get_their_hint(letter, hint):
    with pytest.raises(CheckFailed, match=hint):
        scaling.check_worst_ablation(lambda: letter)


def test_the_worst_ablation_answer_is_what_the_stored_table_says():
    from microgpt.course.checks.questions import find_key, load_key
    from microgpt.experiments import stored

    table = stored("ablations")["table"]
    worst = max(
        (v for v in table if v != "full"), key=lambda v: table[v]["diff"]
    )
    letter = {"no residuals": "a", "no MLP": "b", "no positions": "c"}
    key = load_key(find_key())
    assert key["microgpt ch17 worst ablation"]["answer"] == letter[worst]
