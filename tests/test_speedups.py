"""The NumPy twin's speed tricks do what the plain expressions do."""

import numpy as np
import pytest

from microgpt.config import TrainConfig
from microgpt.speedups import adam_update, exp_and_row_sum, row_sum

pytestmark = pytest.mark.numpy

rs = np.random.default_rng(0)


def test_row_sum_is_sum_over_the_last_axis():
    for shape in ((7,), (3, 16), (2, 4, 5, 27)):
        x = rs.standard_normal(shape)
        got = row_sum(x)
        assert got.shape == shape[:-1] + (1,)
        assert np.allclose(
            got, x.sum(-1, keepdims=True), rtol=1e-13, atol=1e-13
        )


def plain_adam(data, g, m, v, lr, t, b1, b2, eps):
    """Adam's update as Adam.step's docstring writes it."""
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g**2
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    return data - lr * m_hat / (v_hat**0.5 + eps), m, v


@pytest.mark.parametrize("t", [1, 2, 50])
def test_adam_update_is_the_plain_update_in_place(t):
    tcfg = TrainConfig()
    n = 300
    g = rs.standard_normal(n)
    data, m, v = rs.standard_normal(n), rs.standard_normal(n), rs.random(n)
    args = (0.01, t, tcfg.beta1, tcfg.beta2, tcfg.eps_adam)
    want = plain_adam(data, g, m, v, *args)
    ids = [id(a) for a in (data, m, v)]
    adam_update(data, g, m, v, np.empty(n), *args)
    assert [id(a) for a in (data, m, v)] == ids  # the same arrays
    for got, expected in zip((data, m, v), want):
        assert np.allclose(got, expected, rtol=1e-13, atol=0)


def test_exp_and_row_sum_gives_each_rows_softmax():
    x = rs.standard_normal((2, 3, 5, 5)) * 4
    x[..., 0, 1:] = -np.inf  # a masked row keeps one entry
    e, total = exp_and_row_sum(x)
    plain = np.exp(x - x.max(-1, keepdims=True))
    assert np.allclose(
        e / total, plain / plain.sum(-1, keepdims=True), rtol=1e-14, atol=0
    )
    # One row lies 1000 below the other, so the shift by the array's max
    # would leave it all zeros: each row is then shifted by its own max.
    far = np.array([[0.0, 1.0, 2.0], [-1000.0, -999.0, -998.0]])
    e, total = exp_and_row_sum(far)
    assert np.allclose(
        e / total,
        [[0.09003057, 0.24472847, 0.66524096]] * 2,
        rtol=1e-7,
        atol=0,
    )
