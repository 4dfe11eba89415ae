"""The generation chapter's exercise checks pass right answers, fail wrong."""

import numpy as np
import pytest

from microgpt import gpt_scalar
from microgpt.course.checks import CheckFailed, generation

pytestmark = pytest.mark.model


# -- exercise 1: the positions run without a cache ---------------------------


def test_the_right_count_passes(capsys):
    generation.check_predicted_positions(lambda: 64 * 65 // 2)
    assert (
        "✓ positions run to draw 64 tokens without the cache: 2080 "
        "is right" in capsys.readouterr().out
    )


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (64, "the count with the cache"),
        (64 * 64, "64² counts all 64 positions at every draw"),
        (63 * 64 // 2, "the first draw already runs one position"),
        (63 * 64, "T(T + 1)/2"),
        (64 * 64 // 2, "the area of a triangle"),
        (3000, "too large"),
        (3000, "add up the positions each draw runs"),
    ],
)
def test_a_wrong_count_names_its_mistake(wrong, hint):
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 15, exercise 1: .*"
        + hint.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+"),
    ):
        generation.check_predicted_positions(lambda: wrong)


# -- exercise 2: top-k --------------------------------------------------------


def top_k_filter(probs, k):
    """Right: the k likeliest, a tie to the smaller id, renormalised."""
    keep = sorted(range(len(probs)), key=lambda i: -probs[i])[:k]
    total = sum(probs[i] for i in keep)
    return [p / total if i in keep else 0.0 for i, p in enumerate(probs)]


def test_top_k_passes_the_reference(capsys):
    generation.check_top_k_filter(top_k_filter)
    assert "✓ top_k_filter" in capsys.readouterr().out


def test_top_k_in_numpy_passes_too():
    def numpy_top_k(probs, k):
        probs = np.array(probs)
        keep = np.argsort(-probs, kind="stable")[:k]
        out = np.zeros_like(probs)
        out[keep] = probs[keep] / probs[keep].sum()
        return out

    generation.check_top_k_filter(numpy_top_k)


def smallest_k(probs, k):
    """The mistake of sorting ascending: the k least likely kept."""
    keep = sorted(range(len(probs)), key=lambda i: probs[i])[:k]
    total = sum(probs[i] for i in keep)
    return [p / total if i in keep else 0.0 for i, p in enumerate(probs)]


@pytest.mark.parametrize(
    "wrong, mistake",
    [
        (lambda p, k: top_k_filter(p, k + 1), "keeping k \\+ 1 tokens"),
        (
            lambda p, k: (
                top_k_filter(p, max(k - 1, 1)) if k > 1 else top_k_filter(p, k)
            ),
            "keeping k - 1 tokens",
        ),
        (
            lambda p, k: [
                q * sum(sorted(p, reverse=True)[:k])
                for q in top_k_filter(p, k)
            ],
            "forgetting to renormalise",
        ),
        (lambda p, k: smallest_k(p, k), "sorting ascending"),
    ],
)
def test_top_k_mistakes_are_named(wrong, mistake):
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 15, exercise 2: "
        r"top_k_filter with k = \d+ .*this is what " + mistake,
    ):
        generation.check_top_k_filter(wrong)


def test_top_k_ties_broken_the_other_way_are_named():
    def larger_id_first(probs, k):
        n = len(probs)
        keep = sorted(reversed(range(n)), key=lambda i: -probs[i])[:k]
        total = sum(probs[i] for i in keep)
        return [p / total if i in keep else 0.0 for i, p in enumerate(probs)]

    with pytest.raises(CheckFailed, match="breaking a tie by the larger id"):
        generation.check_top_k_filter(larger_id_first)


def test_top_k_may_not_call_the_package():
    with pytest.raises(
        CheckFailed, match="your answer calls microgpt.gpt_scalar.top_filter"
    ):
        generation.check_top_k_filter(
            lambda p, k: gpt_scalar.top_filter(p, top_k=k)
        )


def test_top_k_returning_none_fails():
    with pytest.raises(CheckFailed, match="returned None"):
        generation.check_top_k_filter(lambda p, k: None)


# -- exercise 3: top-p --------------------------------------------------------


def top_p_filter(
    probs, p, strict=False, extra=0, drop=0, norm=True, ascending=False
):
    """Right by default; the options give the typical mistakes."""
    order = sorted(
        range(len(probs)), key=lambda i: probs[i] if ascending else -probs[i]
    )
    mass, n = 0.0, len(order)
    for m, i in enumerate(order, start=1):
        mass += probs[i]
        if (mass > p) if strict else (mass >= p):
            n = m
            break
    keep = order[: max(1, min(len(order), n + extra - drop))]
    total = sum(probs[i] for i in keep) if norm else 1.0
    return [q / total if i in keep else 0.0 for i, q in enumerate(probs)]


def test_top_p_passes_the_reference(capsys):
    generation.check_top_p_filter(top_p_filter)
    assert "✓ top_p_filter" in capsys.readouterr().out


def test_top_p_in_numpy_passes_too():
    def numpy_top_p(probs, p):
        probs = np.array(probs)
        order = np.argsort(-probs, kind="stable")
        mass = np.cumsum(probs[order])
        keep = order[: np.searchsorted(mass, p) + 1]
        out = np.zeros_like(probs)
        out[keep] = probs[keep] / probs[keep].sum()
        return out

    generation.check_top_p_filter(numpy_top_p)


@pytest.mark.parametrize(
    "options, mistake",
    [
        ({"strict": True}, "stopping only when the sum passes p"),
        ({"drop": 1}, "leaving out the token that makes the sum reach p"),
        ({"extra": 1}, "keeping one token more than needed"),
        ({"norm": False}, "forgetting to renormalise"),
        ({"ascending": True}, "sorting ascending"),
    ],
)
def test_top_p_mistakes_are_named(options, mistake):
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 15, exercise 3: "
        r"top_p_filter with p = [\d.]+ .*this is what " + mistake,
    ):
        generation.check_top_p_filter(
            lambda probs, p: top_p_filter(probs, p, **options)
        )


def test_top_p_may_not_call_the_package():
    with pytest.raises(
        CheckFailed, match="your answer calls microgpt.gpt_scalar.top_filter"
    ):
        generation.check_top_p_filter(
            lambda probs, p: gpt_scalar.top_filter(probs, top_p=p)
        )
