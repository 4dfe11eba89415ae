"""The training run, shared by all three twins.

One random stream drives everything, in the original's order: shuffle the
documents, draw the initial weights, then draw the samples. So one seed
gives every twin the same model, documents and names.

The loop, train, is a generator: it takes one step each time it is asked
for the next, and hands back that step's loss. Whoever runs it decides,
in plain code after each step, what to do with the loss (show it, log
it, measure the held-out loss). run does so for the whole original
program; the command line does so with a progress bar.
"""

import importlib
import math
import random
from dataclasses import dataclass, field, replace

from .config import SampleConfig
from .data import Tokenizer

TWINS = ("scalar", "numpy", "torch")


class Diverged(ValueError):
    """The training loss became infinite or NaN, so the run cannot go on."""


def get_twin(name):
    """The twin called name: the module gpt_<name> of this package."""
    if name not in TWINS:
        raise ValueError(
            f"unknown twin {name!r}; choose one of {', '.join(TWINS)}"
        )
    return importlib.import_module(f"microgpt.gpt_{name}")


def lr_at(step, tcfg):
    """Linear decay from learning_rate at step 0 towards 0 at the end."""
    return tcfg.learning_rate * (1 - step / tcfg.num_steps)


def prepare(docs, seed, tokenizer=None):
    """The run's random stream, its shuffled copy of docs and tokenizer.

    The tokenizer is built from docs unless one is given, such as one
    that also knows the characters of the held-out documents.
    """
    rng = random.Random(seed)
    docs = list(docs)
    rng.shuffle(docs)
    return rng, docs, tokenizer or Tokenizer.from_docs(docs)


def train(twin, params, docs, tokenizer, cfg, tcfg):
    """Train params in place for tcfg.num_steps, yielding after each step.

    Step s (counted from 1) trains on document s - 1 (mod len(docs)), or
    with batch_size B on the B documents that follow, and then yields
    (s, loss). It raises Diverged if the loss is infinite or NaN.
    """
    opt = twin.Adam(params, tcfg)
    B = tcfg.batch_size
    for step in range(tcfg.num_steps):
        lr = lr_at(step, tcfg)
        try:
            batch = [
                tokenizer.frame(docs[(step * B + b) % len(docs)])
                for b in range(B)
            ]
            loss = twin.train_step(params, opt, batch, lr, cfg)
            loss = float(loss)
        except ArithmeticError:
            # Where the array twins give inf or nan, the scalar twin
            # raises (exp overflows, log of 0): the run has diverged.
            loss = math.nan
        check_finite(step + 1, loss)
        yield step + 1, loss


def check_finite(step, loss):
    """Raise Diverged unless the loss of step (counted from 1) is finite."""
    if not math.isfinite(loss):
        raise Diverged(
            f"training diverged at step {step}: the loss is {loss}; try "
            f"a lower learning rate"
        )


def held_out_loss(twin, params, texts, tokenizer, cfg):
    """The mean loss per prediction of the model on texts, as strings.

    The texts are framed and passed to the twin's evaluate, which takes
    token sequences.
    """
    return twin.evaluate(params, [tokenizer.frame(t) for t in texts], cfg)


def check_eval_every(eval_every):
    """Raise ValueError unless eval_every is an int >= 0."""
    if (
        isinstance(eval_every, bool)
        or not isinstance(eval_every, int)
        or eval_every < 0
    ):
        raise ValueError(
            f"eval_every must be a whole number of steps (0: only "
            f"before and after training), got {eval_every!r}"
        )


def eval_due(step, eval_every, num_steps):
    """True if the held-out loss is measured after this step.

    It is, every eval_every steps (0: never in between) and after the
    last step; the measurement before the first step is the caller's.
    """
    return step == num_steps or bool(eval_every) and step % eval_every == 0


def sample(
    twin,
    params,
    tokenizer,
    cfg,
    rng,
    temperature,
    num_samples,
    *,
    top_k=None,
    top_p=None,
):
    """num_samples names drawn from the model with rng.

    top_k and top_p, when given, filter each draw (see generate).
    """
    # The filters are passed only when set: without them, generate gets
    # its plain arguments and draws every token as the original does.
    filters = {
        name: value
        for name, value in (("top_k", top_k), ("top_p", top_p))
        if value is not None
    }
    return [
        tokenizer.decode(
            twin.generate(params, cfg, rng, temperature, **filters)
        )
        for _ in range(num_samples)
    ]


@dataclass
class Run:
    """What a training run leaves behind."""

    params: object  # the twin's state dict
    tokenizer: object
    model_config: object
    losses: list
    samples: list
    val_losses: list = field(default_factory=list)  # (step, loss) pairs


def run(
    twin,
    docs,
    cfg,
    tcfg,
    sampling=SampleConfig(),
    val_docs=None,
    eval_every=0,
    **device,
):
    """The original program: shuffle, init, train, then sample.

    tcfg says how to train and sampling how to draw the names at the
    end. twin is a twin's name or the twin itself, and device (torch
    only) its device and dtype. With val_docs (held-out documents, see
    data.split_docs), the mean loss per prediction on them is measured
    before training, every eval_every steps (0: never in between) and
    after the last step, and kept in Run.val_losses. The measurement
    draws no random numbers, so the training is unchanged by it.
    """
    twin = get_twin(twin) if isinstance(twin, str) else twin
    check_eval_every(eval_every)
    if val_docs is not None and not val_docs:
        raise ValueError("val_docs is empty: hold out at least one")
    # The vocabulary of all the documents, so that a character seen
    # only in a held-out one can still be encoded.
    tokenizer = Tokenizer.from_docs(list(docs) + list(val_docs or []))
    rng, docs, _ = prepare(docs, tcfg.seed, tokenizer)
    cfg = replace(cfg, vocab_size=tokenizer.vocab_size)
    params = twin.init_params(cfg, rng, **device)
    losses, val_losses = [], []
    if val_docs:
        loss = held_out_loss(twin, params, val_docs, tokenizer, cfg)
        val_losses.append((0, loss))
    for step, loss in train(twin, params, docs, tokenizer, cfg, tcfg):
        losses.append(loss)
        if val_docs and eval_due(step, eval_every, tcfg.num_steps):
            loss = held_out_loss(twin, params, val_docs, tokenizer, cfg)
            val_losses.append((step, loss))
    samples = sample(
        twin,
        params,
        tokenizer,
        cfg,
        rng,
        sampling.temperature,
        sampling.num_samples,
        top_k=sampling.top_k,
        top_p=sampling.top_p,
    )
    return Run(params, tokenizer, cfg, losses, samples, val_losses)


def train_with_snapshots(twin, docs, cfg, tcfg, steps):
    """Train as run does, keeping a copy of the weights after chosen steps.

    Returns the losses of all tcfg.num_steps steps and a dict that maps
    each of steps to the weights (twin.to_weights) after that many
    updates: 0 is the initial model. twin.from_weights turns a snapshot
    back into a model.
    """
    rng, docs, tokenizer = prepare(docs, tcfg.seed)
    params = twin.init_params(cfg, rng)
    wanted = set(steps)
    snapshots = {0: twin.to_weights(params)} if 0 in wanted else {}
    losses = []
    for step, loss in train(twin, params, docs, tokenizer, cfg, tcfg):
        losses.append(loss)
        if step in wanted:
            snapshots[step] = twin.to_weights(params)
    return losses, snapshots
