"""The shared training run: schedule, batching rules, divergence."""

import pytest

from microgpt import train
from microgpt.config import ModelConfig, TrainConfig

pytestmark = pytest.mark.model  # the training chapter, 9


def test_the_learning_rate_decays_linearly_towards_zero():
    tcfg = TrainConfig(num_steps=4, learning_rate=0.02)
    assert [train.lr_at(s, tcfg) for s in range(4)] == [
        0.02,
        0.015,
        0.01,
        0.005,
    ]


def test_every_twin_trains_batches_alike(docs):
    # A batch step's loss is the mean over the batch's targets in each
    # twin: the scalar one sums documents, the fast ones pack them.
    cfg = ModelConfig(n_embd=8, n_head=2)
    tcfg = TrainConfig(num_steps=3, batch_size=4)
    runs = {
        name: train.run(name, docs[:200], cfg, tcfg)
        for name in ("scalar", "numpy")
    }
    scalar, numpy = runs["scalar"], runs["numpy"]
    assert max(abs(a - b) for a, b in zip(scalar.losses, numpy.losses)) < 1e-12
    assert scalar.samples == numpy.samples


@pytest.mark.parametrize("impl", ["scalar", "numpy"])
def test_a_diverging_run_stops_with_the_step_that_diverged(docs, impl):
    # lr 1000 sends the loss to inf (numpy) or math.log(0) (scalar) at
    # step 2; the run must say so, not train on, or blame the input.
    twin = train.get_twin(impl)
    cfg, tcfg = ModelConfig(), TrainConfig(num_steps=5, learning_rate=1e3)
    rng, docs, tokenizer = train.prepare(docs, tcfg.seed)
    params = twin.init_params(cfg, rng)
    steps = []
    with pytest.raises(train.Diverged, match="diverged at step 2: the loss"):
        for step, _ in train.train(twin, params, docs, tokenizer, cfg, tcfg):
            steps.append(step)
    assert steps == [1]


def test_the_loop_trains_only_while_it_is_iterated(docs):
    # A generator: each step happens when the caller asks for it, so
    # the caller sees the parameters after exactly that many updates.
    twin = train.get_twin("numpy")
    cfg, tcfg = ModelConfig(), TrainConfig(num_steps=3)
    rng, docs, tokenizer = train.prepare(docs, tcfg.seed)
    params = twin.init_params(cfg, rng)
    before = params["wte"].copy()
    loop = train.train(twin, params, docs, tokenizer, cfg, tcfg)
    assert (params["wte"] == before).all()
    step, loss = next(loop)
    assert step == 1 and isinstance(loss, float)
    assert not (params["wte"] == before).all()
    assert [s for s, _ in loop] == [2, 3]


def test_snapshots_come_from_the_run_itself(docs):
    twin = train.get_twin("numpy")
    cfg = ModelConfig(n_embd=8, n_head=2, block_size=8)
    tcfg = TrainConfig(num_steps=6)
    losses, snaps = train.train_with_snapshots(
        twin, docs, cfg, tcfg, [0, 2, 6]
    )
    result = train.run(twin, docs, cfg, tcfg)
    assert losses == result.losses
    assert sorted(snaps) == [0, 2, 6]
    rng, _, _ = train.prepare(docs, tcfg.seed)
    start = twin.to_weights(twin.init_params(cfg, rng))
    final = twin.to_weights(result.params)
    for name in final:
        assert (snaps[0][name] == start[name]).all()
        assert (snaps[6][name] == final[name]).all()
        assert not (snaps[2][name] == snaps[6][name]).all()


# -- validation ---------------------------------------------------------------

CFG = ModelConfig(n_embd=8, n_head=2)


@pytest.mark.parametrize("impl", ["numpy", "torch"])
def test_a_held_out_loss_leaves_the_training_unchanged(docs, impl):
    from microgpt.data import split_docs

    tcfg = TrainConfig(num_steps=5)
    train_docs, val_docs = split_docs(docs[:2000], 0.1)
    plain = train.run(impl, train_docs, CFG, tcfg)
    measured = train.run(
        impl, train_docs, CFG, tcfg, val_docs=val_docs, eval_every=2
    )
    assert measured.losses == plain.losses
    assert measured.samples == plain.samples
    assert plain.val_losses == []
    assert [s for s, _ in measured.val_losses] == [0, 2, 4, 5]
    final = train.held_out_loss(
        train.get_twin(impl),
        measured.params,
        val_docs,
        measured.tokenizer,
        measured.model_config,
    )
    assert measured.val_losses[-1][1] == final
    assert measured.val_losses[-1][1] < measured.val_losses[0][1]


def test_only_before_and_after_with_eval_every_zero():
    run = train.run(
        "numpy",
        ["abc", "bca", "cab"],
        CFG,
        TrainConfig(num_steps=3),
        val_docs=["abd"],
        eval_every=0,
    )
    assert [s for s, _ in run.val_losses] == [0, 3]
    assert run.tokenizer.chars == ("a", "b", "c", "d")  # d: held out only


def test_the_held_out_loss_is_due_every_n_steps_and_after_the_last():
    due = [s for s in range(1, 8) if train.eval_due(s, 3, 7)]
    assert due == [3, 6, 7]
    assert [s for s in range(1, 8) if train.eval_due(s, 0, 7)] == [7]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"val_docs": [], "eval_every": 1}, "val_docs is empty"),
        ({"val_docs": ["ab"], "eval_every": -1}, "eval_every must"),
        ({"val_docs": ["ab"], "eval_every": 1.5}, "eval_every must"),
    ],
)
def test_bad_validation_settings_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        train.run(
            "numpy",
            ["ab", "ba"],
            CFG,
            TrainConfig(num_steps=1),
            **kwargs,
        )
