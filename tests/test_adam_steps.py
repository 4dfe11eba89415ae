"""How large one Adam step can be, as chapter 9 derives and measures."""

import math

import numpy as np
import pytest

from microgpt import gpt_numpy
from microgpt.config import ModelConfig, TrainConfig
from microgpt.data import load_docs
from microgpt.train import lr_at, prepare

pytestmark = pytest.mark.model

TCFG = TrainConfig()
B1, B2 = TCFG.beta1, TCFG.beta2
# The Cauchy-Schwarz bound on |m_hat| / sqrt(u_hat) for a large step number.
BOUND = (1 - B1) / math.sqrt(1 - B2) / math.sqrt(1 - B1**2 / B2)


def ratio(grads):
    """|Adam's step| / lr after these gradients, epsilon left out."""
    m = v = 0.0
    for t, g in enumerate(grads, start=1):
        m = B1 * m + (1 - B1) * g
        v = B2 * v + (1 - B2) * g * g
    return abs(m / (1 - B1**t)) / math.sqrt(v / (1 - B2**t))


def test_a_gradient_after_a_silence_moves_its_parameter_by_about_1_5_lr():
    assert (1 - B1) / math.sqrt(1 - B2) == pytest.approx(1.5)
    assert ratio([0.0] * 499 + [1.0]) == pytest.approx(1.495, abs=5e-4)
    assert ratio([1.0] + [0.0] * 300 + [1.0]) == pytest.approx(1.43, abs=5e-3)


def test_growing_gradients_reach_the_bound_and_nothing_exceeds_it():
    assert BOUND == pytest.approx(2.886, abs=1e-3)
    grown = ratio([(B2 / B1) ** k for k in range(1000)])
    assert grown == pytest.approx(BOUND, rel=1e-4)
    gen = np.random.default_rng(0)
    for _ in range(200):
        grads = gen.standard_normal(gen.integers(1, 400))
        grads *= np.exp(gen.standard_normal(len(grads)))
        assert ratio(grads) <= BOUND + 1e-12


def test_the_real_runs_largest_step_is_above_1_5_lr_and_below_the_bound():
    cfg = ModelConfig()
    rng, docs, tok = prepare(load_docs(), TCFG.seed)
    params = gpt_numpy.init_params(cfg, rng)
    opt = gpt_numpy.Adam(params, TCFG)
    top = 0.0
    for s in range(TCFG.num_steps):
        before = {k: w.copy() for k, w in params.items()}
        lr = lr_at(s, TCFG)
        gpt_numpy.train_step(params, opt, [tok.frame(docs[s])], lr, cfg)
        top = max(
            [top]
            + [np.abs(w - before[k]).max() / lr for k, w in params.items()]
        )
    assert 1.5 < top < BOUND
    assert top == pytest.approx(2.13, abs=0.01)
