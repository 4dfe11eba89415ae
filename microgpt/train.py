"""The training run, shared by all three implementations.

One random stream drives everything, in the original's order: shuffle the
documents, draw the initial weights, then draw the samples. So one seed
gives every implementation the same model, documents and names.
"""

import importlib
import math
import random
from dataclasses import dataclass, field, replace

IMPLS = ("scalar", "numpy", "torch")


def get_impl(name):
    """The module gpt_<name> of this package."""
    if name not in IMPLS:
        raise ValueError(f"unknown implementation {name!r}; "
                         f"choose one of {', '.join(IMPLS)}")
    return importlib.import_module(f"microgpt.gpt_{name}")


def lr_at(step, tcfg):
    """Linear decay from learning_rate at step 0 towards 0 at the end."""
    return tcfg.learning_rate * (1 - step / tcfg.num_steps)


def prepare(docs, seed):
    """The run's random stream, its shuffled copy of docs and tokenizer."""
    from .data import Tokenizer

    rng = random.Random(seed)
    docs = list(docs)
    rng.shuffle(docs)
    return rng, docs, Tokenizer.from_docs(docs)


def train(impl, params, docs, tokenizer, cfg, tcfg, on_step=None):
    """Train params in place for tcfg.num_steps; returns the losses.

    Step s uses document s (mod len(docs)), or with batch_size B the B
    documents that follow. on_step(step, loss) is called after each step.
    """
    opt = impl.Adam(params, tcfg)
    losses = []
    B = tcfg.batch_size
    for step in range(tcfg.num_steps):
        lr = lr_at(step, tcfg)
        try:
            if B == 1:
                tokens = tokenizer.frame(docs[step % len(docs)])
                loss = impl.train_step(params, opt, tokens, lr, cfg)
            else:
                batch = [tokenizer.frame(docs[(step * B + b) % len(docs)])
                         for b in range(B)]
                loss = impl.train_step_batch(params, opt, batch, lr, cfg)
        except ArithmeticError:
            # Where the array twins give inf or nan, the scalar twin
            # raises (exp overflows, log of 0): the run has diverged.
            loss = math.nan
        if not math.isfinite(loss):
            raise ValueError(f"training diverged at step {step + 1}: the "
                             f"loss is {loss}; try a lower learning rate")
        losses.append(loss)
        if on_step is not None:
            on_step(step + 1, loss)
    return losses


def evaluate(impl, params, docs, tokenizer, cfg):
    """impl.evaluate on docs given as text: mean loss per prediction."""
    return impl.evaluate(params, [tokenizer.frame(d) for d in docs], cfg)


def check_eval_every(eval_every):
    """Raise ValueError unless eval_every is an int >= 0."""
    if isinstance(eval_every, bool) or not isinstance(eval_every, int) \
            or eval_every < 0:
        raise ValueError(f"eval_every must be a whole number of steps "
                         f"(0: only before and after training), got "
                         f"{eval_every!r}")


def sample(impl, params, tokenizer, cfg, rng, temperature, num_samples,
           *, top_k=None, top_p=None):
    """num_samples names drawn from the model with rng.

    top_k and top_p, when given, filter each draw (see generate).
    """
    return [tokenizer.decode(impl.generate(params, cfg, rng, temperature,
                                           top_k=top_k, top_p=top_p))
            for _ in range(num_samples)]


@dataclass
class Run:
    """What a training run leaves behind."""

    params: object          # the implementation's state dict
    tokenizer: object
    model_config: object
    losses: list
    samples: list
    val_losses: list = field(default_factory=list)  # (step, loss) pairs


def run(impl_name, docs, cfg, tcfg, on_step=None, on_trained=None,
        val_docs=None, eval_every=0, on_eval=None, **impl_kwargs):
    """The original program: shuffle, init, train, then sample.

    on_trained(params, tokenizer, cfg), if given, is called between the
    training and the sampling: the command line saves the model there,
    so that nothing the sampling does can lose it.

    With val_docs (held-out documents, see data.split_docs), the mean
    loss per prediction on them is measured before training, every
    eval_every steps (0: never in between) and after the last step; each
    is passed to on_eval(step, loss) and kept in Run.val_losses. The
    measurement draws no random numbers, so the training is unchanged.
    """
    # impl_name may be an implementation itself, such as the
    # data-parallel one (see distributed), which stands in for a module.
    impl = get_impl(impl_name) if isinstance(impl_name, str) \
        else impl_name
    check_eval_every(eval_every)
    rng, docs, tokenizer = prepare(docs, tcfg.seed)
    if val_docs is not None:
        if not val_docs:
            raise ValueError("val_docs is empty: hold out at least one")
        # The vocabulary of all the documents, so that a character
        # seen only in a held-out one can still be encoded.
        from .data import Tokenizer
        tokenizer = Tokenizer.from_docs(list(docs) + list(val_docs))
    if cfg.vocab_size != tokenizer.vocab_size:
        cfg = replace(cfg, vocab_size=tokenizer.vocab_size)
    params = impl.init_params(cfg, rng, **impl_kwargs)
    val_losses = []
    if val_docs is not None:
        on_step = _with_evaluation(impl, params, val_docs, tokenizer, cfg,
                                   tcfg.num_steps, eval_every, on_step,
                                   on_eval, val_losses)
    losses = train(impl, params, docs, tokenizer, cfg, tcfg, on_step)
    if on_trained is not None:
        on_trained(params, tokenizer, cfg)
    # The filters are passed only when set: without them, sample gets
    # its plain arguments and draws every token as the original does.
    filters = {name: getattr(tcfg, name) for name in ("top_k", "top_p")
               if getattr(tcfg, name) is not None}
    samples = sample(impl, params, tokenizer, cfg, rng, tcfg.temperature,
                     tcfg.num_samples, **filters)
    return Run(params, tokenizer, cfg, losses, samples, val_losses)


def _with_evaluation(impl, params, val_docs, tokenizer, cfg, num_steps,
                     eval_every, on_step, on_eval, val_losses):
    """on_step, plus a held-out evaluation at step 0, N, 2N, ... and last.

    Measures step 0 at once; appends each (step, loss) to val_losses.
    """
    framed = [tokenizer.frame(d) for d in val_docs]

    def measure(step):
        loss = impl.evaluate(params, framed, cfg)
        val_losses.append((step, loss))
        if on_eval is not None:
            on_eval(step, loss)

    def step_and_measure(step, loss):
        if on_step is not None:
            on_step(step, loss)
        if step == num_steps or eval_every and step % eval_every == 0:
            measure(step)

    measure(0)
    return step_and_measure
