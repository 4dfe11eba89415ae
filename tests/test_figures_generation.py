"""Chapter 15's schematics say what the package computes."""

import matplotlib
import numpy as np
import pytest

from microgpt import gpt_numpy
from microgpt.figures import draw, generation

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def texts(fig):
    return [t.get_text() for t in fig.findobj(plt.Text) if t.get_text()]


@pytest.mark.parametrize("top_k, top_p", [(3, 0.8), (2, 0.5), (5, 0.95)])
def test_the_filtering_picture_cuts_where_the_package_does(top_k, top_p):
    probs = np.array([p for _, p in generation.EXAMPLE])
    assert probs.sum() == pytest.approx(1)
    kept_k = np.count_nonzero(gpt_numpy.top_filter(probs, top_k=top_k))
    kept_p = np.count_nonzero(gpt_numpy.top_filter(probs, top_p=top_p))
    fig = generation.top_filtering(top_k, top_p)
    shown = " ".join(texts(fig))
    assert f"top-k, k = {top_k}: keep the {kept_k} largest" in shown
    assert (
        f"top-p, p = {top_p:g}: keep {kept_p}, together "
        f"{probs[:kept_p].sum():.2f}" in shown
    )
    assert draw.layout_problems(fig) == []


@pytest.mark.parametrize("steps", [4, 6])
def test_the_cache_picture_counts_the_positions_run(steps):
    fig = generation.kv_cache_work(steps)
    shown = texts(fig)
    assert (
        f"{steps * (steps + 1) // 2} positions run for {steps} tokens" in shown
    )
    assert f"{steps} positions run for {steps} tokens" in shown
    # one "run" cell per position run: the triangle and the diagonal
    assert shown.count("run") == steps * (steps + 1) // 2 + steps
    assert draw.layout_problems(fig) == []
