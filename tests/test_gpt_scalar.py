"""The scalar GPT against the original program's recorded run."""

import gc

import pytest

from microgpt import gpt_scalar
from microgpt.config import ModelConfig, TrainConfig
from microgpt.params import num_params
from microgpt.train import lr_at, prepare, run

pytestmark = pytest.mark.model


def test_dataset_and_model_sizes_match_the_original(docs, expected_run):
    _, shuffled, tok = prepare(docs, seed=42)
    assert len(shuffled) == expected_run["num_docs"]
    assert tok.vocab_size == expected_run["vocab_size"]
    assert num_params(ModelConfig()) == expected_run["num_params"]


def test_first_steps_are_bit_exact(docs, expected_run):
    cfg, tcfg = ModelConfig(), TrainConfig()
    rng, shuffled, tok = prepare(docs, tcfg.seed)
    params = gpt_scalar.init_params(cfg, rng)
    opt = gpt_scalar.Adam(params, tcfg)
    for step in range(10):
        tokens = tok.frame(shuffled[step])
        loss = gpt_scalar.train_step(
            params, opt, [tokens], lr_at(step, tcfg), cfg
        )
        assert repr(loss) == expected_run["loss_per_step"][step]


def test_loss_and_grads_leaves_no_gradient_behind(docs):
    cfg = ModelConfig()
    rng, shuffled, tok = prepare(docs, 0)
    params = gpt_scalar.init_params(cfg, rng)
    loss, grads = gpt_scalar.loss_and_grads(
        params, [tok.frame(shuffled[0])], cfg
    )
    assert loss > 0
    assert any(g != 0 for row in grads["wte"] for g in row)
    assert all(p.grad == 0 for p in gpt_scalar.flat_params(params))


def test_generate_stops_at_block_size_or_bos():
    import random

    cfg = ModelConfig(block_size=4)
    params = gpt_scalar.init_params(cfg, random.Random(0))
    rng = random.Random(1)
    lengths = [
        len(gpt_scalar.generate(params, cfg, rng, 1.0)) for _ in range(20)
    ]
    assert max(lengths) <= cfg.block_size
    assert min(lengths) < cfg.block_size  # BOS ended some samples


TINY = ModelConfig(vocab_size=4, n_layer=1, n_embd=4, block_size=3, n_head=2)
TINY_DOCS = [[3, 0, 3], [3, 1, 2, 0, 1, 3]]  # 2 and (cut to) 3 predictions


def test_evaluate_is_the_mean_loss_per_prediction():
    import math
    import random

    params = gpt_scalar.init_params(TINY, random.Random(5))
    by_hand = []
    for tokens in TINY_DOCS:
        logits, _ = gpt_scalar.forward(params, tokens[:3], TINY)
        for z, target in zip(logits, tokens[1:4]):
            z = [v.data for v in z]
            by_hand.append(math.log(sum(math.exp(x) for x in z)) - z[target])
    assert len(by_hand) == 5
    got = gpt_scalar.evaluate(params, TINY_DOCS, TINY)
    assert got == pytest.approx(sum(by_hand) / 5, rel=1e-14)
    whole = gpt_scalar.batch_loss(params, TINY_DOCS, TINY).data
    assert whole == pytest.approx(sum(by_hand) / 5, rel=1e-14)
    # per prediction, not the mean of the documents' means
    per_doc = [
        gpt_scalar.batch_loss(params, [t], TINY).data for t in TINY_DOCS
    ]
    assert abs(got - sum(per_doc) / 2) > 1e-3
    assert all(p.grad == 0 for p in gpt_scalar.flat_params(params))


def test_evaluate_refuses_nothing_to_predict():
    import random

    params = gpt_scalar.init_params(TINY, random.Random(5))
    for docs in ([], [[3]]):
        with pytest.raises(ValueError):
            gpt_scalar.evaluate(params, docs, TINY)


@pytest.mark.slow
def test_full_run_reproduces_the_original_bit_for_bit(
    docs, expected_run, collector_off
):
    # Minutes of pure Python; this is the promise the book makes.
    result = run("scalar", docs, ModelConfig(), TrainConfig())
    assert [repr(x) for x in result.losses] == expected_run["loss_per_step"]
    assert result.samples == expected_run["samples"]
    # The twin's graphs hold no cycle, so the run left nothing that only
    # the collector (off here) could free.
    assert gc.collect() == 0
