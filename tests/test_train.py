"""The shared training run: schedule, batching rules, divergence."""

import pytest

from microgpt import train
from microgpt.config import ModelConfig, TrainConfig

pytestmark = pytest.mark.model  # the training chapter, 9


def test_the_learning_rate_decays_linearly_towards_zero():
    tcfg = TrainConfig(num_steps=4, learning_rate=0.02)
    assert [train.lr_at(s, tcfg) for s in range(4)] == [
        0.02, 0.015, 0.01, 0.005]


def test_the_scalar_twin_refuses_batches_before_any_work(monkeypatch):
    def no_work(*args):
        raise AssertionError("prepared a run it cannot train")

    monkeypatch.setattr(train, "prepare", no_work)
    with pytest.raises(ValueError, match="one document per step"):
        train.run("scalar", ["ab"], ModelConfig(),
                  TrainConfig(num_steps=1, batch_size=2))


@pytest.mark.parametrize("impl", ["scalar", "numpy"])
def test_a_diverging_run_stops_with_the_step_that_diverged(docs, impl):
    # lr 1000 sends the loss to inf (numpy) or math.log(0) (scalar) at
    # step 2; the run must say so, not train on, or blame the input.
    steps = []
    with pytest.raises(ValueError, match="diverged at step 2: the loss"):
        train.run(impl, docs, ModelConfig(),
                  TrainConfig(num_steps=5, learning_rate=1e3),
                  on_step=lambda step, loss: steps.append(step))
    assert steps == [1]


def test_on_trained_sees_the_model_before_any_sampling(docs,
                                                       monkeypatch):
    seen = []

    def sample(*args):
        seen.append("sample")
        return ["x"]

    monkeypatch.setattr(train, "sample", sample)
    run = train.run("numpy", docs, ModelConfig(), TrainConfig(num_steps=2),
                    on_trained=lambda params, tokenizer, mcfg: seen.append(
                        (params, tokenizer, mcfg)))
    assert seen[0] == (run.params, run.tokenizer, run.model_config)
    assert seen[1:] == ["sample"]
