"""The check of the capstone: the reader's whole microgpt, from seed 42.

The answer is one function, ``microgpt(docs, rng, steps, num_samples)``:
it shuffles ``docs`` with ``rng``, builds its tokenizer, draws the
initial weights, trains for ``steps`` steps of the original's 1000-step
schedule and samples ``num_samples`` names; it returns ``(losses,
names)``. While it runs, every function of the package's model (the
Value engine, the three twins' building blocks, the tokenizer, the
training loop) is turned off, so that only the reader's code answers.

The losses are compared, step by step, with the original program's
recorded run (``original_run.json`` beside this package) within a
relative tolerance of ``TOL``. The names are compared with the recorded
20 after the full 1000 steps; after fewer steps no run was recorded, and
the package's NumPy twin, trained as far and sampled from the same
stream, stands in for it.
"""

import json
import random
import types
from importlib import resources

from ... import data, engine, gpt_numpy, gpt_scalar, params, train
from ... import layers_numpy as layers
from ...config import ModelConfig, SampleConfig, TrainConfig
from . import CheckFailed, check_close, passed
from .exercise import exercise

# The number of steps the chapter checks: few, since every ten steps of
# the pure-Python model take seconds.
STEPS = 30
# The relative tolerance on each loss, far above the drift that rounding
# alone was measured to cause (below 1e-15).
TOL = 1e-9


def recorded():
    """The original's run: {"loss_per_step": [float], "samples": [str]}."""
    path = resources.files("microgpt.course") / "original_run.json"
    run = json.loads(path.read_text(encoding="utf-8"))
    return {
        "loss_per_step": [float(x) for x in run["loss_per_step"]],
        "samples": list(run["samples"]),
    }


def _model_functions():
    """Every plain function and method of the package's model."""
    out = []
    for module in (engine, params, gpt_scalar, layers, gpt_numpy, train, data):
        for obj in vars(module).values():
            inside = [obj]
            if isinstance(obj, type) and obj.__module__ == module.__name__:
                inside = list(vars(obj).values())
            for fn in inside:
                fn = getattr(fn, "__func__", fn)  # class methods
                fn = getattr(fn, "fget", fn)  # properties
                if (
                    isinstance(fn, types.FunctionType)
                    and fn.__module__ == module.__name__
                    and not fn.__code__.co_freevars
                    and fn.__name__ != "load_docs"
                ):
                    out.append(fn)
    return out


def _reference_names(docs, steps, num_samples):
    """The NumPy twin's names after `steps` steps of the seed-42 run."""
    cfg, tcfg = ModelConfig(), TrainConfig()
    rng, docs, tok = train.prepare(docs, tcfg.seed)
    model = gpt_numpy.init_params(cfg, rng)
    opt = gpt_numpy.Adam(model, tcfg)
    for s in range(steps):
        gpt_numpy.train_step(
            model, opt, [tok.frame(docs[s])], train.lr_at(s, tcfg), cfg
        )
    temperature = SampleConfig().temperature
    return train.sample(
        gpt_numpy, model, tok, cfg, rng, temperature, num_samples
    )


def _no_eps_rmsnorm(x):
    ms = sum(xi * xi for xi in x) / len(x)
    return [xi * ms**-0.5 for xi in x]


def _unscaled(attention):
    # q times sqrt(d_head) cancels the division inside attention;
    # with d_head = 4 both are exact, so this is the unscaled model.
    return lambda q, keys, values, cfg: attention(
        [qi * cfg.head_dim**0.5 for qi in q], keys, values, cfg
    )


def _losses_with(docs, steps, kind):
    """The first losses of the scalar twin with one mistake made."""
    cfg, tcfg = ModelConfig(), TrainConfig()
    lr0, n = tcfg.learning_rate, tcfg.num_steps
    rng = random.Random(tcfg.seed)
    docs = list(docs)
    if kind != "unshuffled":
        rng.shuffle(docs)
    tok = data.Tokenizer.from_docs(docs)
    model = gpt_scalar.init_params(cfg, rng)
    opt = gpt_scalar.Adam(model, tcfg)
    patch = {
        "rmsnorm": _no_eps_rmsnorm,
        "attention": _unscaled(gpt_scalar.attention),
    }.get(kind)
    saved = getattr(gpt_scalar, kind) if patch else None
    losses = []
    try:
        if patch:
            setattr(gpt_scalar, kind, patch)
        for s in range(steps):
            tokens = tok.frame(docs[s])
            tokens = {
                "no start BOS": tokens[1:],
                "no end BOS": tokens[:-1],
            }.get(kind, tokens)
            lr = {"lr + 1": lr0 * (1 - (s + 1) / n), "lr constant": lr0}.get(
                kind, lr0 * (1 - s / n)
            )
            loss = gpt_scalar.batch_loss(model, [tokens], cfg)
            loss.backward()
            losses.append(loss.data)
            if kind == "betas swapped":
                opt.beta1, opt.beta2 = tcfg.beta2, tcfg.beta1
            if kind == "no correction":
                # beta ** t underflows to 0 for so large a t, so
                # the step divides m and v by exactly 1.
                opt.t = 10**6
            opt.step(lr)
    finally:
        if patch:
            setattr(gpt_scalar, kind, saved)
    return losses


# The typical mistakes, by what the answer did: each one's kind.
_BEFORE_ANY_UPDATE = {
    "attention scores not divided by the square root of d_head": "attention",
    "rmsnorm without its epsilon": "rmsnorm",
    "names without BOS at the start": "no start BOS",
    "names without BOS at the end": "no end BOS",
    (
        "the names not shuffled (or shuffled after the initial draws)"
    ): "unshuffled",
}
_AFTER_UPDATES = {
    "a learning-rate decay off by one step (1 - (step + 1) / 1000)": "lr + 1",
    "a constant learning rate": "lr constant",
    (
        "Adam without bias correction (m and v in place of m_hat and v_hat)"
    ): "no correction",
    "Adam's two betas swapped": "betas swapped",
}


def _where_to_look(step):
    if step == 1:
        return (
            "; the loss before any update differs: look at the "
            "shuffle, the tokenizer, the initial draws (their order "
            "and standard deviation), the forward pass and the loss"
        )
    return (
        "; the losses agree up to here, so the forward pass is "
        "right: look at the backward pass, Adam and the learning "
        "rate"
    )


def _compare_losses(losses, expected, docs):
    step = next(
        (
            i
            for i, (a, b) in enumerate(zip(losses, expected))
            if not abs(a - b) <= TOL * max(1.0, abs(b))
        ),
        None,
    )
    if step is None:
        return
    k = step + 1
    # Each typical mistake parts from the original at step 1 (the
    # forward pass) or at step 2 or 3 (an update): only then is it worth
    # the few scalar steps it costs to see whether the answer made it.
    mistakes = {}
    if k <= 3:
        for name, m in (
            _BEFORE_ANY_UPDATE if k == 1 else _AFTER_UPDATES
        ).items():
            mistakes[name] = _losses_with(docs, k, m)
    try:
        check_close(
            "loss",
            losses[:k],
            expected[:k],
            TOL,
            axes=("step",),
            first=1,
            mistakes=mistakes,
        )
    except CheckFailed as e:
        if e.mistake is not None:
            raise
        raise CheckFailed(f"{e}{_where_to_look(k)}") from None


def _as_float(x):
    return float(getattr(x, "data", x))


@exercise(1, points=5, forbids=(*_model_functions(), _reference_names))
def check_capstone(microgpt, steps=STEPS):
    """microgpt(docs, rng, steps, num_samples) -> (losses, names).

    Compares the first `steps` losses with the original's record (all
    1000 with steps=1000) and the 20 names that follow them.
    """
    if not 1 <= steps <= 1000:
        raise ValueError(f"steps must be 1 to 1000, got {steps}")
    docs = data.load_docs()
    run = recorded()
    out = microgpt(list(docs), random.Random(42), steps, 20)
    if not isinstance(out, tuple) or len(out) != 2:
        raise CheckFailed(
            "microgpt must return a tuple (losses, names), "
            f"got {type(out).__name__}"
        )
    losses, names = [_as_float(x) for x in out[0]], list(out[1])
    if len(losses) != steps:
        raise CheckFailed(
            f"microgpt returned {len(losses)} losses for "
            f"{steps} steps, expected one per step"
        )
    _compare_losses(losses, run["loss_per_step"][:steps], docs)
    if steps == 1000:
        expected, whose = run["samples"], "the original's"
    else:
        expected = _reference_names(docs, steps, 20)
        whose = f"the package's after {steps} steps"
    if len(names) != len(expected):
        raise CheckFailed(
            f"microgpt returned {len(names)} names, expected {len(expected)}"
        )
    for i, (a, b) in enumerate(zip(names, expected), start=1):
        if a != b:
            raise CheckFailed(
                f"name {i}: got {a!r}, expected {b!r} ({whose}); the "
                "losses match, so the model is right: look at sampling "
                "(temperature 0.5, one draw per position with "
                "rng.choices, a stop at BOS or after 16 positions, and "
                "the stream: shuffle, initial draws, then the names)"
            )
    passed(f"microgpt ({steps} of 1000 steps, and 20 names)")
