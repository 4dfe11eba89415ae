"""The three twins share one API: the same names, signatures and order."""

import inspect

import pytest

from microgpt import gpt_numpy, gpt_scalar, gpt_torch

pytestmark = pytest.mark.numpy

TWINS = (gpt_scalar, gpt_numpy, gpt_torch)

# The shared surface, in the order each twin defines it: a name and the
# parameters every twin takes. A twin may add keyword-only options with
# defaults (torch's device and dtype, the fast twins' packed positions
# and mask), and functions of its own, but nothing else.
SURFACE = [
    ("from_weights", "weights"),
    ("to_weights", "params"),
    ("init_params", "cfg rng"),
    ("flat_params", "params"),
    ("linear", "x w"),
    ("softmax", "logits"),
    ("rmsnorm", "x"),
    ("new_kv_cache", "cfg"),
    ("attention", "q keys values cfg"),
    ("gpt", "token_id pos_id kv_cache params cfg"),
    ("forward", "params tokens cfg"),
    ("batch_loss", "params batch cfg"),
    ("loss_and_grads", "params batch cfg"),
    ("evaluate", "params seqs cfg"),
    ("Adam", "params tcfg"),
    ("train_step", "params opt batch lr cfg"),
    ("top_filter", "probs top_k top_p"),
    ("generate", "params cfg rng temperature"),
]


def line_of(twin, name):
    """Where twin defines name (its own source, not an import)."""
    obj = getattr(twin, name)
    assert obj.__module__ == twin.__name__, f"{twin.__name__}.{name}"
    return inspect.getsourcelines(obj)[1]


@pytest.mark.parametrize("twin", TWINS, ids=lambda t: t.__name__)
def test_every_twin_has_the_shared_names_in_order(twin):
    lines = [line_of(twin, name) for name, _ in SURFACE]
    order = [name for _, name in sorted(zip(lines, (n for n, _ in SURFACE)))]
    assert order == [name for name, _ in SURFACE]


@pytest.mark.parametrize("twin", TWINS, ids=lambda t: t.__name__)
@pytest.mark.parametrize("name, params", SURFACE, ids=[n for n, _ in SURFACE])
def test_every_twin_takes_the_same_parameters(twin, name, params):
    sig = inspect.signature(getattr(twin, name))
    shared = [
        p.name
        for p in sig.parameters.values()
        if p.kind is p.POSITIONAL_OR_KEYWORD
    ]
    assert shared == params.split()
    for p in sig.parameters.values():
        if p.kind is not p.POSITIONAL_OR_KEYWORD:
            assert p.kind is p.KEYWORD_ONLY and p.default is not p.empty, (
                f"{twin.__name__}.{name}: {p}"
            )
            assert p.default is None, f"{twin.__name__}.{name}: {p}"


@pytest.mark.parametrize("twin", TWINS, ids=lambda t: t.__name__)
def test_one_document_is_a_batch_of_one_not_a_second_api(twin):
    # The step API takes a batch in every twin; no one-document copy of
    # it (as doc_loss, loss_and_grads_batch or train_step_batch were)
    # comes back beside it.
    for name in ("doc_loss", "loss_and_grads_batch", "train_step_batch"):
        assert not hasattr(twin, name), f"{twin.__name__}.{name}"


def test_the_twins_return_the_same_kinds(docs):
    """forward gives (logits, cache), the losses floats, Adam a .step."""
    import random

    from microgpt.config import ModelConfig, TrainConfig
    from microgpt.data import Tokenizer

    tok = Tokenizer.from_docs(docs)
    cfg = ModelConfig(
        vocab_size=tok.vocab_size, n_embd=8, n_head=2, block_size=8
    )
    batch = [tok.frame(d) for d in docs[:3]]
    for twin in TWINS:
        params = twin.init_params(cfg, random.Random(0))
        out = twin.forward(params, batch[0][:-1], cfg)
        assert isinstance(out, tuple) and len(out) == 2, twin.__name__
        assert len(out[0]) == len(batch[0]) - 1
        for loss in (
            twin.loss_and_grads(params, batch[:1], cfg)[0],
            twin.loss_and_grads(params, batch, cfg)[0],
            twin.evaluate(params, batch, cfg),
        ):
            assert type(loss) is float, twin.__name__
        opt = twin.Adam(params, TrainConfig())
        for step_batch in (batch[:1], batch):  # one document, and three
            loss = twin.train_step(params, opt, step_batch, 0.01, cfg)
            assert type(loss) is float, twin.__name__
        ids = twin.generate(params, cfg, random.Random(0), 1.0)
        assert all(type(i) is int for i in ids), twin.__name__


def test_the_model_imports_neither_the_benchmark_nor_the_course():
    import subprocess
    import sys

    code = (
        "import sys, microgpt.gpt_scalar, microgpt.gpt_numpy, "
        "microgpt.gpt_torch, microgpt.train, microgpt.checkpoint, "
        "microgpt.cli, microgpt.commands; print(sorted(m for m in "
        "sys.modules if m.startswith(('microgpt.bench', "
        "'microgpt.course', 'microgpt.figures', 'matplotlib'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.strip() == "[]"
