"""The configs: the original's defaults, and a clear error for bad values."""

import dataclasses
import math

import pytest

from microgpt.config import ModelConfig, SampleConfig, TrainConfig

pytestmark = pytest.mark.model


def test_model_defaults_are_the_originals():
    cfg = ModelConfig()
    assert (cfg.n_layer, cfg.n_embd, cfg.block_size, cfg.n_head) == (
        1,
        16,
        16,
        4,
    )
    assert cfg.vocab_size == 27  # 26 letters and BOS
    assert cfg.head_dim == 4


def test_train_defaults_are_the_originals():
    cfg = TrainConfig()
    assert (
        cfg.num_steps,
        cfg.learning_rate,
        cfg.beta1,
        cfg.beta2,
        cfg.eps_adam,
    ) == (1000, 0.01, 0.85, 0.99, 1e-8)
    assert cfg.seed == 42
    assert cfg.batch_size == 1  # one document per step


def test_sample_defaults_are_the_originals():
    scfg = SampleConfig()
    assert (scfg.temperature, scfg.num_samples) == (0.5, 20)
    assert scfg.top_k is None and scfg.top_p is None  # every token kept


def test_training_and_sampling_settings_live_apart():
    train_fields = {f.name for f in dataclasses.fields(TrainConfig)}
    sample_fields = {f.name for f in dataclasses.fields(SampleConfig)}
    assert not train_fields & sample_fields


def test_configs_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ModelConfig().n_layer = 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        TrainConfig().seed = 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        SampleConfig().temperature = 1.0


def test_head_dim_splits_the_width():
    assert ModelConfig(n_embd=32, n_head=8).head_dim == 4
    assert ModelConfig(n_embd=8, n_head=1).head_dim == 8


def test_other_valid_values_are_accepted():
    ModelConfig(vocab_size=2, n_layer=3, n_embd=8, block_size=1, n_head=2)
    TrainConfig(
        num_steps=1,
        learning_rate=1,
        beta1=0.0,
        beta2=0.999,
        eps_adam=1e-12,
        seed=-7,
        batch_size=64,
    )
    SampleConfig(temperature=2.0, num_samples=1, top_k=1, top_p=1)


@pytest.mark.parametrize(
    "field", ["vocab_size", "n_layer", "n_embd", "block_size", "n_head"]
)
@pytest.mark.parametrize("value", [0, -1, 1.5, True, "16", None])
def test_model_sizes_must_be_positive_integers(field, value):
    with pytest.raises(ValueError) as e:
        ModelConfig(**{field: value})
    msg = str(e.value)
    assert f"ModelConfig.{field}" in msg and repr(value) in msg
    assert "positive integer" in msg


@pytest.mark.parametrize("n_embd, n_head", [(16, 3), (10, 4), (8, 16)])
def test_n_embd_must_be_divisible_by_n_head(n_embd, n_head):
    with pytest.raises(ValueError) as e:
        ModelConfig(n_embd=n_embd, n_head=n_head)
    msg = str(e.value)
    assert "divisible" in msg
    assert str(n_embd) in msg and str(n_head) in msg


@pytest.mark.parametrize(
    "cls, field",
    [
        (TrainConfig, "num_steps"),
        (TrainConfig, "batch_size"),
        (SampleConfig, "num_samples"),
    ],
)
@pytest.mark.parametrize("value", [0, -3, 2.0, False])
def test_counts_must_be_positive_integers(cls, field, value):
    with pytest.raises(ValueError) as e:
        cls(**{field: value})
    msg = str(e.value)
    assert f"{cls.__name__}.{field}" in msg and repr(value) in msg


@pytest.mark.parametrize(
    "cls, field",
    [
        (TrainConfig, "learning_rate"),
        (TrainConfig, "eps_adam"),
        (SampleConfig, "temperature"),
    ],
)
@pytest.mark.parametrize(
    "value", [0, 0.0, -0.5, math.inf, math.nan, "1", True]
)
def test_rates_must_be_positive_finite_numbers(cls, field, value):
    with pytest.raises(ValueError) as e:
        cls(**{field: value})
    msg = str(e.value)
    assert f"{cls.__name__}.{field}" in msg and repr(value) in msg
    assert "positive number" in msg


@pytest.mark.parametrize("field", ["beta1", "beta2"])
@pytest.mark.parametrize("value", [-0.1, 1, 1.0, 1.5, math.nan, "0.9"])
def test_betas_must_be_in_zero_one(field, value):
    with pytest.raises(ValueError) as e:
        TrainConfig(**{field: value})
    msg = str(e.value)
    assert f"TrainConfig.{field}" in msg and repr(value) in msg
    assert "[0, 1)" in msg


@pytest.mark.parametrize("value", [1.5, "42", None, True])
def test_the_seed_must_be_an_integer(value):
    with pytest.raises(ValueError) as e:
        TrainConfig(seed=value)
    assert "TrainConfig.seed" in str(e.value) and repr(value) in str(e.value)
