"""The weights' names and shapes, their count, and their initialization."""

import random
import time

import pytest

from microgpt.config import ModelConfig
from microgpt.params import init_weights, num_params, param_shapes


@pytest.mark.parametrize(
    "cfg",
    [
        ModelConfig(),
        ModelConfig(n_layer=3, n_embd=8, n_head=2),
        ModelConfig(vocab_size=5, block_size=100, n_embd=12, n_head=3),
    ],
)
def test_the_count_adds_up_every_listed_shape(cfg):
    shapes = param_shapes(cfg)
    assert num_params(cfg) == sum(r * c for r, c in shapes.values())
    weights = init_weights(cfg, random.Random(0))
    assert list(weights) == list(shapes)
    assert num_params(cfg) == sum(
        len(rows) * len(rows[0]) for rows in weights.values()
    )


def test_a_model_far_too_large_to_train_is_counted_at_once():
    start = time.perf_counter()
    n = num_params(ModelConfig(n_layer=10**9, n_embd=1024, n_head=8))
    assert time.perf_counter() - start < 0.1
    assert n == 10**9 * 12 * 1024**2 + (2 * 27 + 16) * 1024
