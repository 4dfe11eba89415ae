"""Checks for the scaling chapter: paired errors, power laws, budgets."""

import math
import random

from ...experiments.ablations import paired
from ...experiments.scaling import fit_line, fit_power_law, frontier
from . import CheckFailed, check_close, passed, questions, raised
from .exercise import exercise


def _seeds(n, delta, seed):
    """(variant, full) losses over n seeds that share a seed's luck."""
    rng = random.Random(seed)
    luck = [rng.gauss(0, 0.02) for _ in range(n)]  # shared by the pair
    full = [2.2 + u for u in luck]
    variant = [2.2 + delta + u + rng.gauss(0, 0.004) for u in luck]
    return variant, full


def _std(xs, ddof):
    m = sum(xs) / len(xs)
    return (sum((x - m) ** 2 for x in xs) / (len(xs) - ddof)) ** 0.5


def _mistaken_se(variant, full):
    """What the usual slips give for the standard error."""
    n = len(full)
    diffs = [a - b for a, b in zip(variant, full)]
    return {
        "treating the runs as unpaired (the two losses' spreads "
        "combined, sqrt(s_a^2/n + s_b^2/n))": (
            _std(variant, 1) ** 2 / n + _std(full, 1) ** 2 / n
        )
        ** 0.5,
        "dividing by n instead of n - 1 in the standard deviation": _std(
            diffs, 0
        )
        / n**0.5,
        "reporting the standard deviation of the differences, not its "
        "division by sqrt(n)": _std(diffs, 1),
    }


def _pair(what, got):
    """got as a pair of floats, or CheckFailed."""
    try:
        mean, se = got
        return float(mean), float(se)
    except (TypeError, ValueError):
        raise CheckFailed(
            f"{what}: expected a pair (mean, standard error), got {got!r}"
        ) from None


@exercise(1, points=2, forbids=(paired,))
def check_paired_se(paired_se):
    """paired_se(variant, full) -> (mean difference, standard error)."""
    for n, delta, seed in ((5, 0.03, 0), (8, -0.01, 1), (12, 0.1, 2)):
        variant, full = _seeds(n, delta, seed)
        want = paired([a - b for a, b in zip(variant, full)])
        try:
            got = paired_se(list(variant), list(full))
        except (ZeroDivisionError, TypeError) as e:
            raise CheckFailed(
                f"paired_se with {n} seeds {raised(e)}"
            ) from None
        mean, se = _pair(f"paired_se with {n} seeds", got)
        check_close(
            f"the mean difference over {n} seeds",
            mean,
            want[0],
            1e-12,
            mistakes={
                "full minus variant (the sign the other way round)": -want[0]
            },
        )
        check_close(
            f"the paired standard error over {n} seeds",
            se,
            want[1],
            1e-12,
            mistakes=_mistaken_se(variant, full),
        )
    passed("paired_se (5, 8 and 12 seeds)")


def _points(alpha, floor, seed):
    """(sizes, losses) near floor + A N^-alpha, with a little noise."""
    rng = random.Random(seed)
    sizes = [500 * 2**k for k in range(7)]
    losses = [
        floor + 9.0 * n**-alpha * math.exp(rng.gauss(0, 0.01)) for n in sizes
    ]
    return sizes, losses


def _alpha(sizes, losses, floor):
    """The reference: minus the slope of log(L - E) against log N."""
    slope, _ = fit_line(
        [math.log(n) for n in sizes], [math.log(y - floor) for y in losses]
    )
    return -slope


@exercise(2, points=2, forbids=(fit_line, fit_power_law))
def check_exponent(exponent):
    """exponent(sizes, losses, floor) -> alpha of L = E + A N^-alpha."""
    for alpha, floor, seed in ((0.3, 1.9, 0), (0.6, 2.05, 1)):
        sizes, losses = _points(alpha, floor, seed)
        want = _alpha(sizes, losses, floor)
        try:
            got = float(exponent(list(sizes), list(losses), floor))
        except (ValueError, TypeError) as e:
            raise CheckFailed(f"exponent {raised(e)}") from None
        check_close(
            f"alpha with floor E = {floor}",
            got,
            want,
            1e-9,
            mistakes={
                "fitting log L without subtracting the floor E": _alpha(
                    sizes, losses, 0.0
                ),
                "returning the slope itself (alpha is minus the slope)": -want,
            },
        )
    passed("exponent (two power laws with a floor)")


def _runs(seed):
    """A small made-up grid of runs: params, tokens and losses."""
    rng = random.Random(seed)
    runs = []
    for n in (1000, 4000, 16000, 64000):
        for d in (10**5, 10**6, 10**7):
            loss = 1.9 + 20 * n**-0.4 + 40 * d**-0.3 + rng.gauss(0, 0.003)
            runs.append(
                {"params": n, "tokens": d, "compute": 6 * n * d, "loss": loss}
            )
    return runs


@exercise(3, points=1, forbids=(frontier,))
def check_best_under_budget(best_under_budget):
    """best_under_budget(runs, budget) -> params of the best run in it."""
    runs = _runs(0)
    for budget in (1e10, 1e11, 1e12):
        want = frontier(runs, [budget])[0]["params"]
        bare = [{k: r[k] for k in ("params", "tokens", "loss")} for r in runs]
        got = best_under_budget(bare, budget)
        if got == want:
            continue
        slips = {
            min(runs, key=lambda r: r["loss"])[
                "params"
            ]: "the best run of all, whatever its compute",
            min(
                (r for r in runs if r["params"] * r["tokens"] <= budget),
                key=lambda r: r["loss"],
            )["params"]: "C = N D without the factor 6",
        }
        slips.pop(want, None)
        hint = f"; this is what {slips[got]} gives" if got in slips else ""
        raise CheckFailed(
            f"the best run within C = {budget:g}: got "
            f"{got!r}, expected {want!r} parameters{hint}"
        )
    passed("best_under_budget (budgets 1e10, 1e11, 1e12)")


@exercise(4, points=1)
def check_worst_ablation(worst_ablation):
    """worst_ablation() -> 'a', 'b' or 'c'."""
    questions.choice(
        "the removal that costs the most held-out loss",
        worst_ablation,
        "microgpt ch17 worst ablation",
    )
